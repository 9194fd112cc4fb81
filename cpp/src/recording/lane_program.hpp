// A recording compiled for lane-parallel replay (lane_replay.hpp): learned once per recording,
// then every probe only packs its own inputs (the identities' coefficients at its prime and
// point) and runs the common instruction stream. The CPU runs it lane by lane (LaneReplayer), a
// GPU thousands of lanes per launch (cuda/probe_replay.cuh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "family/family_file.hpp"
#include "ff/nmod.hpp"
#include "recording/lane_replay.hpp"
#include "recording/recording.hpp"

namespace sailir {

struct LaneProgram {
  const Recording* rec = nullptr;  // the arrays the view points into; must outlive the program
  std::uint32_t n = 0;
  std::uint32_t affine_terms = 0;  // template terms over all identities
  std::int32_t min_power = 0;      // seed powers span min_power .. min_power + powers - 1
  std::uint32_t powers = 0;
  std::uint32_t tail_slots = 0;    // tail values a lane holds at once (rows' storage reused)
  std::vector<std::uint32_t> term_affine, tail_slot;
  std::vector<std::uint8_t> row_power;

  std::uint32_t columns() const { return static_cast<std::uint32_t>(rec->columns.size()); }
  std::uint32_t outputs() const { return static_cast<std::uint32_t>(rec->targets.size() * rec->masters.size()); }
  std::uint64_t affine_entries() const { return std::uint64_t(affine_terms) * (n + 1); }
  // Bytes one lane needs: inputs, accumulator, tails and outputs.
  std::size_t lane_bytes() const;
  LaneProgramView view() const;
};

// Null when an identity's coefficient is not affine in the seed powers (the lanes evaluate
// c0 + sum_i c_i a_i only); such recordings replay on the CPU through Replayer.
std::optional<LaneProgram> compile_lanes(const FamilyDef& family, const Recording& rec);

// Host buffers of one batch's inputs, structure-of-arrays with stride `lanes` (lane_replay.hpp).
struct LaneInputsView {
  std::uint32_t lanes = 0;
  nmod_mont_t* mod;
  std::uint64_t *affine, *powers;
};

// Writes lane `lane`'s inputs: the identities compiled at `point` (every family symbol's value)
// modulo `prime`. False when they cannot be compiled there (a value's denominator vanishes).
bool pack_lane(const FamilyDef& family, const LaneProgram& prog, u64 prime, const std::vector<u64>& point,
               const LaneInputsView& in, std::uint32_t lane);

// The lane program on the CPU, one probe at a time on buffers sized once: the reference the GPU
// must match, and a CPU backend in its own right. One per thread.
class LaneReplayer {
 public:
  LaneReplayer(const FamilyDef& family, const LaneProgram& prog);
  // Like Replayer::run: targets x masters coefficients, false where a pivot vanishes.
  bool run(u64 prime, const std::vector<u64>& point, std::vector<u64>& out);

 private:
  const FamilyDef& family_;
  const LaneProgram& prog_;
  nmod_mont_t mod_;
  std::vector<std::uint64_t> affine_, powers_, acc_, tail_, out_;
  std::uint8_t bad_ = 0;
};

}  // namespace sailir
