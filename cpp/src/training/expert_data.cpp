#include "training/expert_data.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <stdexcept>
#include <thread>

namespace sailir {

namespace {

// Where each integral's shortest job is: (path, job) by integral, ties to the earlier path.
struct Best {
  std::size_t steps, path, job;
};
using BestJobs = std::map<Integral, Best, IntegralLess>;

BestJobs shortest_jobs(const std::vector<ReductionPath>& paths) {
  BestJobs best;
  for (std::size_t p = 0; p < paths.size(); ++p)
    for (std::size_t j = 0; j < paths[p].jobs.size(); ++j) {
      const PathJob& job = paths[p].jobs[j];
      if (job.laporta || job.steps.empty()) continue;
      auto [it, fresh] = best.try_emplace(job.integral, Best{job.steps.size(), p, j});
      if (!fresh && job.steps.size() < it->second.steps) it->second = Best{job.steps.size(), p, j};
    }
  return best;
}

// The job's seed region as the search had it: the options' bounds around its integral, widened
// (as retries widen them) until every seed the job used lies inside.
SeedRegion job_region(const PathJob& job, const BeamOptions& beam, int n) {
  SeedRegion region;
  if (beam.seed_r_extra >= 0) region.rmax = r_of(job.integral, n) + beam.seed_r_extra;
  if (beam.seed_s_extra >= 0) region.smax = s_of(job.integral, n) + beam.seed_s_extra;
  for (const PathStep& s : job.steps)
    while (!region.contains(s.action.seed, n)) ++region.rmax, ++region.smax;
  return region;
}

std::size_t label_of(const std::vector<Candidate>& cands, const Action& a) {
  for (std::size_t i = 0; i < cands.size(); ++i)
    if (cands[i].action.op == a.op && cands[i].action.seed == a.seed) return i;
  return cands.size();
}

// One step as a sample (the scramble generator's layout: counts, label, features).
void push_sample(ScrambleBatch& out, const ReductionState& state, const PathStep& step,
                 const std::vector<Candidate>& cands, std::size_t label, int n) {
  out.n_terms.push_back(static_cast<std::int32_t>(state.expression().size()));
  out.n_table.push_back(static_cast<std::int32_t>(state.table().size()));
  out.n_actions.push_back(static_cast<std::int32_t>(cands.size()));
  out.label.push_back(static_cast<std::int32_t>(label));
  out.label_op.push_back(step.action.op);
  out.label_seed.insert(out.label_seed.end(), step.action.seed.a.begin(), step.action.seed.a.begin() + n);
  state.features(step.target, cands, out.features);
}

void push_trajectory(ScrambleBatch& out, const PathJob& job, std::size_t samples, int n) {
  out.traj_index.push_back(static_cast<std::int64_t>(out.traj_index.size()));
  out.traj_sector.push_back(static_cast<std::int32_t>(sector_of(job.integral, n)));
  out.traj_scramble_steps.push_back(0);
  out.traj_samples.push_back(static_cast<std::int32_t>(samples));
  out.start_terms.push_back(1);  // the job's integral, coefficient 1; nothing was scrambled
  out.scrambled_terms.push_back(0);
  out.expr_powers.insert(out.expr_powers.end(), job.integral.a.begin(), job.integral.a.begin() + n);
  out.expr_coefs.push_back(1);
}

// Replays one path's jobs in order (a job that continued another starts from its final state),
// emitting the steps of the jobs in `keep`.
void sample_path(const FamilyContext& ctx, const ReductionPath& path, const std::vector<char>& keep,
                 const BeamOptions& beam, std::size_t max_table_rows, ScrambleBatch& out, ExpertStats& stats) {
  const int n = ctx.n();
  const std::vector<long> by = path.continued_by();
  std::vector<std::optional<ReductionState>> finals(path.jobs.size());
  for (std::size_t j = 0; j < path.jobs.size(); ++j) {
    const PathJob& job = path.jobs[j];
    if (job.laporta) continue;
    ReductionState state = job.after >= 0 && finals[job.after] ? std::move(*finals[job.after])
                                                               : ReductionState(ctx, Expression::single(job.integral));
    if (job.after >= 0) state.restart(Expression::single(job.integral));
    const SeedRegion region = job_region(job, beam, n);
    std::size_t samples = 0;
    for (const PathStep& step : job.steps) {
      if (keep[j] && state.table().size() <= max_table_rows) {
        const std::vector<Candidate> cands = state.candidates(step.target, region);
        const std::size_t label = label_of(cands, step.action);
        if (label == cands.size())
          throw std::invalid_argument("path job " + format_integral(job.integral, n) + ": a step's action is not among its candidates");
        push_sample(out, state, step, cands, label, n);
        ++samples;
      } else if (keep[j]) {
        ++stats.skipped_samples;
      }
      if (!state.apply(step.target, step.action))
        throw std::invalid_argument("path job " + format_integral(job.integral, n) + " does not replay in this family");
    }
    if (samples) push_trajectory(out, job, samples, n);
    stats.samples += samples;
    if (by[j] >= 0) finals[j].emplace(std::move(state));
  }
}

}  // namespace

ScrambleBatch path_samples(const FamilyContext& ctx, const std::vector<ReductionPath>& paths, const BeamOptions& beam,
                           std::size_t max_table_rows, ExpertStats& stats) {
  const BestJobs best = shortest_jobs(paths);
  stats.jobs = best.size();
  std::vector<std::vector<char>> keep(paths.size());
  for (std::size_t p = 0; p < paths.size(); ++p) keep[p].assign(paths[p].jobs.size(), 0);
  for (auto& [x, b] : best) {
    keep[b.path][b.job] = 1;
    stats.expert_steps += b.steps;
  }
  ScrambleBatch out;
  out.n = ctx.n();
  for (std::size_t p = 0; p < paths.size(); ++p) {
    if (paths[p].masters != ctx.masters())
      throw std::invalid_argument("a reduction path ends on other masters than the family context's");
    sample_path(ctx, paths[p], keep[p], beam, max_table_rows, out, stats);
  }
  return out;
}

ScrambleBatch expert_samples(const Engine& engine, const FamilyContext& ctx, const std::vector<std::string>& integrals,
                             const std::vector<ExpertRollout>& rollouts, int threads, std::size_t max_table_rows,
                             ExpertStats& stats) {
  const std::size_t tasks = integrals.size() * rollouts.size();
  std::vector<std::optional<ReductionPath>> found(tasks);
  std::vector<double> seconds(tasks, 0);
  std::vector<std::exception_ptr> errors(tasks);
  std::atomic<std::size_t> next{0};
  EngineOptions base;
  base.method = "learned";
  base.prime = ctx.modulus().n;
  base.masters = std::vector<std::string>{};
  for (const Integral& m : ctx.masters()) base.masters->push_back(format_integral(m, ctx.n()));
  base.check = false;
  base.threads = 1;
  base.symmetries = false;
  auto work = [&] {
    for (std::size_t t; (t = next.fetch_add(1)) < tasks;) {
      const ExpertRollout& r = rollouts[t % rollouts.size()];
      EngineOptions o = base;
      o.policy = r.policy;
      o.policy_seed = r.policy_seed;
      o.learned.beam.ranking = r.ranking;
      o.learned.beam.width = r.width;
      const auto t0 = std::chrono::steady_clock::now();
      try {
        EngineResult res = engine.reduce({integrals[t / rollouts.size()]}, o);
        if (res.path && std::none_of(res.path->jobs.begin(), res.path->jobs.end(), [](auto& j) { return j.laporta; }))
          found[t] = std::move(res.path);
      } catch (const UnreducedError&) {
        // counted below as a failure of this rollout
      } catch (...) {
        errors[t] = std::current_exception();
      }
      seconds[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back(work);
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  stats.rollout_steps.assign(rollouts.size(), 0);
  stats.rollout_failures.assign(rollouts.size(), 0);
  stats.rollout_seconds.assign(rollouts.size(), 0);
  std::vector<ReductionPath> paths;
  for (std::size_t t = 0; t < tasks; ++t) {
    const std::size_t r = t % rollouts.size();
    stats.rollout_seconds[r] += seconds[t];
    if (!found[t]) {
      ++stats.rollout_failures[r];
      continue;
    }
    for (const PathJob& j : found[t]->jobs) stats.rollout_steps[r] += j.steps.size();
    paths.push_back(std::move(*found[t]));
  }
  return path_samples(ctx, paths, LearnedOptions{}.beam, max_table_rows, stats);
}

}  // namespace sailir
