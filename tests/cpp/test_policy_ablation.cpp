// The ablation policies (uniform, seeded random) and the accountability of the policy runtime:
// scores that depend only on (seed, candidate), the choice rules of --policy/--seed, reductions
// with the baselines that agree with Laporta and repeat for a seed, the weight ranking's first
// choice, and the C++ evaluation on fresh scrambles.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "check.hpp"
#include "engine/engine.hpp"
#include "family/family_source.hpp"
#include "policy/policy.hpp"
#include "search/beam_search.hpp"
#include "training/policy_evaluation.hpp"

using namespace sailir;

namespace {

// Real samples: a few steps along the first candidate from a top-sector integral.
PolicyBatch real_batch(const FamilyContext& ctx, int steps) {
  ReductionState state(ctx, Expression::single(parse_integral("I[2,1,1,1,1,1,-1]", ctx.n())));
  PolicyBatch batch;
  for (int step = 0; step < steps; ++step) {
    auto target = state.target();
    if (!target) break;
    auto cands = state.candidates(*target);
    if (cands.empty()) break;
    batch.add(state, *target, cands);
    state.apply(*target, cands.front());
  }
  return batch;
}

// The last sample of `b` alone.
PolicyBatch last_sample(const PolicyBatch& b, const FamilyContext& ctx) {
  const FeatureDims d(ctx.n());
  PolicyBatch one;
  const std::size_t s = b.samples() - 1, acts = static_cast<std::size_t>(b.actions[s]);
  auto tail = [](const std::vector<float>& v, std::size_t count) {
    return std::vector<float>(v.end() - static_cast<std::ptrdiff_t>(count), v.end());
  };
  one.rows.target = tail(b.rows.target, d.target);
  one.rows.terms = tail(b.rows.terms, static_cast<std::size_t>(b.terms[s]) * d.term);
  one.rows.table = tail(b.rows.table, static_cast<std::size_t>(b.table[s]) * d.table);
  one.rows.actions = tail(b.rows.actions, acts * d.action);
  one.rows.ops.assign(b.rows.ops.end() - static_cast<std::ptrdiff_t>(acts), b.rows.ops.end());
  one.terms = {b.terms[s]};
  one.table = {b.table[s]};
  one.actions = {b.actions[s]};
  return one;
}

void test_scores(const FamilyContext& ctx) {
  const PolicyBatch batch = real_batch(ctx, 5);
  CHECK(batch.samples() >= 3);
  std::vector<float> u, r7, r7b, r8, alone, r7threads;
  Policy uniform = Policy::uniform();
  CHECK(uniform.is_ablation() && !Policy::builtin("trianglebox").is_ablation());
  uniform.logits(batch, u);
  CHECK(u.size() == batch.total_actions() && std::all_of(u.begin(), u.end(), [](float x) { return x == 0.f; }));
  Policy::random(7).logits(batch, r7);
  Policy::random(7).logits(batch, r7b);
  Policy::random(7).logits(batch, r7threads, 3);
  Policy::random(8).logits(batch, r8);
  CHECK(r7 == r7b && r7 == r7threads);
  CHECK(r7 != r8);
  CHECK(std::all_of(r7.begin(), r7.end(), [](float x) { return x >= 0.f && x < 1.f; }));
  // A candidate's score does not depend on the batch it is scored in.
  Policy::random(7).logits(last_sample(batch, ctx), alone);
  CHECK(std::equal(alone.begin(), alone.end(), r7.end() - static_cast<std::ptrdiff_t>(alone.size())));
  // Ablations fit any family; the shipped policy passes its probe batch.
  FamilyDef bubble = load_family("bubble");
  FamilyContext other(bubble, resolve_point(bubble, ""), kDefaultPrime, bubble.masters);
  uniform.check_compatible(other);
  Policy::random(1).check_compatible(other);
  Policy::builtin("trianglebox").check_compatible(ctx);
}

void test_choice() {
  CHECK_THROWS(Policy::check_choice("random", std::nullopt));
  CHECK_THROWS(Policy::check_choice("", 3));
  CHECK_THROWS(Policy::check_choice("uniform", 3));
  Policy::check_choice("random", 3);
  Policy::check_choice("uniform", std::nullopt);
  CHECK(Policy::choose("uniform", std::nullopt, "trianglebox").is_ablation());
  CHECK(Policy::choose("random", 5, "trianglebox").content_hash() != Policy::random(6).content_hash());
  CHECK(!Policy::choose("", std::nullopt, "trianglebox").is_ablation());
  EngineOptions o;
  o.policy = "random";
  bool one_line = false;
  try {
    check_options(o);
  } catch (const std::invalid_argument& e) {
    one_line = std::string(e.what()).find('\n') == std::string::npos;
  }
  CHECK(one_line);
}

void test_reductions(const Engine& engine) {
  const std::vector<std::string> ints{"I[1,1,1,1,1,1,0]"};
  EngineOptions lap;
  lap.threads = 1;
  const ReductionResult want = engine.reduce(ints, lap).numeric;
  auto learned = [&](const std::string& policy, std::optional<std::uint64_t> seed) {
    EngineOptions o = lap;
    o.method = "learned";
    o.policy = policy;
    o.policy_seed = seed;
    return engine.reduce(ints, o).numeric;
  };
  auto stat = [](const ReductionResult& r, const std::string& key) {
    for (auto& [k, v] : r.method_stats)
      if (k == key) return v;
    return -1.0;
  };
  const ReductionResult uni = learned("uniform", std::nullopt), a = learned("random", 11), b = learned("random", 11);
  CHECK(uni.masters == want.masters && uni.coefficients == want.coefficients);
  CHECK(a.masters == want.masters && a.coefficients == want.coefficients);
  CHECK(stat(a, "beam_steps") > 0 && stat(a, "beam_steps") == stat(b, "beam_steps"));
  CHECK(stat(a, "path_steps") == stat(b, "path_steps") && stat(a, "policy_calls") == stat(b, "policy_calls"));
}

void test_ranking(const FamilyContext& ctx) {
  ReductionState state(ctx, Expression::single(parse_integral("I[2,1,1,1,1,1,-1]", ctx.n())));
  const Integral target = *state.target();
  const std::vector<Candidate> cands = state.candidates(target);
  CHECK(cands.size() >= 2);
  // Under max weight the first choice leaves the lowest highest integral, and is the first such.
  const std::size_t best = lightest_candidate(ctx, state, target, cands, BeamRanking::max_weight);
  CHECK(best < cands.size());
  for (std::size_t i = 0; i < cands.size(); ++i) {
    CHECK(!(cands[i].top < cands[best].top));
    if (i < best) CHECK(cands[best].top < cands[i].top);
  }
  const std::size_t both = lightest_candidate(ctx, state, target, cands, BeamRanking::both);
  CHECK(cands[both].top == cands[best].top);
  CHECK_THROWS(lightest_candidate(ctx, state, target, {}, BeamRanking::both));
}

void test_evaluation(const FamilyContext& ctx) {
  const PolicyEvaluation shipped = evaluate_policy(ctx, Policy::builtin("trianglebox"), 3, 12, 2);
  const PolicyEvaluation again = evaluate_policy(ctx, Policy::builtin("trianglebox"), 3, 12, 1);
  const PolicyEvaluation uni = evaluate_policy(ctx, Policy::uniform(), 3, 12, 2);
  CHECK(shipped.samples > 0 && shipped.samples == uni.samples && shipped.trajectories <= 12);
  CHECK(shipped.top1 == again.top1 && shipped.differs_from_ranking == again.differs_from_ranking);
  for (const PolicyEvaluation* e : {&shipped, &uni}) {
    CHECK(e->top1 >= 0 && e->top1 <= e->top5 && e->top5 <= 1 && e->loss >= 0);
    // Where the policy and the ranking agree, both hit or both miss the label.
    CHECK(std::abs(e->top1 - e->ranking_top1) <= e->differs_from_ranking + 1e-12);
  }
  CHECK(shipped.ranking_top1 == uni.ranking_top1);
  CHECK(shipped.top1 > uni.top1);  // a trained policy beats equal scores on its own task
  CHECK_THROWS(evaluate_policy(ctx, Policy::uniform(), 3, 0, 1));
}

// The automatic ranking follows the policy: the shipped triangle-box policy says it ranks alone
// (it was improved on the engine's paths), so its default search is the policy ranking's; the
// baselines say nothing, so theirs is the weight ranking's.
void test_automatic_ranking(const FamilyContext& ctx) {
  CHECK(parse_beam_ranking("auto") == BeamRanking::automatic);
  CHECK(BeamOptions{}.ranking == BeamRanking::automatic);
  const Policy shipped = Policy::builtin("trianglebox");
  CHECK(shipped.ranks_alone());
  CHECK(!Policy::uniform().ranks_alone() && !Policy::random(3).ranks_alone());
  const Integral x = parse_integral("I[1,1,2,1,1,1,-2]", ctx.n());
  auto steps_with = [&](const Policy& policy, BeamRanking ranking) {
    BeamOptions opt;
    opt.ranking = ranking;
    JobOutcome o = beam_reduce(ctx, policy, x, opt);
    CHECK(o.solved);
    return o.steps.size();
  };
  CHECK(steps_with(shipped, BeamRanking::automatic) == steps_with(shipped, BeamRanking::policy));
  const Policy random = Policy::random(3);
  CHECK(steps_with(random, BeamRanking::automatic) == steps_with(random, BeamRanking::both));
}

}  // namespace

int main() {
  const Engine engine = Engine::load("trianglebox");
  const FamilyDef& family = engine.family();
  FamilyContext ctx(family, resolve_point(family, ""), kDefaultPrime, family.masters);
  test_scores(ctx);
  test_choice();
  test_reductions(engine);
  test_ranking(ctx);
  test_evaluation(ctx);
  test_automatic_ranking(ctx);
  TEST_MAIN_END();
}
