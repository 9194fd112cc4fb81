// Reconstruction modulo one prime from known degrees: evaluate the planned lines, interpolate each
// function on each line (Cauchy), interpolate the line coefficients over the z grid (Newton),
// homogenize, shift back, and check at random points.
#include "reconstruct/modular.hpp"

#include <algorithm>
#include <deque>

#include "reconstruct/parallel.hpp"

namespace sailir::recon {

namespace {

constexpr int kCheckPoints = 2;             // random points checking each prime's result
constexpr std::size_t kFunctionGrain = 16;  // functions per thread at least

// Distinct random residues, nonzero when asked.
std::vector<u64> distinct_residues(std::mt19937_64& rng, std::size_t n, u64 p, bool nonzero) {
  std::vector<u64> out;
  while (out.size() < n) {
    const u64 x = random_residue(rng, p);
    if ((nonzero && x == 0) || std::find(out.begin(), out.end(), x) != out.end()) continue;
    out.push_back(x);
  }
  return out;
}

// Everything fixed for one prime: shift, grids, default t-values.
struct Geometry {
  const LinePlan& plan;
  std::vector<u64> shift;
  std::vector<NodeSet> grids;
  std::vector<const NodeSet*> grid_ptrs;
  NodeSet tnodes;

  std::vector<u64> point(std::size_t line, u64 t, nmod_t mod) const {
    std::vector<u64> x = shift;
    const auto& a = plan.lines[line];
    x[static_cast<std::size_t>(plan.lead)] = nmod_add(x[static_cast<std::size_t>(plan.lead)], t, mod);
    for (std::size_t i = 0; i < a.size(); ++i) {
      u64& xi = x[static_cast<std::size_t>(plan.others[i])];
      xi = nmod_add(xi, nmod_mul(t, grids[i].node(static_cast<std::size_t>(a[i])), mod), mod);
    }
    return x;
  }
};

// One function's line results: per line it uses, num_0..num_dn then den_1..den_dd.
struct FunctionLines {
  LowerSet num_set, den_set;
  int dn, dd;
  std::vector<int> slot;  // line -> slot, or -1
  std::vector<u64> coeffs;
  bool ok = true;

  std::size_t width() const { return static_cast<std::size_t>(dn + dd + 1); }
};

// One evaluated line: its t-values and the black-box rows at them.
struct LineData {
  std::size_t line;
  const NodeSet* nodes;
  std::span<const std::vector<u64>> rows;
};

// Cauchy interpolation of one function (black-box column `id`) on each line of a batch that its
// supports contain.
void absorb_lines(FunctionLines& f, std::size_t id, std::span<const LineData> batch, const LinePlan& plan) {
  Poly num, den;
  std::vector<u64> y(f.width());
  for (const LineData& l : batch) {
    const auto& a = plan.lines[l.line];
    if (!f.ok || !(f.num_set.contains(a) || f.den_set.contains(a))) continue;
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = l.rows[i][id];
    if (!rational_interpolate(*l.nodes, y, f.dn, f.dd, num, den)) {
      f.ok = false;  // a line through a pole or cancellation: the check points will not pass
      continue;
    }
    f.slot[l.line] = static_cast<int>(f.coeffs.size() / f.width());
    f.coeffs.insert(f.coeffs.end(), num.begin(), num.end());
    f.coeffs.insert(f.coeffs.end(), den.begin() + 1, den.end());
  }
}

// Evaluates lines [first, last), redrawing t-values of bad points, and absorbs them.
void run_lines(PrimeContext& ctx, const Geometry& g, std::size_t first, std::size_t last, std::span<const int> active,
               std::vector<FunctionLines>& fl) {
  const LinePlan& plan = g.plan;
  Points points, values;
  std::vector<std::pair<std::size_t, std::size_t>> owner;  // (line, node position)
  std::vector<std::vector<u64>> tvals(last - first);
  for (std::size_t l = first; l < last; ++l) {
    const auto n = static_cast<std::size_t>(plan.line_nodes[l]);
    tvals[l - first].assign(g.tnodes.nodes().begin(), g.tnodes.nodes().begin() + static_cast<std::ptrdiff_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
      points.push_back(g.point(l, tvals[l - first][i], ctx.mod));
      owner.emplace_back(l, i);
    }
  }
  std::vector<bool> moved(last - first, false);
  ctx.prober.evaluate_all(ctx.mod.n, points, values, [&](std::size_t i) {
    auto [l, pos] = owner[i];
    auto& ts = tvals[l - first];
    u64 t;
    do t = random_residue(ctx.rng, ctx.mod.n);
    while (t == 0 || std::find(ts.begin(), ts.end(), t) != ts.end());
    ts[pos] = t;
    moved[l - first] = true;
    return g.point(l, t, ctx.mod);
  });
  std::deque<NodeSet> own;  // nodes of lines whose bad points got new t-values (stable addresses)
  std::vector<LineData> batch;
  for (std::size_t l = first, base = 0; l < last; base += static_cast<std::size_t>(plan.line_nodes[l++])) {
    if (moved[l - first]) own.emplace_back(tvals[l - first], ctx.mod);
    const NodeSet* nodes = moved[l - first] ? &own.back() : &g.tnodes;
    batch.push_back({l, nodes, {values.data() + base, static_cast<std::size_t>(plan.line_nodes[l])}});
  }
  parallel_for(active.size(), kFunctionGrain, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) absorb_lines(fl[j], static_cast<std::size_t>(active[j]), batch, plan);
  });
}

// N(x + s) (or D) from its line coefficients, shifted back to N(x). False when a coefficient
// falls outside the degree bounds (wrong degrees).
bool assemble(const FunctionLines& f, bool den, const Degrees& d, const Geometry& g, nmod_t mod, SparsePoly& out) {
  const LinePlan& plan = g.plan;
  const int total = den ? d.den : d.num;
  const LowerSet& zsupport = den ? f.den_set : f.num_set;
  const LowerSet full(den ? d.den_var : d.num_var, total);
  std::vector<u64> box(full.box_size(), 0), zbox;
  std::vector<int> e(plan.others.size() + 1, 0);
  for (int k = 0; k <= total; ++k) {
    const LowerSet zs(zsupport.bound(), std::min(k, zsupport.cap()));
    zbox.assign(zs.box_size(), 0);
    zs.for_each([&](std::span<const int> a, int, std::size_t idx) {
      if (den && k == 0) {
        zbox[idx] = 1;  // the normalization D(s + t z) = D(s) at t = 0
        return;
      }
      const auto line = static_cast<std::size_t>(plan.line_of[plan.grid_index(a)]);
      const auto slot = static_cast<std::size_t>(f.slot[line]);
      zbox[idx] = f.coeffs[slot * f.width() + static_cast<std::size_t>(den ? d.num + k : k)];
    });
    lower_set_interpolate(zs, g.grid_ptrs, zbox);
    bool inside = true;
    zs.for_each([&](std::span<const int> a, int sum, std::size_t idx) {
      if (zbox[idx] == 0) return;
      e[static_cast<std::size_t>(plan.lead)] = k - sum;  // x_lead = t, x_i = t z_i: t^k z^a -> x^e
      for (std::size_t i = 0; i < a.size(); ++i) e[static_cast<std::size_t>(plan.others[i])] = a[i];
      if (!full.contains(e)) inside = false;
      else box[full.index(e)] = zbox[idx];
    });
    if (!inside) return false;
  }
  std::vector<u64> neg_shift;
  for (u64 s : g.shift) neg_shift.push_back(nmod_neg(s, mod));
  lower_set_shift(full, neg_shift, box, mod);
  out = lower_set_to_sparse(full, box);
  return true;
}

// Marks functions whose result disagrees with the black box at random points.
void check_results(PrimeContext& ctx, std::span<const int> active, std::vector<ModularFunction>& out) {
  const int v = ctx.prober.variables();
  Points points, values;
  for (int i = 0; i < kCheckPoints; ++i) points.push_back(random_point(ctx.rng, v, ctx.mod.n));
  ctx.prober.evaluate_all(ctx.mod.n, points, values, [&](std::size_t) { return random_point(ctx.rng, v, ctx.mod.n); });
  parallel_for(active.size(), kFunctionGrain, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      ModularFunction& f = out[j];
      for (std::size_t i = 0; f.ok && i < points.size(); ++i) {
        const u64 n = sparse_evaluate(f.num, v, points[i], ctx.mod), d = sparse_evaluate(f.den, v, points[i], ctx.mod);
        const u64 y = values[i][static_cast<std::size_t>(active[j])];
        f.ok = d != 0 && n == nmod_mul(y, d, ctx.mod);
      }
    }
  });
}

// V = 0: one probe per prime.
ModularSummary constants(PrimeContext& ctx, std::span<const int> active, std::vector<ModularFunction>& out) {
  Points points(1), values;
  ctx.prober.evaluate_all(ctx.mod.n, points, values, [](std::size_t) { return std::vector<u64>{}; });
  out.assign(active.size(), {});
  for (std::size_t j = 0; j < active.size(); ++j) {
    out[j].ok = true;
    const u64 c = values[0][static_cast<std::size_t>(active[j])];
    if (c != 0) out[j].num.coeffs = {c};
    out[j].den.coeffs = {1};
  }
  return {1, 1, 0};
}

}  // namespace

ModularSummary reconstruct_modular(PrimeContext& ctx, std::span<const int> active, const std::vector<Degrees>& degrees,
                                   std::vector<ModularFunction>& out) {
  const int v = ctx.prober.variables();
  if (v == 0) return constants(ctx, active, out);
  const LinePlan plan = plan_lines(v, active, degrees);
  if (ctx.report)
    ctx.report(std::to_string(plan.lines.size()) + " lines planned, " + std::to_string(plan.probes()) + " probes (lead variable " +
               std::to_string(plan.lead + 1) + ")");
  ctx.prober.reserve(plan.probes() + kCheckPoints);  // give up now rather than after most of a prime
  Geometry g{plan, random_point(ctx.rng, v, ctx.mod.n), {}, {}, {}};
  for (int size : plan.grid_size)
    g.grids.emplace_back(distinct_residues(ctx.rng, static_cast<std::size_t>(size), ctx.mod.n, false), ctx.mod);
  for (const NodeSet& n : g.grids) g.grid_ptrs.push_back(&n);
  const int most = *std::max_element(plan.line_nodes.begin(), plan.line_nodes.end());
  g.tnodes = NodeSet(distinct_residues(ctx.rng, static_cast<std::size_t>(most), ctx.mod.n, true), ctx.mod);

  std::vector<FunctionLines> fl;
  for (int id : active) {
    const Degrees& d = degrees[static_cast<std::size_t>(id)];
    fl.push_back({num_support(d, plan), den_support(d, plan), d.num, d.den,
                  std::vector<int>(plan.lines.size(), -1), {}, true});
  }
  for (std::size_t first = 0; first < plan.lines.size();) {
    std::size_t last = first, n = 0;
    while (last < plan.lines.size() && n < ctx.prober.batch_points()) n += static_cast<std::size_t>(plan.line_nodes[last++]);
    run_lines(ctx, g, first, last, active, fl);
    first = last;
  }
  out.assign(active.size(), {});
  parallel_for(active.size(), kFunctionGrain, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      const Degrees& d = degrees[static_cast<std::size_t>(active[j])];
      out[j].ok = fl[j].ok && assemble(fl[j], false, d, g, ctx.mod, out[j].num) &&
                  assemble(fl[j], true, d, g, ctx.mod, out[j].den);
    }
  });
  check_results(ctx, active, out);
  return {plan.lines.size(), plan.probes() + kCheckPoints, plan.lead};
}

}  // namespace sailir::recon
