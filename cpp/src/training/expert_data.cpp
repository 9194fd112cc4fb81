#include "training/expert_data.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>

namespace sailir {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The job's seed region as its search had it: the options' bounds around its integral, widened
// (as retries widen them) until every seed the steps use lies inside.
SeedRegion job_region(const Integral& x, const std::vector<PathStep>& steps, const BeamOptions& beam, int n) {
  SeedRegion region;
  if (beam.seed_r_extra >= 0) region.rmax = r_of(x, n) + beam.seed_r_extra;
  if (beam.seed_s_extra >= 0) region.smax = s_of(x, n) + beam.seed_s_extra;
  for (const PathStep& s : steps)
    while (!region.contains(s.action.seed, n)) ++region.rmax, ++region.smax;
  return region;
}

std::size_t label_of(const std::vector<Candidate>& cands, const Action& a) {
  for (std::size_t i = 0; i < cands.size(); ++i)
    if (cands[i].action.op == a.op && cands[i].action.seed == a.seed) return i;
  return cands.size();
}

void push_trajectory(ScrambleBatch& out, const Integral& x, std::size_t samples, int n) {
  out.traj_index.push_back(static_cast<std::int64_t>(out.traj_index.size()));
  out.traj_sector.push_back(static_cast<std::int32_t>(sector_of(x, n)));
  out.traj_scramble_steps.push_back(0);
  out.traj_samples.push_back(static_cast<std::int32_t>(samples));
  out.start_terms.push_back(1);  // the job's integral, coefficient 1; nothing was scrambled
  out.scrambled_terms.push_back(0);
  out.expr_powers.insert(out.expr_powers.end(), x.a.begin(), x.a.begin() + n);
  out.expr_coefs.push_back(1);
}

// Applies a job's steps to `state` (restarted at x), each a sample while the table is small enough.
void sample_job(const FamilyContext& ctx, ReductionState& state, const Integral& x, const std::vector<PathStep>& steps,
                const BeamOptions& beam, std::size_t max_table_rows, ScrambleBatch& out, ExpertStats& stats) {
  const int n = ctx.n();
  const SeedRegion region = job_region(x, steps, beam, n);
  state.restart(Expression::single(x));
  std::size_t samples = 0;
  for (const PathStep& step : steps) {
    if (state.table().size() <= max_table_rows) {
      const std::vector<Candidate> cands = state.candidates(step.target, region);
      const std::size_t label = label_of(cands, step.action);
      if (label == cands.size())
        throw std::invalid_argument("path job " + format_integral(x, n) + ": a step's action is not among its candidates");
      push_sample(out, state, step.target, cands, label, n);
      ++samples;
    } else {
      ++stats.skipped_samples;
    }
    if (!state.apply(step.target, step.action))
      throw std::invalid_argument("path job " + format_integral(x, n) + " does not replay in this family");
  }
  if (samples) push_trajectory(out, x, samples, n);
  stats.samples += samples;
}

// One job of a path from its starting state: the alternatives search it again from copies of the
// state, the shortest solution is sampled, and the state then follows the path's own steps.
void compare_job(const FamilyContext& ctx, ReductionState& state, const PathJob& job,
                 const std::vector<JobSearch>& alternatives, const BeamOptions& beam, std::size_t max_table_rows,
                 ScrambleBatch& out, ExpertStats& stats) {
  const std::vector<PathStep>* best = &job.steps;
  std::vector<JobOutcome> tried;
  tried.reserve(alternatives.size());
  const int n = ctx.n();
  const SeedRegion region = job_region(job.integral, job.steps, beam, n);  // retries may have widened it
  for (std::size_t a = 0; a < alternatives.size(); ++a) {
    const auto t0 = Clock::now();
    BeamOptions opt = alternatives[a].beam;
    if (opt.seed_r_extra >= 0) opt.seed_r_extra = region.rmax - r_of(job.integral, n);
    if (opt.seed_s_extra >= 0) opt.seed_s_extra = region.smax - s_of(job.integral, n);
    std::optional<ReductionState> start = state;
    tried.push_back(beam_reduce(ctx, *alternatives[a].policy, job.integral, opt, &start));
    stats.rollout_seconds[a + 1] += since(t0);
    const JobOutcome& o = tried.back();
    if (!o.solved) {
      ++stats.rollout_failures[a + 1];
      continue;
    }
    stats.rollout_steps[a + 1] += o.steps.size();
    if (o.steps.size() < best->size()) best = &o.steps;
  }
  ++stats.jobs;
  stats.rollout_steps[0] += job.steps.size();
  stats.expert_steps += best->size();
  if (best != &job.steps) {
    ReductionState copy = state;
    sample_job(ctx, copy, job.integral, *best, beam, max_table_rows, out, stats);
    state.restart(Expression::single(job.integral));  // the path goes on as it was
    for (const PathStep& step : job.steps) state.apply(step.target, step.action);
  } else {
    sample_job(ctx, state, job.integral, job.steps, beam, max_table_rows, out, stats);
  }
}

// The path's jobs in order (a job that continued another starts from its final state); each is
// searched again by the alternatives from that state, and the shortest solution is sampled.
void sample_path(const FamilyContext& ctx, const ReductionPath& path, const std::vector<JobSearch>& alternatives,
                 const BeamOptions& beam, std::size_t max_table_rows, ScrambleBatch& out, ExpertStats& stats) {
  const std::vector<long> by = path.continued_by();
  std::vector<std::optional<ReductionState>> finals(path.jobs.size());
  for (std::size_t j = 0; j < path.jobs.size(); ++j) {
    const PathJob& job = path.jobs[j];
    if (job.laporta) continue;
    ReductionState state = job.after >= 0 && finals[job.after] ? std::move(*finals[job.after])
                                                               : ReductionState(ctx, Expression::single(job.integral));
    if (!job.steps.empty()) compare_job(ctx, state, job, alternatives, beam, max_table_rows, out, stats);
    if (by[j] >= 0) finals[j].emplace(std::move(state));
  }
}

}  // namespace

ExpertStats& ExpertStats::operator+=(const ExpertStats& o) {
  auto add = [](auto& mine, const auto& theirs) {
    if (mine.size() < theirs.size()) mine.resize(theirs.size(), 0);
    for (std::size_t r = 0; r < theirs.size(); ++r) mine[r] += theirs[r];
  };
  add(rollout_steps, o.rollout_steps);
  add(rollout_failures, o.rollout_failures);
  add(rollout_seconds, o.rollout_seconds);
  jobs += o.jobs, expert_steps += o.expert_steps, samples += o.samples, skipped_samples += o.skipped_samples;
  return *this;
}

ScrambleBatch path_samples(const FamilyContext& ctx, const std::vector<ReductionPath>& paths,
                           const std::vector<JobSearch>& alternatives, const BeamOptions& beam,
                           std::size_t max_table_rows, ExpertStats& stats) {
  for (auto* v : {&stats.rollout_steps, &stats.rollout_failures}) v->resize(alternatives.size() + 1, 0);
  stats.rollout_seconds.resize(alternatives.size() + 1, 0);
  ScrambleBatch out;
  out.n = ctx.n();
  for (const ReductionPath& path : paths) {
    if (path.masters != ctx.masters())
      throw std::invalid_argument("a reduction path ends on other masters than the family context's");
    sample_path(ctx, path, alternatives, beam, max_table_rows, out, stats);
  }
  return out;
}

namespace {

// The base rollout's reduction of one integral; nullopt when the policy alone could not reduce it.
std::optional<ReductionPath> base_path(const Engine& engine, const FamilyContext& ctx, const std::string& integral,
                                       const ExpertRollout& r) {
  EngineOptions o;
  o.method = "learned";
  o.prime = ctx.modulus().n;
  o.masters = std::vector<std::string>{};
  for (const Integral& m : ctx.masters()) o.masters->push_back(format_integral(m, ctx.n()));
  o.check = false;
  o.threads = 1;
  o.symmetries = false;
  o.policy = r.policy;
  o.policy_seed = r.policy_seed;
  o.learned.beam.ranking = r.ranking;
  o.learned.beam.width = r.width;
  try {
    EngineResult res = engine.reduce({integral}, o);
    if (res.path && std::none_of(res.path->jobs.begin(), res.path->jobs.end(), [](auto& j) { return j.laporta; }))
      return std::move(res.path);
  } catch (const UnreducedError&) {
    // counted as a failure of the base rollout
  }
  return std::nullopt;
}

// Runs task(i) for i in [0, count) on `threads` threads; the first exception is rethrown.
template <class F>
void parallel_for(std::size_t count, int threads, F task) {
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(count);
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < count;) try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
  };
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work);
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace

ScrambleBatch expert_samples(const Engine& engine, const FamilyContext& ctx, const std::vector<std::string>& integrals,
                             const std::vector<ExpertRollout>& rollouts, int threads, std::size_t max_table_rows,
                             ExpertStats& stats) {
  if (rollouts.empty()) throw std::invalid_argument("expert data needs at least one rollout");
  const FamilyDef& family = engine.family();
  std::vector<Policy> policies;
  std::vector<JobSearch> alternatives;
  policies.reserve(rollouts.size());
  for (std::size_t r = 1; r < rollouts.size(); ++r) {
    policies.push_back(Policy::choose(rollouts[r].policy, rollouts[r].policy_seed, family.name, family.hash));
    policies.back().check_compatible(ctx, family.name);
    BeamOptions beam;
    beam.ranking = rollouts[r].ranking;
    beam.width = 1;  // a job continues the table its path carried: width 1
    alternatives.push_back(JobSearch{&policies.back(), beam});
  }
  // Each integral: its base path, then its jobs' samples (one batch per integral, joined in order).
  std::vector<ScrambleBatch> parts(integrals.size());
  std::vector<ExpertStats> part_stats(integrals.size());
  parallel_for(integrals.size(), threads, [&](std::size_t i) {
    ExpertStats& st = part_stats[i];
    for (auto* v : {&st.rollout_steps, &st.rollout_failures}) v->assign(rollouts.size(), 0);
    st.rollout_seconds.assign(rollouts.size(), 0);
    const auto t0 = Clock::now();
    std::optional<ReductionPath> path = base_path(engine, ctx, integrals[i], rollouts[0]);
    st.rollout_seconds[0] = since(t0);
    if (!path) {
      st.rollout_failures[0] = 1;
      return;
    }
    parts[i] = path_samples(ctx, {*path}, alternatives, LearnedOptions{}.beam, max_table_rows, st);
  });
  ScrambleBatch out;
  out.n = ctx.n();
  stats = ExpertStats{};
  for (std::size_t i = 0; i < integrals.size(); ++i) {
    append(out, parts[i]);
    stats += part_stats[i];
  }
  for (std::size_t t = 0; t < out.traj_index.size(); ++t) out.traj_index[t] = static_cast<std::int64_t>(t);
  return out;
}

}  // namespace sailir
