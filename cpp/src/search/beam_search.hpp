// Beam search for one one-step job: express an integral through integrals of its sector that are
// strictly lower in the Laporta order (r, s, then the tie-break), plus anything in its
// subsectors, by applying identities that the policy ranks. States are deduplicated by a content
// hash of their expression; scores are summed log-probabilities. Children are ranked by the
// weight they leave: the highest integral (max), the summed weights of the sector's non-masters
// (total), or the first then the second (both); equal weights by score, so the policy decides
// among equally good moves.
//
// Seeds are bounded as a Laporta system's are (BeamOptions::seed_*_extra). Within such a region a
// search cannot fail by a bad choice: every eliminated integral stays eliminated (it becomes a
// table key) and the region holds finitely many, so the search ends; and if the region's
// identities express the integral through lower ones, the highest integral left can always be
// eliminated (some identity of the region must contain it after substitution, or it could not
// cancel). So the width buys shorter paths, not success; a failure means the region is too small.
#pragma once

#include <atomic>
#include <functional>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "algebra/expression.hpp"
#include "memory/meter.hpp"
#include "policy/policy.hpp"
#include "search/reduction_state.hpp"

namespace sailir {

// How a step's candidates are ordered: by the weight they leave (the highest integral, the summed
// weight, or both), the policy breaking ties; or (`policy`) by the policy's scores alone, the weight
// rules acting only as constraints (candidates stay in the job's region, and a job ends below its
// integral), so that a better policy means a shorter path. `automatic` (the default): `policy` for
// a policy that ranks alone (Policy::ranks_alone), else `both`.
enum class BeamRanking { max_weight, total_weight, both, policy, automatic };
BeamRanking parse_beam_ranking(const std::string& name);  // throws std::invalid_argument

struct BeamOptions {
  int width = 1;  // any width succeeds in a region that suffices; wider beams find shorter paths
  BeamRanking ranking = BeamRanking::automatic;
  int tied_targets = 1;  // how many non-masters tied at the top weight level are tried as targets
  int max_steps = 1000;  // a job not solved within this many steps has failed
  int patience = 0;      // ... as has one whose highest integral did not come down for this many steps (0: off)
  // Seeds are bounded by the job integral's r and s plus these (negative: unbounded), as a
  // Laporta system's are. Within a region where the integral is reducible, every search succeeds.
  int seed_r_extra = 0, seed_s_extra = 0;
  // The worker's memory meter (may be null). Past its budget the search streams its candidates
  // instead of caching resolved equations (same path, more time); a job whose own table still
  // exceeds the budget fails with JobFailure::memory.
  MemoryMeter* meter = nullptr;
  const std::atomic<bool>* stop = nullptr;  // set: the search ends at its next step (interrupted)
  // Raw policy scores of a step's batch, when set: a stage that scores several workers' steps in
  // one forward pass (scheduler/score_batcher.hpp). Unset: the policy scores it here.
  std::function<void(const PolicyBatch&, std::vector<float>&)> logits;
};

// One applied identity: template `action.op` at `action.seed`, solved for `target`.
struct PathStep {
  Integral target;
  Action action;
};

struct BeamStats {
  std::size_t steps = 0, policy_calls = 0, states_expanded = 0;
  std::size_t streamed_steps = 0;  // steps taken streaming candidates (at the memory budget)
};

// Why a search ended unsolved: the cure differs. No action left means the seed region is too
// small; the step limit means the search was still going (a wider region would only lengthen it).
enum class JobFailure { none, no_action, step_limit, no_progress, memory, interrupted };

struct JobOutcome {
  bool solved = false;
  JobFailure why = JobFailure::none;
  Expression value;              // the integral's value when solved (lower integrals and subsectors)
  std::vector<PathStep> steps;   // the winning state's steps, replayable without the policy
  BeamStats stats;
  std::string failure;           // why not solved
};

// `warm` (width 1 only; may be null): a state left by an earlier job of the same sector. The job
// continues from its table (x expressed through it) and leaves its own final state there.
JobOutcome beam_reduce(const FamilyContext& ctx, const Policy& policy, const Integral& x, const BeamOptions& opt,
                       std::optional<ReductionState>* warm = nullptr);

// Replays `steps` for x without a policy; false (with `why`) when a step is not valid here.
// `warm` as for beam_reduce: the final state of the job this one continued (consumed), replaced
// by this job's final state.
bool replay_job(const FamilyContext& ctx, const Integral& x, const std::vector<PathStep>& steps, Expression& value,
                std::string& why, std::optional<ReductionState>* warm = nullptr);

// True when every same-sector non-master of e lies below x in the Laporta order.
bool job_done(const FamilyContext& ctx, const Integral& x, const Expression& e);

// The index of the candidate that the weight ranking alone puts first, as a width-1 beam ranks
// children before any score: the lightest under `ranking` (weights of the target's sector), the
// first in candidate order among equally light ones. cands must not be empty.
std::size_t lightest_candidate(const FamilyContext& ctx, const ReductionState& s, const Integral& target,
                               const std::vector<Candidate>& cands, BeamRanking ranking = BeamRanking::both);

}  // namespace sailir
