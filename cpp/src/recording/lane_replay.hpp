// One probe's replay of a recording, written once for the CPU and the GPU (cuda/probe_replay.cu):
// every lane runs the same instruction stream over its own prime and point, with its values laid
// out structure-of-arrays (entry e of lane l at e * lanes + l), so a warp's loads coalesce.
// It is the arithmetic of Replayer::run (replay.cpp) in Montgomery form; the two must agree bit
// for bit (tests/cpp/test_lane_replay.cpp).
#pragma once

#include <cstdint>

#include "ff/nmod_mont.hpp"

namespace sailir {

// The recording's arrays (recording.hpp) as plain pointers, plus what lanes need beyond them:
// each term's affine template term, each row's seed powers as indices into the lane's table of
// small integers, and where each row's normalized tail lives (rows that are no longer used hand
// their space on, so a lane holds far fewer values than the recording's tails).
struct LaneProgramView {
  std::uint32_t rows = 0, targets = 0, masters = 0, n = 0;
  const std::uint32_t *term_begin, *term_affine, *term_col;
  const std::uint8_t* row_power;  // [rows * n]: seed power - min_power
  const std::uint32_t *row_lead, *used_begin, *used, *tail_begin, *tail_col, *tail_slot;
  const std::uint32_t *target_col, *target_used_begin, *target_used, *master_col;
  const std::uint8_t* target_zero;
};

// One batch's per-lane data. Inputs: the modulus, the template terms' affine coefficients
// c0, c1..cn ([terms * (n + 1)] entries) and the field values of the small integers the seeds
// use, all in Montgomery form. Work: the accumulator (one entry per column, zero on entry and
// left zero) and the tail storage. Output: targets x masters coefficients (canonical residues)
// and a flag set where a pivot vanishes (the probe is degenerate, its output meaningless).
struct LaneData {
  std::uint32_t lanes = 0;  // the stride
  const nmod_mont_t* mod;
  const std::uint64_t *affine, *powers;
  std::uint64_t *acc, *tail, *out;
  std::uint8_t* bad;
};

namespace lane_detail {

SAILIR_HD std::uint64_t& at(std::uint64_t* base, std::uint64_t entry, std::uint32_t lanes, std::uint32_t lane) {
  return base[entry * lanes + lane];
}
SAILIR_HD std::uint64_t get(const std::uint64_t* base, std::uint64_t entry, std::uint32_t lanes, std::uint32_t lane) {
  return base[entry * lanes + lane];
}

// Adds row r's equation at its seed into the accumulator: coefficient c0 + sum_i c_i a_i.
SAILIR_HD void load_row(const LaneProgramView& p, const LaneData& d, const nmod_mont_t& m, std::uint32_t r,
                        std::uint32_t lane) {
  const std::uint32_t L = d.lanes, stride = p.n + 1;
  const std::uint8_t* pw = p.row_power + static_cast<std::uint64_t>(r) * p.n;
  for (std::uint32_t j = p.term_begin[r]; j < p.term_begin[r + 1]; ++j) {
    const std::uint64_t base = static_cast<std::uint64_t>(p.term_affine[j]) * stride;
    std::uint64_t c = get(d.affine, base, L, lane);
    for (std::uint32_t i = 0; i < p.n; ++i)
      c = nmod_mont_add(c, nmod_mont_mul(get(d.affine, base + 1 + i, L, lane), get(d.powers, pw[i], L, lane), m), m);
    std::uint64_t& a = at(d.acc, p.term_col[j], L, lane);
    a = nmod_mont_add(a, c, m);
  }
}

// Subtracts rows used[begin..end) in order, each scaled by the accumulator at its lead. No branch
// on a zero factor: lanes stay in step.
SAILIR_HD void eliminate(const LaneProgramView& p, const LaneData& d, const nmod_mont_t& m, const std::uint32_t* used,
                         std::uint32_t begin, std::uint32_t end, std::uint32_t lane) {
  const std::uint32_t L = d.lanes;
  for (std::uint32_t j = begin; j < end; ++j) {
    const std::uint32_t u = used[j];
    std::uint64_t& lead = at(d.acc, p.row_lead[u], L, lane);
    const std::uint64_t g = nmod_mont_neg(lead, m);
    lead = 0;
    const std::uint64_t slot = std::uint64_t{p.tail_slot[u]} - p.tail_begin[u];  // wraps back when k is added
    for (std::uint32_t k = p.tail_begin[u]; k < p.tail_begin[u + 1]; ++k) {
      std::uint64_t& a = at(d.acc, p.tail_col[k], L, lane);
      a = nmod_mont_add(a, nmod_mont_mul(g, get(d.tail, slot + k, L, lane), m), m);
    }
  }
}

// Normalizes row r at its lead into its tail slots; a vanishing pivot marks the lane bad (its
// row is then scaled by 1 so that the lane still runs the common stream).
SAILIR_HD void store_row(const LaneProgramView& p, const LaneData& d, const nmod_mont_t& m, std::uint32_t r,
                         std::uint32_t lane) {
  const std::uint32_t L = d.lanes;
  std::uint64_t& lead = at(d.acc, p.row_lead[r], L, lane);
  std::uint64_t pivot = lead;
  lead = 0;
  if (pivot == 0) {
    d.bad[lane] = 1;
    pivot = nmod_mont_from(1, m);
  }
  const std::uint64_t inv = nmod_mont_inv(pivot, m);
  const std::uint64_t slot = std::uint64_t{p.tail_slot[r]} - p.tail_begin[r];  // wraps back when k is added
  for (std::uint32_t k = p.tail_begin[r]; k < p.tail_begin[r + 1]; ++k) {
    std::uint64_t& a = at(d.acc, p.tail_col[k], L, lane);
    at(d.tail, slot + k, L, lane) = nmod_mont_mul(inv, a, m);
    a = 0;
  }
}

}  // namespace lane_detail

// The whole replay of one lane: rows, then each target reduced by its rows and read off at the
// masters into out[(t * masters + k) * lanes + lane].
SAILIR_HD void replay_lane(const LaneProgramView& p, const LaneData& d, std::uint32_t lane) {
  using namespace lane_detail;
  const nmod_mont_t m = d.mod[lane];
  const std::uint32_t L = d.lanes;
  d.bad[lane] = 0;
  for (std::uint32_t r = 0; r < p.rows; ++r) {
    load_row(p, d, m, r, lane);
    eliminate(p, d, m, p.used, p.used_begin[r], p.used_begin[r + 1], lane);
    store_row(p, d, m, r, lane);
  }
  const std::uint64_t one = nmod_mont_from(1, m);
  for (std::uint32_t t = 0; t < p.targets; ++t) {
    const std::uint64_t row = static_cast<std::uint64_t>(t) * p.masters;
    if (p.target_zero[t]) {
      for (std::uint32_t k = 0; k < p.masters; ++k) at(d.out, row + k, L, lane) = 0;
      continue;
    }
    at(d.acc, p.target_col[t], L, lane) = one;
    eliminate(p, d, m, p.target_used, p.target_used_begin[t], p.target_used_begin[t + 1], lane);
    for (std::uint32_t k = 0; k < p.masters; ++k) {
      std::uint64_t& a = at(d.acc, p.master_col[k], L, lane);
      at(d.out, row + k, L, lane) = nmod_mont_to(a, m);
      a = 0;
    }
  }
}

}  // namespace sailir
