// Self-supervised training data (DESIGN §3): start from a random combination of a sector's
// masters, scramble it with random valid identities, then unscramble it with the canonical
// target of the shared reduction state, labelling each step with a recorded identity that
// eliminates the target. A trajectory is kept only if exactly the start coefficients come back.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "search/reduction_state.hpp"

namespace sailir {

struct ScrambleOptions {
  int min_steps = 5, max_steps = 25;  // scrambling identities per trajectory
  int max_dots = 4;                   // integrals stay within r <= lines + max_dots
  int max_numerators = 4;             // and s <= max_numerators
};

// Samples and trajectories as flat arrays (row-major features; per-sample counts give the
// ragged structure), ready to be handed to NumPy.
struct ScrambleBatch {
  int n = 0;
  // per trajectory
  std::vector<std::int64_t> traj_index;  // attempt index: reproducible from (seed, index)
  std::vector<std::int32_t> traj_sector, traj_scramble_steps, traj_samples;
  // start and scrambled expressions: per trajectory, the start terms then the scrambled terms
  std::vector<std::int32_t> start_terms, scrambled_terms;
  std::vector<std::int8_t> expr_powers;  // n per term
  std::vector<std::uint64_t> expr_coefs;
  // per sample
  std::vector<std::int32_t> n_terms, n_table, n_actions, label, label_op;
  std::vector<std::int8_t> label_seed;  // n per sample
  FeatureRows features;
};

// One labelled sample (state, target, candidates, the label's index; n propagators) appended to
// `out`: the layout every training sample has, scrambled or taken from the engine's paths.
void push_sample(ScrambleBatch& out, const ReductionState& state, const Integral& target,
                 const std::vector<Candidate>& cands, std::size_t label, int n);

// Appends src's trajectories and samples to dst.
void append(ScrambleBatch& dst, const ScrambleBatch& src);

struct ScrambleStats {
  std::uint64_t attempts = 0, kept = 0, stuck = 0, mismatched = 0, samples = 0;

  ScrambleStats& operator+=(const ScrambleStats& o) {
    attempts += o.attempts, kept += o.kept, stuck += o.stuck, mismatched += o.mismatched, samples += o.samples;
    return *this;
  }
};

class ScrambleGenerator {
 public:
  ScrambleGenerator(const FamilyContext& ctx, ScrambleOptions opt);

  // Attempts trajectories first .. first+count-1 of stream `seed` on `threads` threads. The
  // result depends only on (seed, first, count), not on the thread count.
  ScrambleBatch generate(std::uint64_t seed, std::int64_t first, std::int64_t count, int threads,
                         ScrambleStats* stats = nullptr) const;

 private:
  // Appends the trajectory of attempt `index` to out if it unscrambles exactly.
  void attempt(std::uint64_t seed, std::int64_t index, ScrambleBatch& out, ScrambleStats& stats) const;

  const FamilyContext& ctx_;
  ScrambleOptions opt_;
};

}  // namespace sailir
