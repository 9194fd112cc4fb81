#include "scheduler/path_recording.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "laporta/checked_reduction.hpp"
#include "recording/recorder.hpp"

namespace sailir {

namespace {

// The path's equations that the result needs, eliminated once more simplest first, each solved
// for its most complex integral: all the way down (creation order: tails of masters only), and as
// a Laporta system would (sector by sector). A search's steps come in the order of its jobs, and
// their elimination in that order fills in badly (rows reduced by rows of other chains of jobs):
// on the hardest benchmark integral 1.6 G multiply-adds per probe, 87 M sector by sector, 7.0 M
// all the way down. The cheapest that gives the same coefficients is kept.
void compact(const Recorder& first, const std::vector<Recorder::Equation>& all, const IdentitySet& ids,
             const IdentitySet& other, const LaportaOrder& order, const std::function<bool(SectorId)>& is_zero,
             const ReductionPath& path, RecordedReduction& out) {
  for (auto mode : {Recorder::Elimination::creation_order, Recorder::Elimination::laporta_order}) {
    Recorder again(ids, other, order, is_zero, path.masters, mode);
    // All the path's equations: the rows the first order kept need not be the ones another order needs.
    const bool down = mode == Recorder::Elimination::creation_order;
    for (const auto& e : bottom_up(again, down ? all : first.kept_equations(), order)) again.add(e.templ, e.seed, e.lead);
    std::vector<std::vector<u64>> values;
    try {
      Recording rec = again.finish(path.targets, path.masters, values);
      if (values == out.values && rec.size().multiply_adds < out.recording.size().multiply_adds)
        out.recording = std::move(rec);
    } catch (const RecordingError&) {
      // the cheaper recording so far stands
    }
  }
}

}  // namespace

RecordedReduction record_path(const FamilyDef& family, const NumericPoint& point, u64 prime, const ReductionPath& path) {
  const auto t0 = std::chrono::steady_clock::now();
  RecordedReduction out;
  const RecorderIdentities at(family, point, prime);
  const LaportaOrder order(family.n, path.masters);
  LaportaReducer laporta(family, point, prime, path.masters);  // zero sectors, and fallback jobs
  laporta.record_rows();
  if (laporta.masters() != path.masters)
    throw RecordingError("the path's masters are not the basis at this point (" + std::to_string(path.masters.size()) +
                         " against " + std::to_string(laporta.masters().size()) + ")");
  std::vector<Integral> fallback;
  for (const PathJob& job : path.jobs)
    if (job.laporta) fallback.push_back(job.integral);
  if (!fallback.empty()) laporta.reduce(fallback, {});
  Recorder recorder(at.ids, at.other, order, [&](SectorId s) { return laporta.is_zero_sector(s); }, path.masters);
  std::vector<Recorder::Equation> all;
  for (const PathJob& job : path.jobs)
    for (const PathStep& step : job.steps) all.push_back({step.action.op, step.action.seed, step.target});
  for (const RowOrigin& row : laporta.needed_rows(fallback)) all.push_back({row.templ, row.seed, row.lead});
  for (const auto& e : all) recorder.add(e.templ, e.seed, e.lead);
  out.recording = recorder.finish(path.targets, path.masters, out.values);
  compact(recorder, all, at.ids, at.other, order, [&](SectorId s) { return laporta.is_zero_sector(s); }, path, out);
  out.recording.set_origin(family, "learned", prime, point);
  out.record_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Recording record_again(const FamilyDef& family, const Recording& rec, const NumericPoint& point, u64 prime) {
  const RecorderIdentities at(family, point, prime);
  const std::vector<Integral> masters = rec.master_integrals();
  const LaportaOrder order(family.n, masters);
  LaportaReducer zero_test(family, point, prime, masters);  // its zero sectors only (found lazily)
  Recorder recorder(at.ids, at.other, order, [&](SectorId s) { return zero_test.is_zero_sector(s); }, masters);
  for (std::size_t r = 0; r < rec.rows(); ++r)
    recorder.add(rec.row_template[r], rec.row_seed[r], rec.columns[rec.row_lead[r]]);
  std::vector<std::vector<u64>> values;
  Recording out = recorder.finish(rec.target_integrals(), masters, values);
  out.user_targets = rec.user_targets;
  out.set_origin(family, rec.method, prime, point);
  return out;
}

const Recording* replayable(const FamilyDef& family, const Recording& rec, const NumericPoint& point, u64 prime,
                            const std::function<bool(const Recording&)>& replays, std::optional<Recording>& again) {
  if (replays(rec)) return &rec;
  try {
    again = record_again(family, rec, point, prime);
  } catch (const RecordingError&) {  // its equations do not reduce the targets there
    return nullptr;
  }
  return replays(*again) ? &*again : nullptr;
}

}  // namespace sailir
