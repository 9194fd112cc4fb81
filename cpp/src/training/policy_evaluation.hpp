// A policy measured on fresh scramble trajectories by the C++ runtime alone (no torch, no NumPy):
// how often its first choice is the label (top-1) or among its first five (top-5), the mean cross
// entropy, and how often its first choice differs from the weight ranking's, the order a beam
// gives children before any score (so: how often the policy would overrule the weights).
#pragma once

#include <cstdint>

#include "policy/policy.hpp"
#include "training/scramble.hpp"

namespace sailir {

struct PolicyEvaluation {
  std::uint64_t attempts = 0, trajectories = 0, samples = 0;
  double top1 = 0, top5 = 0, loss = 0;  // fractions of samples; mean -log p(label)
  double ranking_top1 = 0;              // the weight ranking's first choice is the label
  double differs_from_ranking = 0;      // the policy's first choice is not the ranking's
  double generate_seconds = 0, score_seconds = 0, ranking_seconds = 0;
};

// Trajectories 0..scrambles-1 of stream `seed` (as `sailir generate` makes them), each sample
// scored by `policy`, which must fit ctx (check_compatible is called). A score tie goes to the
// earlier candidate, as in the beam. Depends on (seed, scrambles), not on `threads`.
PolicyEvaluation evaluate_policy(const FamilyContext& ctx, const Policy& policy, std::uint64_t seed,
                                 std::int64_t scrambles, int threads, const ScrambleOptions& opt = {});

}  // namespace sailir
