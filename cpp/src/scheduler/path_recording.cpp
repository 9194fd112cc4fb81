#include "scheduler/path_recording.hpp"

#include <chrono>

#include "recording/recorder.hpp"

namespace sailir {

RecordedReduction record_path(const FamilyDef& family, const NumericPoint& point, u64 prime, const ReductionPath& path) {
  const auto t0 = std::chrono::steady_clock::now();
  RecordedReduction out;
  const nmod_t mod{prime}, other_mod{prime == kCheckPrimes[3] ? kCheckPrimes[2] : kCheckPrimes[3]};
  const IdentitySet ids(family, point_in_field(point, mod), mod);
  const IdentitySet other(family, point_in_field(point, other_mod), other_mod);
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
  Recorder recorder(ids, other, order, [&](SectorId s) { return laporta.is_zero_sector(s); }, path.masters);
  for (const PathJob& job : path.jobs)
    for (const PathStep& step : job.steps) recorder.add(step.action.op, step.action.seed, step.target);
  for (const RowOrigin& row : laporta.needed_rows(fallback)) recorder.add(row.templ, row.seed, row.lead);
  out.recording = recorder.finish(path.targets, path.masters, out.values);
  Recording& rec = out.recording;
  rec.family = family.name;
  rec.family_hash = family.hash;
  rec.method = "learned";
  rec.prime = prime;
  rec.point = point;
  out.record_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace sailir
