// Replays a recording at a prime and numeric point: arithmetic only, on buffers sized once, so
// that a probe costs the recording's multiply-adds and little else. One Replayer per thread.
#pragma once

#include <memory>
#include <vector>

#include "family/family_file.hpp"
#include "ff/nmod.hpp"
#include "identities/identity_set.hpp"
#include "identities/symmetric_basis.hpp"
#include "recording/lane_program.hpp"
#include "recording/recording.hpp"

namespace sailir {

class Replayer {
 public:
  Replayer(const FamilyDef& family, const Recording& rec);

  // Coefficients of every target over the masters (row-major, targets x masters) at the symbol
  // values `point` (the family's symbol order) modulo `prime`. False when a pivot vanishes there:
  // the probe is degenerate. `checked` also confirms that the equations keep the recorded
  // structure (no integral beyond a row's recorded columns), at the cost of a second pass; a
  // structure that differs throws RecordingError.
  bool run(u64 prime, const std::vector<u64>& point, std::vector<u64>& out, bool checked = false);

 private:
  void load_row(std::size_t r, const IdentitySet& ids);
  void eliminate(const std::vector<std::uint32_t>& used, std::uint32_t begin, std::uint32_t end);
  bool store_row(std::size_t r);
  void check_clean(const std::vector<std::uint32_t>& used, std::uint32_t begin, std::uint32_t end,
                   const std::uint32_t* cols, std::size_t count) const;

  const FamilyDef& family_;
  const Recording& rec_;
  nmod_t mod_;
  std::vector<u64> acc_;       // dense over columns, zero between rows
  std::vector<u64> tail_val_;  // normalized tails, flat like rec.tail_col
};

// Replays `rec` at every point (each gives every family symbol's value modulo `prime`) on
// `threads` threads, one Replayer each (or, given `lanes`, compiled from `rec`, one LaneReplayer
// each: the GPU's code on the CPU); values[i] stays empty where a pivot vanishes. Returns the
// replay time summed over the threads (the cost on one core), in seconds.
double replay_many(const FamilyDef& family, const Recording& rec, u64 prime, const std::vector<std::vector<u64>>& points,
                   std::vector<std::vector<u64>>& values, int threads, const LaneProgram* lanes = nullptr);

// A recording made with symmetries (user_targets > 0) ends on all masters, its extra targets
// being the masters' images: this stage rewrites the caller's targets onto the masters of unique
// sectors. Null for a recording without one.
std::unique_ptr<SymmetricBasis> symmetric_stage(const FamilyDef& family, const Recording& rec);
// The caller's targets of a recording: all, or its first user_targets.
std::vector<Integral> caller_targets(const Recording& rec);

}  // namespace sailir
