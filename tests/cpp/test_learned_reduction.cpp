// The learned reduction on the triangle-box family with the shipped policy: jobs, the scheduler,
// the Laporta fallback and its accounting, and reduction paths (text round trip, replay at
// another prime, refusal of a path that does not fit).
#include <algorithm>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta.hpp"
#include "scheduler/learned_reduction.hpp"

using namespace sailir;

namespace {

std::vector<std::vector<std::pair<int, u64>>> laporta(const FamilyDef& family, const ReductionRequest& req, u64 prime) {
  LaportaReducer r(family, req.point, prime, req.preferred);
  return r.reduce(req.targets, req.options);
}

}  // namespace

int main() {
  FamilyDef family = load_family("trianglebox");
  const int n = family.n;
  Policy policy = Policy::builtin("trianglebox");
  ReductionRequest req;
  req.point = resolve_point(family, "");
  req.prime = kDefaultPrime;
  req.preferred = family.masters;
  req.targets = {parse_integral("I[1,1,0,1,1,1,-1]", n), parse_integral("I[1,1,0,1,1,1,0]", n)};
  req.check = true;
  req.threads = 2;

  // One job: the value has nothing left at or above the integral's level in its sector, and
  // replaying the steps without the policy gives the same value.
  {
    FamilyContext ctx(family, req.point, req.prime, req.preferred);
    const Integral x = req.targets[0];
    JobOutcome job = beam_reduce(ctx, policy, x, BeamOptions{});
    CHECK(job.solved);
    CHECK(!job.steps.empty() && job.stats.policy_calls >= 1);
    CHECK(job_done(ctx, x, job.value) && !job_done(ctx, x, Expression::single(x)));
    Expression again;
    std::string why;
    CHECK(replay_job(ctx, x, job.steps, again, why) && again == job.value);
    // A step list cut short leaves the integral's level unfinished.
    if (job.steps.size() > 1) {
      std::vector<PathStep> cut(job.steps.begin(), job.steps.end() - 1);
      CHECK(!replay_job(ctx, x, cut, again, why) && !why.empty());
    }
  }

  // A job that continues the final state of an earlier job of its sector (as a worker does):
  // its value is still right (checked through Laporta), and it replays from the same state only.
  {
    FamilyContext ctx(family, req.point, req.prime, req.preferred);
    const Integral x1 = req.targets[0], x2 = req.targets[1];  // one sector, x1 above x2
    std::optional<ReductionState> warm;
    JobOutcome first = beam_reduce(ctx, policy, x1, BeamOptions{}, &warm);
    CHECK(first.solved && warm && warm->table().size() == first.steps.size());
    const ReductionState start = *warm;
    JobOutcome second = beam_reduce(ctx, policy, x2, BeamOptions{}, &warm);
    CHECK(second.solved && job_done(ctx, x2, second.value) && warm);
    std::vector<Integral> terms{x2};
    for (auto& [y, c] : second.value.terms()) terms.push_back(y);
    LaportaReducer lap(family, req.point, req.prime, req.preferred);
    auto red = lap.reduce(terms, req.options);
    std::vector<u64> lhs(ctx.masters().size()), rhs(ctx.masters().size());
    for (auto [k, c] : red[0]) lhs[k] = c;
    for (std::size_t i = 1; i < terms.size(); ++i)
      for (auto [k, c] : red[i])
        rhs[k] = nmod_add(rhs[k], nmod_mul(second.value.coef(terms[i]), c, ctx.modulus()), ctx.modulus());
    CHECK(lhs == rhs);
    std::optional<ReductionState> from = start;
    Expression again;
    std::string why;
    CHECK(replay_job(ctx, x2, second.steps, again, why, &from) && again == second.value && from);
  }

  // A dotted integral of a lower sector cannot come down without numerators climbing first. With
  // seeds bounded as tightly as a first Laporta system's the search runs out of actions (it does
  // not climb forever); one more dot and numerator make a search of any width succeed.
  {
    FamilyContext ctx(family, req.point, req.prime, req.preferred);
    const Integral x = parse_integral("I[0,0,2,1,1,0,0]", n);
    JobOutcome tight = beam_reduce(ctx, policy, x, BeamOptions{});
    CHECK(!tight.solved && tight.failure == "no valid action left");
    for (int width : {1, 3}) {
      BeamOptions wide;
      wide.width = width;
      wide.seed_r_extra = wide.seed_s_extra = 1;
      JobOutcome job = beam_reduce(ctx, policy, x, wide);
      CHECK(job.solved && job_done(ctx, x, job.value) && job.steps.size() > 10);
      Expression again;
      std::string why;
      CHECK(replay_job(ctx, x, job.steps, again, why) && again == job.value);
    }
  }

  // The whole reduction agrees with Laporta, uses no fallback, and its path replays.
  LearnedOptions opt;
  opt.verify = true;
  LearnedResult lr = reduce_learned(family, req, policy, opt);
  CHECK(lr.verified && lr.verify_error.empty());
  CHECK(lr.result.coefficients == laporta(family, req, req.prime));
  std::size_t by_laporta = 0;
  for (const PathJob& j : lr.path.jobs) by_laporta += j.laporta;
  CHECK(lr.stats.jobs > 0 && lr.stats.jobs == lr.path.jobs.size() && lr.stats.fallbacks == by_laporta);
  CHECK(by_laporta < lr.path.jobs.size());  // the policy solved some jobs
  CHECK(lr.result.check_prime != 0 && lr.result.warnings.size() == (by_laporta ? 1u : 0u));
  CHECK(lr.stats.beam_steps >= lr.stats.path_steps && lr.stats.policy_calls > 0);

  const std::string text = lr.path.to_text(n);
  ReductionPath back = ReductionPath::parse(text, family);
  CHECK(back.to_text(n) == text);
  const u64 other = 9223372036854775643ULL;
  ReplayResult rep = replay_path(family, req.point, other, back, 2);
  CHECK(rep.result.coefficients == laporta(family, req, other));
  // At another numeric point too.
  NumericPoint pt = resolve_point(family, "d=37,m2=29,m3=53");
  ReductionRequest at = req;
  at.point = pt;
  ReplayResult rep2 = replay_path(family, pt, req.prime, back, 1);
  CHECK(rep2.result.coefficients == laporta(family, at, req.prime));

  // Damaged paths: a missing job, a wrong family, garbage.
  ReductionPath missing = back;
  missing.jobs.erase(missing.jobs.begin());
  CHECK_THROWS(replay_path(family, req.point, other, missing, 1));
  FamilyDef bubble = load_family("bubble");
  CHECK_THROWS(ReductionPath::parse(text, bubble));
  CHECK_THROWS(ReductionPath::parse("sailir-path 1\nfamily x", family));
  {  // a job may only continue an earlier policy job, and only one job may continue it
    std::string forward = text;
    const auto at = forward.find('\n', forward.find("\njob ") + 1);
    CHECK_THROWS(ReductionPath::parse(forward.insert(at, " after 0"), family));
  }
  CHECK_THROWS(ReductionPath::parse(text.substr(0, text.size() / 2), family));

  // Lower-sector integrals whose jobs need wider seeds: no fallback, and the path replays.
  {
    ReductionRequest dotted = req;
    dotted.targets = {parse_integral("I[0,0,2,1,1,0,0]", n), parse_integral("I[1,0,1,1,1,0,-2]", n)};
    LearnedOptions strict;
    strict.fallback = false;
    LearnedResult d = reduce_learned(family, dotted, policy, strict);
    CHECK(d.stats.fallbacks == 0 && d.stats.retries > 0 && d.result.warnings.empty());
    CHECK(d.result.coefficients == laporta(family, dotted, dotted.prime));
    ReductionPath p = ReductionPath::parse(d.path.to_text(n), family);
    CHECK(std::any_of(p.jobs.begin(), p.jobs.end(), [](const PathJob& j) { return j.after >= 0; }));
    CHECK(replay_path(family, dotted.point, other, p, 2).result.coefficients == laporta(family, dotted, other));
    // Two jobs continuing one state do not form a chain: refused.
    for (std::size_t j = 0; j < p.jobs.size(); ++j)
      if (p.jobs[j].after >= 0) {
        ReductionPath fork = p;
        fork.jobs.push_back(fork.jobs[j]);
        CHECK_THROWS(replay_path(family, dotted.point, other, fork, 1));
        CHECK_THROWS(ReductionPath::parse(fork.to_text(n), family));
        break;
      }
  }

  // Failed jobs are never cached as solved: with one beam step and no fallback the reduction
  // fails; with the fallback every failed job goes to Laporta, is counted, and the result holds.
  LearnedOptions tight;
  tight.beam.max_steps = 1;
  tight.beam.width = 1;
  tight.retries = 0;
  tight.fallback = false;
  ReductionRequest hard = req;
  hard.targets = {parse_integral("I[2,1,2,1,2,2,-4]", n)};
  hard.check = false;
  CHECK_THROWS(reduce_learned(family, hard, policy, tight));
  tight.fallback = true;
  LearnedResult fb = reduce_learned(family, hard, policy, tight);
  CHECK(fb.stats.fallbacks > 0 && fb.stats.failed_jobs == fb.stats.fallbacks);
  CHECK(fb.result.coefficients == laporta(family, hard, hard.prime));
  std::size_t laporta_jobs = 0;
  for (const PathJob& j : fb.path.jobs) laporta_jobs += j.laporta;
  CHECK(laporta_jobs == fb.stats.fallbacks);
  // A job stopped by the step limit is retried with more steps, not wider seeds (which would
  // only lengthen it): with two steps to start with, the retries solve every job (some also
  // need wider seeds, one retry each).
  tight.beam.max_steps = 2;
  tight.retries = 5;
  tight.fallback = false;
  LearnedResult longer = reduce_learned(family, hard, policy, tight);
  CHECK(longer.stats.retries > 0 && longer.stats.fallbacks == 0);
  CHECK(longer.result.coefficients == laporta(family, hard, hard.prime));

  // A policy made for another family is refused.
  ReductionRequest other_family = req;
  other_family.preferred = bubble.masters;
  other_family.point = resolve_point(bubble, "");
  other_family.targets = {parse_integral("I[1,1]", bubble.n)};
  CHECK_THROWS(reduce_learned(bubble, other_family, policy, LearnedOptions{}));
  TEST_MAIN_END();
}
