// Degree discovery (Thiele interpolation along random lines) and the choice of the lines that the
// reconstruction modulo a prime evaluates.
#include <algorithm>
#include <climits>
#include <map>
#include <tuple>

#include "reconstruct/modular.hpp"
#include "reconstruct/parallel.hpp"

namespace sailir::recon {

namespace {

constexpr int kAgreements = 3;   // further points on which a Thiele interpolant must agree
constexpr int kThieleChunk = 8;  // points per line and batch while finding degrees

// A line base + t * dir through the variables' space.
struct Run {
  std::vector<u64> base, dir;
};

// The total-degree line, then (V >= 2) one line along each axis, then (V >= 3) for each variable
// l one line that keeps x_l fixed.
std::vector<Run> discovery_runs(std::mt19937_64& rng, int v, u64 p) {
  std::vector<Run> runs;
  runs.push_back({random_point(rng, v, p), random_point(rng, v, p)});
  for (int i = 0; v >= 2 && i < v; ++i) {
    Run r{random_point(rng, v, p), std::vector<u64>(static_cast<std::size_t>(v), 0)};
    r.dir[static_cast<std::size_t>(i)] = 1;
    runs.push_back(std::move(r));
  }
  for (int l = 0; v >= 3 && l < v; ++l) {
    Run r{random_point(rng, v, p), random_point(rng, v, p)};
    r.dir[static_cast<std::size_t>(l)] = 0;
    runs.push_back(std::move(r));
  }
  return runs;
}

void set_degrees(Degrees& d, int v, const std::vector<std::pair<int, int>>& run) {
  const auto uv = static_cast<std::size_t>(v);
  d.known = true;
  std::tie(d.num, d.den) = run[0];
  d.num_var.assign(uv, d.num);
  d.den_var.assign(uv, d.den);
  d.num_rest.assign(uv, 0);
  d.den_rest.assign(uv, 0);
  for (std::size_t i = 0; v >= 2 && i < uv; ++i) std::tie(d.num_var[i], d.den_var[i]) = run[1 + i];
  for (std::size_t l = 0; v == 2 && l < 2; ++l) {
    d.num_rest[l] = d.num_var[1 - l];
    d.den_rest[l] = d.den_var[1 - l];
  }
  for (std::size_t l = 0; v >= 3 && l < uv; ++l) std::tie(d.num_rest[l], d.den_rest[l]) = run[1 + uv + l];
}

}  // namespace

namespace {

// One batch: kThieleChunk random points on each unfinished line; owner[i] = (line, t) of point i.
Points draw_points(PrimeContext& ctx, const std::vector<Run>& runs, const std::vector<bool>& finished,
                   std::vector<std::pair<std::size_t, u64>>& owner) {
  Points points;
  owner.clear();
  for (std::size_t r = 0; r < runs.size(); ++r) {
    if (finished[r]) continue;
    for (int c = 0; c < kThieleChunk; ++c) {
      const u64 t = random_residue(ctx.rng, ctx.mod.n);
      std::vector<u64> x(runs[r].base);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = nmod_add(x[i], nmod_mul(t, runs[r].dir[i], ctx.mod), ctx.mod);
      points.push_back(std::move(x));
      owner.emplace_back(r, t);
    }
  }
  return points;
}

bool run_finished(const std::vector<Thiele>& th) {
  return std::all_of(th.begin(), th.end(), [](const Thiele& t) { return t.agreements() >= kAgreements; });
}

}  // namespace

void discover_degrees(PrimeContext& ctx, std::span<const int> which, std::vector<Degrees>& degrees) {
  const int v = ctx.prober.variables();
  std::vector<Run> runs = discovery_runs(ctx.rng, v, ctx.mod.n);
  std::vector<std::vector<Thiele>> th(runs.size(), std::vector<Thiele>(which.size(), Thiele(ctx.mod)));
  std::vector<bool> finished(runs.size(), false);
  std::vector<std::pair<std::size_t, u64>> owner;
  for (Points points; !(points = draw_points(ctx, runs, finished, owner)).empty();) {
    Points values;
    ctx.prober.evaluate(ctx.mod.n, points, values);
    parallel_for(which.size(), 16, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = 0; i < points.size(); ++i) {
        if (values[i].empty()) continue;  // a bad point: the next ones will do
        auto [r, t] = owner[i];
        for (std::size_t j = b; j < e; ++j)
          if (th[r][j].agreements() < kAgreements) th[r][j].add(t, values[i][static_cast<std::size_t>(which[j])]);
      }
    });
    std::vector<bool> good(runs.size(), false);
    for (std::size_t i = 0; i < points.size(); ++i) good[owner[i].first] = good[owner[i].first] || !values[i].empty();
    for (std::size_t r = 0; r < runs.size(); ++r) {
      finished[r] = run_finished(th[r]);
      if (good[r] || finished[r]) continue;
      // Not one good point: the line may lie where the black box always fails; start it afresh
      // through another base point.
      runs[r].base = random_point(ctx.rng, v, ctx.mod.n);
      th[r].assign(which.size(), Thiele(ctx.mod));
    }
  }
  parallel_for(which.size(), 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      std::vector<std::pair<int, int>> run_degrees;
      for (std::size_t r = 0; r < runs.size(); ++r) run_degrees.push_back(th[r][j].degrees());
      set_degrees(degrees[static_cast<std::size_t>(which[j])], v, run_degrees);
    }
  });
}

void raise_degrees(Degrees& d, const Degrees& other) {
  if (other.num_var.size() != d.num_var.size()) return;  // never found
  d.num = std::max(d.num, other.num);
  d.den = std::max(d.den, other.den);
  for (std::size_t i = 0; i < d.num_var.size(); ++i) {
    d.num_var[i] = std::max(d.num_var[i], other.num_var[i]);
    d.den_var[i] = std::max(d.den_var[i], other.den_var[i]);
    d.num_rest[i] = std::max(d.num_rest[i], other.num_rest[i]);
    d.den_rest[i] = std::max(d.den_rest[i], other.den_rest[i]);
  }
}

std::size_t LinePlan::probes() const {
  std::size_t n = 0;
  for (int k : line_nodes) n += static_cast<std::size_t>(k);
  return n;
}

std::size_t LinePlan::grid_index(std::span<const int> a) const {
  std::size_t idx = 0;
  for (std::size_t d = 0; d < grid_stride.size(); ++d) idx += static_cast<std::size_t>(a[d]) * grid_stride[d];
  return idx;
}

namespace {

LowerSet support(const std::vector<int>& var, const std::vector<int>& rest, int total, const LinePlan& plan) {
  std::vector<int> bound;
  for (int o : plan.others) bound.push_back(var[static_cast<std::size_t>(o)]);
  return LowerSet(std::move(bound), std::min(total, rest[static_cast<std::size_t>(plan.lead)]));
}

LinePlan plan_for_lead(int v, int lead, std::span<const int> active, const std::vector<Degrees>& degrees) {
  LinePlan plan;
  plan.lead = lead;
  for (int i = 0; i < v; ++i)
    if (i != lead) plan.others.push_back(i);
  // Distinct (bounds, cap, t-values) of all supports, so that each is enumerated once.
  std::map<std::tuple<std::vector<int>, int, int>, int> groups;
  std::vector<int> top(plan.others.size(), 0);
  for (int id : active) {
    const Degrees& d = degrees[static_cast<std::size_t>(id)];
    for (const LowerSet& s : {num_support(d, plan), den_support(d, plan)}) {
      groups[{s.bound(), s.cap(), d.num + d.den + 1}] = 0;
      for (std::size_t i = 0; i < top.size(); ++i) top[i] = std::max(top[i], s.bound()[i]);
    }
  }
  const LowerSet grid(top, INT_MAX / 2);  // the whole box: no total-degree limit
  for (std::size_t i = 0; i < top.size(); ++i) {
    plan.grid_size.push_back(top[i] + 1);
    plan.grid_stride.push_back(grid.stride(static_cast<int>(i)));
  }
  std::vector<int> need(grid.box_size(), 0);
  for (const auto& [key, unused] : groups) {
    const auto& [bound, cap, nodes] = key;
    LowerSet(bound, cap).for_each([&](std::span<const int> a, int, std::size_t) {
      int& n = need[plan.grid_index(a)];
      n = std::max(n, nodes);
    });
  }
  plan.line_of.assign(grid.box_size(), -1);
  grid.for_each([&](std::span<const int> a, int, std::size_t idx) {
    if (need[idx] == 0) return;
    plan.line_of[idx] = static_cast<std::ptrdiff_t>(plan.lines.size());
    plan.lines.emplace_back(a.begin(), a.end());
    plan.line_nodes.push_back(need[idx]);
  });
  return plan;
}

}  // namespace

LowerSet num_support(const Degrees& d, const LinePlan& plan) { return support(d.num_var, d.num_rest, d.num, plan); }
LowerSet den_support(const Degrees& d, const LinePlan& plan) { return support(d.den_var, d.den_rest, d.den, plan); }

LinePlan plan_lines(int variables, std::span<const int> active, const std::vector<Degrees>& degrees) {
  LinePlan best = plan_for_lead(variables, 0, active, degrees);
  for (int lead = 1; lead < variables; ++lead) {
    LinePlan p = plan_for_lead(variables, lead, active, degrees);
    if (p.probes() < best.probes()) best = std::move(p);
  }
  return best;
}

}  // namespace sailir::recon
