#include "training/policy_evaluation.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>

#include "search/beam_search.hpp"

namespace sailir {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Per trajectory of a batch: its first sample and its scrambled expression (stored after the
// start expression's terms).
struct Trajectories {
  std::vector<std::size_t> first_sample;
  std::vector<Expression> scrambled;
};

Trajectories trajectories(const ScrambleBatch& b, nmod_t m) {
  Trajectories t;
  const std::size_t n = static_cast<std::size_t>(b.n);
  std::size_t sample = 0, term = 0;
  for (std::size_t i = 0; i < b.traj_samples.size(); ++i) {
    t.first_sample.push_back(sample);
    sample += static_cast<std::size_t>(b.traj_samples[i]);
    term += static_cast<std::size_t>(b.start_terms[i]);
    std::vector<Expression::Entry> entries;
    for (std::int32_t k = 0; k < b.scrambled_terms[i]; ++k, ++term) {
      Integral x;
      std::copy_n(b.expr_powers.begin() + static_cast<std::ptrdiff_t>(term * n), n, x.a.begin());
      entries.emplace_back(x, b.expr_coefs[term]);
    }
    t.scrambled.push_back(Expression::from_terms(entries, m));
  }
  return t;
}

// Replays trajectory i's unscramble as the generator made it (canonical target, its candidates,
// the labelled one applied) and records the weight ranking's first choice at each sample.
void ranking_of(const FamilyContext& ctx, const ScrambleBatch& b, const Trajectories& t, std::size_t i,
                std::vector<std::int32_t>& out) {
  ReductionState state(ctx, t.scrambled[i]);
  const std::size_t first = t.first_sample[i];
  for (std::size_t s = first; s < first + static_cast<std::size_t>(b.traj_samples[i]); ++s) {
    const std::optional<Integral> target = state.target();
    const std::vector<Candidate> cands = target ? state.candidates(*target) : std::vector<Candidate>{};
    if (cands.size() != static_cast<std::size_t>(b.n_actions[s]) || b.label[s] < 0 ||
        static_cast<std::size_t>(b.label[s]) >= cands.size())
      throw std::logic_error("policy evaluation: a replayed unscramble differs from the generator's");
    out[s] = static_cast<std::int32_t>(lightest_candidate(ctx, state, *target, cands));
    state.apply(*target, cands[static_cast<std::size_t>(b.label[s])]);
  }
}

std::vector<std::int32_t> ranking_choices(const FamilyContext& ctx, const ScrambleBatch& b, int threads) {
  const Trajectories t = trajectories(b, ctx.modulus());
  std::vector<std::int32_t> out(b.label.size(), -1);
  const std::size_t parts = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), 1,
                                                    std::max<std::size_t>(t.scrambled.size(), 1));
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(parts);
  auto work = [&](std::size_t w) {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < t.scrambled.size();) ranking_of(ctx, b, t, i, out);
    } catch (...) {
      errors[w] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> pool;  // joined on scope exit
    for (std::size_t w = 1; w < parts; ++w) pool.emplace_back(work, w);
    work(0);
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

// The position of `label` when a sample's scores are sorted, higher first, ties in candidate order.
std::size_t rank_of(const float* x, std::size_t n, std::size_t label) {
  std::size_t r = 0;
  for (std::size_t j = 0; j < n; ++j) r += x[j] > x[label] || (x[j] == x[label] && j < label);
  return r;
}

}  // namespace

PolicyEvaluation evaluate_policy(const FamilyContext& ctx, const Policy& policy, std::uint64_t seed,
                                 std::int64_t scrambles, int threads, const ScrambleOptions& opt) {
  if (scrambles < 1) throw std::invalid_argument("scrambles must be at least 1");
  policy.check_compatible(ctx);
  PolicyEvaluation ev;
  auto t0 = Clock::now();
  ScrambleStats stats;
  ScrambleBatch b = ScrambleGenerator(ctx, opt).generate(seed, 0, scrambles, threads, &stats);
  ev.generate_seconds = since(t0);
  ev.attempts = stats.attempts;
  ev.trajectories = stats.kept;
  ev.samples = b.label.size();

  t0 = Clock::now();
  const std::vector<std::int32_t> ranked = ranking_choices(ctx, b, threads);
  ev.ranking_seconds = since(t0);

  t0 = Clock::now();
  PolicyBatch batch;
  batch.rows = std::move(b.features);
  batch.terms.assign(b.n_terms.begin(), b.n_terms.end());
  batch.table.assign(b.n_table.begin(), b.n_table.end());
  batch.actions.assign(b.n_actions.begin(), b.n_actions.end());
  std::vector<float> lp;
  policy.log_probs(batch, lp, threads);
  std::uint64_t top1 = 0, top5 = 0, ranking_top1 = 0, differs = 0;
  std::size_t at = 0;
  for (std::size_t s = 0; s < ev.samples; ++s) {
    const std::size_t n = static_cast<std::size_t>(batch.actions[s]), label = static_cast<std::size_t>(b.label[s]);
    const float* x = lp.data() + at;
    at += n;
    const std::size_t r = rank_of(x, n, label);
    top1 += r == 0;
    top5 += r < 5;
    ev.loss -= x[label];
    const std::size_t first = static_cast<std::size_t>(std::max_element(x, x + n) - x);  // the earliest of the best
    ranking_top1 += ranked[s] == b.label[s];
    differs += static_cast<std::int32_t>(first) != ranked[s];
  }
  ev.score_seconds = since(t0);
  const double count = static_cast<double>(std::max<std::uint64_t>(ev.samples, 1));
  ev.top1 = static_cast<double>(top1) / count;
  ev.top5 = static_cast<double>(top5) / count;
  ev.loss /= count;
  ev.ranking_top1 = static_cast<double>(ranking_top1) / count;
  ev.differs_from_ranking = static_cast<double>(differs) / count;
  return ev;
}

}  // namespace sailir
