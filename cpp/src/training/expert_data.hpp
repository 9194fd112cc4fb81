// Expert data for self-improvement (expert iteration). The engine reduces training integrals with
// a base search setting; at every job of those paths, each other search setting ("rollout")
// solves the same job again from the same state (the table the job carried). The fewest steps
// win, and the winner's steps, replayed through the one reduction state that inference uses,
// become samples labelled with the action taken. Training on them (mixed with scramble data)
// teaches a policy the engine's own best choices; `--ranking policy` then follows them.
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
  // Per rollout, over the base paths' jobs: steps summed (the base: its own; the others: their
  // searches from the same states), the jobs it did not solve (the base: integrals it could not
  // reduce by the policy alone, whose paths are not used), and its search time.
  std::vector<std::size_t> rollout_steps, rollout_failures;
  std::vector<double> rollout_seconds;
  std::size_t jobs = 0;          // jobs compared
  std::size_t expert_steps = 0;  // the winners' steps summed
  std::size_t samples = 0;
  std::size_t skipped_samples = 0;  // steps whose substitution table exceeded max_table_rows

  ExpertStats& operator+=(const ExpertStats& o);  // sums, rollout by rollout
};

// A rollout ready to search: its policy and its beam options (width 1: a job continues a table).
struct JobSearch {
  const Policy* policy;
  BeamOptions beam;
};

// Samples of the jobs of `paths`, each solved again by every `alternatives` search from the state
// the path's job started from; the fewest steps win (ties: the path's own). Laporta fallbacks are
// skipped. Each job is one trajectory. A step is a sample only while the state's table has at most
// `max_table_rows` keys (the policy sees the whole table; long carried tables make huge samples).
// `beam` bounds the path's own seeds as its search did. stats.rollout_* get one entry for the
// paths and one per alternative. Throws std::invalid_argument when a path does not replay (a path
// from another family or basis).
ScrambleBatch path_samples(const FamilyContext& ctx, const std::vector<ReductionPath>& paths,
                           const std::vector<JobSearch>& alternatives, const BeamOptions& beam,
                           std::size_t max_table_rows, ExpertStats& stats);

// Reduces every integral alone with the first rollout (the engine's learned method at ctx's prime,
// the family's point, without symmetries; one worker per reduction so that the path does not
// depend on the schedule, `threads` reductions at once) and returns path_samples of the paths with
// the other rollouts as alternatives.
ScrambleBatch expert_samples(const Engine& engine, const FamilyContext& ctx, const std::vector<std::string>& integrals,
                             const std::vector<ExpertRollout>& rollouts, int threads, std::size_t max_table_rows,
                             ExpertStats& stats);

}  // namespace sailir
