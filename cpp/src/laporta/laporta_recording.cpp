#include "laporta/laporta_recording.hpp"

#include <algorithm>
#include <chrono>

#include "laporta/checked_reduction.hpp"
#include "recording/recorder.hpp"

namespace sailir {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The reducer's coefficients, dense, must equal the recording's own at the same point.
void check_same(const std::vector<std::vector<std::pair<int, u64>>>& coefs, const std::vector<std::vector<u64>>& values) {
  for (std::size_t t = 0; t < coefs.size(); ++t) {
    std::vector<u64> dense(values[t].size(), 0);
    for (auto [m, v] : coefs[t]) dense[m] = v;
    if (dense != values[t]) throw RecordingError("the recording disagrees with the reduction it was made from (target " + std::to_string(t) + ")");
  }
}

}  // namespace

RecorderIdentities::RecorderIdentities(const FamilyDef& family, const NumericPoint& point, u64 prime)
    : ids(family, point_in_field(point, nmod_t{prime}), nmod_t{prime}),
      other(family, point_in_field(point, nmod_t{next_check_prime(prime, 0)}), nmod_t{next_check_prime(prime, 0)}) {}

RecordedReduction record_laporta(const FamilyDef& family, const NumericPoint& point, u64 prime,
                                 const std::vector<Integral>& preferred, const std::vector<Integral>& targets,
                                 const LaportaOptions& options) {
  RecordedReduction out;
  auto t0 = std::chrono::steady_clock::now();
  // The reducer's own systems are freed before the recorder starts: only its equations, zero
  // sectors, masters and coefficients are kept.
  std::vector<RowOrigin> tape;
  std::vector<char> zero(std::size_t{1} << family.n, 1);
  std::vector<Integral> masters;
  std::vector<std::vector<std::pair<int, u64>>> coefs;
  {
    LaportaReducer reducer(family, point, prime, preferred);
    reducer.record_rows();
    coefs = reducer.reduce(targets, options);
    masters = reducer.masters();
    for (SectorId s : reducer.nonzero_sectors()) zero[s] = 0;
    out.stats = reducer.stats();
    tape = reducer.needed_rows(targets);
  }
  out.reduce_seconds = since(t0);

  t0 = std::chrono::steady_clock::now();
  const RecorderIdentities at(family, point, prime);
  const LaportaOrder order(family.n, preferred);
  // Three orders of elimination (recording/recorder.hpp); the one cheaper to replay is kept: the
  // reducer's own, the same rows in Laporta order (sector by sector: many targets sharing lower
  // sectors favour its short rows), and simplest first, all the way down (tails of masters only:
  // the hardest benchmark integral, 4.1 M multiply-adds per probe against 24 M).
  std::vector<Recorder::Equation> taped;
  for (const RowOrigin& row : tape) taped.push_back({row.templ, row.seed, row.lead});
  struct Variant {
    Recorder::Elimination mode;
    bool bottom_up;
  };
  for (Variant v : {Variant{Recorder::Elimination::creation_order, false}, Variant{Recorder::Elimination::laporta_order, false},
                    Variant{Recorder::Elimination::creation_order, true}}) {
    Recorder recorder(at.ids, at.other, order, [&](SectorId s) { return zero[s] != 0; }, masters, v.mode);
    for (const auto& e : v.bottom_up ? bottom_up(recorder, taped, order) : taped) recorder.add(e.templ, e.seed, e.lead);
    std::vector<std::vector<u64>> values;
    Recording rec;
    try {
      rec = recorder.finish(targets, masters, values);
      check_same(coefs, values);
    } catch (const RecordingError&) {
      if (!v.bottom_up) throw;  // the reducer's own rows in its orders must reproduce it
      continue;                 // the third order is only a candidate
    }
    if (out.recording.rows() == 0 || rec.size().multiply_adds < out.recording.size().multiply_adds) {
      out.recording = std::move(rec);
      out.values = std::move(values);
    }
  }
  out.recording.set_origin(family, "laporta", prime, point);
  out.record_seconds = since(t0);
  return out;
}

}  // namespace sailir
