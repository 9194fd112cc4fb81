// Expert data for self-improvement (expert iteration): the engine reduces training integrals under
// several search settings ("rollouts"); for every job, the path that solved it in the fewest steps
// is replayed through the one reduction state that inference uses, and each of its steps becomes a
// sample labelled with the action that path took. Training on these samples (mixed with scramble
// data) teaches a policy the engine's own best choices; `--ranking policy` then follows them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "training/scramble.hpp"

namespace sailir {

// One search setting.
struct ExpertRollout {
  std::string policy;  // a file, "" for the family's shipped policy, "uniform" or "random"
  std::optional<std::uint64_t> policy_seed;
  BeamRanking ranking = BeamRanking::both;
  int width = 1;
};

struct ExpertStats {
  // Per rollout: path steps summed over the integrals it reduced, and the integrals it could not
  // reduce by the policy alone (an error, or a Laporta fallback: such a path is not used).
  std::vector<std::size_t> rollout_steps, rollout_failures;
  std::vector<double> rollout_seconds;
  std::size_t jobs = 0;          // distinct job integrals met
  std::size_t expert_steps = 0;  // the kept jobs' steps summed
  std::size_t samples = 0;
  std::size_t skipped_samples = 0;  // steps whose substitution table exceeded max_table_rows
};

// Samples of the jobs of `paths` that solved their integral in the fewest steps among the paths'
// jobs of that integral (ties: the earlier path); Laporta fallbacks are never samples. Each kept
// job is one trajectory. A step is a sample only while the state's table has at most
// `max_table_rows` keys (the policy sees the whole table; long carried tables make huge samples),
// but it is always applied, so later steps see the states the path met. Throws
// std::invalid_argument when a path does not replay (a path from another family or basis).
ScrambleBatch path_samples(const FamilyContext& ctx, const std::vector<ReductionPath>& paths,
                           const BeamOptions& beam, std::size_t max_table_rows, ExpertStats& stats);

// Reduces every integral alone under every rollout (the engine's learned method, one worker per
// reduction so that the path does not depend on the schedule; `threads` reductions at once, at
// ctx's prime and the family's point, without symmetries) and returns path_samples of the paths.
ScrambleBatch expert_samples(const Engine& engine, const FamilyContext& ctx, const std::vector<std::string>& integrals,
                             const std::vector<ExpertRollout>& rollouts, int threads, std::size_t max_table_rows,
                             ExpertStats& stats);

}  // namespace sailir
