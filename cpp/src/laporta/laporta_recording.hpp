// A Laporta reduction recorded: the reducer runs once at (prime, point) keeping every equation it
// solves, and the recorder keeps those the targets need (recording/recorder.hpp).
#pragma once

#include <vector>

#include "laporta/laporta.hpp"
#include "recording/recording.hpp"

namespace sailir {

// The identities a Recorder works with: at `point` modulo `prime`, and at the same point modulo
// another prime, so that a coefficient vanishing modulo one prime only is told from a real zero.
struct RecorderIdentities {
  RecorderIdentities(const FamilyDef& family, const NumericPoint& point, u64 prime);
  IdentitySet ids, other;
};

struct RecordedReduction {
  Recording recording;
  std::vector<std::vector<u64>> values;  // targets x masters at the recording's prime and point
  LaportaStats stats;
  double reduce_seconds = 0, record_seconds = 0;
};

// Throws UnreducedError like LaportaReducer::reduce, and RecordingError when the point is not
// generic or the recording disagrees with the reduction it came from.
RecordedReduction record_laporta(const FamilyDef& family, const NumericPoint& point, u64 prime,
                                 const std::vector<Integral>& preferred, const std::vector<Integral>& targets,
                                 const LaportaOptions& options);

}  // namespace sailir
