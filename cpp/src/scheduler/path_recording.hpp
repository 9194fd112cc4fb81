// A learned reduction path recorded: each step is an identity at a seed solved for its target, so
// the path's steps are the equations of a recording, in the order the search applied them. Laporta
// fallback jobs contribute the equations their Laporta reduction solved.
#pragma once

#include <functional>
#include <optional>

#include "laporta/laporta_recording.hpp"
#include "scheduler/reduction_path.hpp"

namespace sailir {

// Records `path` at (prime, point) onto its masters. Throws RecordingError when the path's
// equations do not reduce its targets there.
RecordedReduction record_path(const FamilyDef& family, const NumericPoint& point, u64 prime, const ReductionPath& path);

// `rec` recorded once more at (prime, point) from its own equations, in its order, each row's
// pivot chosen afresh there: for fixed values where one of its pivots vanishes although the
// reduction itself does not degenerate. Throws RecordingError when its equations do not reduce
// the targets there.
Recording record_again(const FamilyDef& family, const Recording& rec, const NumericPoint& point, u64 prime);

// `rec` when `replays(rec)`; else `rec` recorded again at (prime, point), kept in `again`, when
// that one replays; null when neither does. Recordings are made at random points, so the point a
// caller replays at can make a pivot vanish where the reduction itself is fine (box2l at s12=5,
// s23=7): the numeric replay and the exact one both go through here.
const Recording* replayable(const FamilyDef& family, const Recording& rec, const NumericPoint& point, u64 prime,
                            const std::function<bool(const Recording&)>& replays, std::optional<Recording>& again);

}  // namespace sailir
