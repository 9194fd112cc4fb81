#include "training/scramble.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <stdexcept>
#include <thread>

namespace sailir {

namespace {

// splitmix64: a tiny generator whose stream is fixed by its seed on every platform (the
// standard distributions are not), so a seed names the same data everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t s) : s_(s) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  u64 nonzero(nmod_t m) { return 1 + below(m.n - 1); }

 private:
  std::uint64_t s_;
};

template <class T>
void extend(std::vector<T>& dst, const std::vector<T>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

void push_expression(ScrambleBatch& b, const Expression& e, int n) {
  for (auto& [x, c] : e.terms()) {
    b.expr_powers.insert(b.expr_powers.end(), x.a.begin(), x.a.begin() + n);
    b.expr_coefs.push_back(c);
  }
}

struct ActionKey {
  int op;
  Integral seed;
  bool operator<(const ActionKey& o) const { return op != o.op ? op < o.op : IntegralLess{}(seed, o.seed); }
};

}  // namespace

void push_sample(ScrambleBatch& out, const ReductionState& state, const Integral& target,
                 const std::vector<Candidate>& cands, std::size_t label, int n) {
  const Action& a = cands[label].action;
  out.n_terms.push_back(static_cast<std::int32_t>(state.expression().size()));
  out.n_table.push_back(static_cast<std::int32_t>(state.table().size()));
  out.n_actions.push_back(static_cast<std::int32_t>(cands.size()));
  out.label.push_back(static_cast<std::int32_t>(label));
  out.label_op.push_back(a.op);
  out.label_seed.insert(out.label_seed.end(), a.seed.a.begin(), a.seed.a.begin() + n);
  state.features(target, cands, out.features);
}

void append(ScrambleBatch& dst, const ScrambleBatch& src) {
  extend(dst.traj_index, src.traj_index);
  extend(dst.traj_sector, src.traj_sector);
  extend(dst.traj_scramble_steps, src.traj_scramble_steps);
  extend(dst.traj_samples, src.traj_samples);
  extend(dst.start_terms, src.start_terms);
  extend(dst.scrambled_terms, src.scrambled_terms);
  extend(dst.expr_powers, src.expr_powers);
  extend(dst.expr_coefs, src.expr_coefs);
  extend(dst.n_terms, src.n_terms);
  extend(dst.n_table, src.n_table);
  extend(dst.n_actions, src.n_actions);
  extend(dst.label, src.label);
  extend(dst.label_op, src.label_op);
  extend(dst.label_seed, src.label_seed);
  extend(dst.features.target, src.features.target);
  extend(dst.features.terms, src.features.terms);
  extend(dst.features.table, src.features.table);
  extend(dst.features.actions, src.features.actions);
  extend(dst.features.ops, src.features.ops);
}

ScrambleGenerator::ScrambleGenerator(const FamilyContext& ctx, ScrambleOptions opt) : ctx_(ctx), opt_(opt) {
  if (ctx_.master_sectors().empty())
    throw std::invalid_argument("the family has no nonzero sector with masters: nothing to scramble");
  if (opt_.min_steps < 1 || opt_.max_steps < opt_.min_steps)
    throw std::invalid_argument("scramble steps must satisfy 1 <= min <= max");
}

void ScrambleGenerator::attempt(std::uint64_t seed, std::int64_t index, ScrambleBatch& out, ScrambleStats& stats) const {
  const int n = ctx_.n();
  const nmod_t m = ctx_.modulus();
  const IdentitySet& ids = ctx_.identities();
  Rng rng(seed * 0xD1B54A32D192ED03ULL ^ static_cast<std::uint64_t>(index) * 0x9E3779B97F4A7C15ULL);
  ++stats.attempts;

  const auto& sectors = ctx_.master_sectors();
  const SectorId sec = sectors[rng.below(sectors.size())];
  const auto& masters = ctx_.sector_masters(sec);
  const int rmax = lines_of(sec) + opt_.max_dots, smax = opt_.max_numerators;
  auto in_bounds = [&](const Integral& x) {
    return (sector_of(x, n) & ~sec) == 0 && r_of(x, n) <= rmax && s_of(x, n) <= smax;
  };

  std::vector<Expression::Entry> start_terms;
  for (const Integral& x : masters)
    if (rng.below(2)) start_terms.emplace_back(x, rng.nonzero(m));
  if (start_terms.empty()) start_terms.emplace_back(masters[rng.below(masters.size())], rng.nonzero(m));
  const Expression start = Expression::from_terms(start_terms, m);

  // Scramble: each identity is solved for a term J of the sector and substituted, or added with a
  // random factor when J is absent.
  Expression e = start;
  const int steps = opt_.min_steps + static_cast<int>(rng.below(opt_.max_steps - opt_.min_steps + 1));
  std::map<ActionKey, int> recorded;
  std::vector<Integral> pool;
  for (int step = 0; step < steps; ++step) {
    pool.clear();
    for (auto& [x, c] : e.terms())
      if (sector_of(x, n) == sec) pool.push_back(x);
    for (int tries = 0; tries < 64; ++tries) {
      Integral j = pool.empty() ? masters[rng.below(masters.size())] : pool[rng.below(pool.size())];
      if (rng.below(3) == 0) {  // a neighbour of a present term, usually absent from e
        j.a[rng.below(n)] += rng.below(2) ? 1 : -1;
        if (sector_of(j, n) != sec || !ctx_.is_valid(j) || !in_bounds(j)) continue;
      }
      const int op = static_cast<int>(rng.below(ids.size()));
      const auto& sh = ids.shift(op, static_cast<int>(rng.below(ids.terms(op))));
      Integral s = j;
      for (int i = 0; i < n; ++i) s.a[i] = static_cast<std::int8_t>(j.a[i] - sh[i]);
      Expression eq;
      if (recorded.count({op, s}) || !ctx_.equation(op, s, eq)) continue;
      const u64 cj = eq.coef(j);
      if (cj == 0 || !std::all_of(eq.terms().begin(), eq.terms().end(), [&](auto& t) { return in_bounds(t.first); }))
        continue;
      const u64 ej = e.coef(j);
      const u64 f = ej ? nmod_neg(nmod_mul(ej, nmod_inv(cj, m), m), m) : rng.nonzero(m);
      e.add_scaled(eq, f, m);
      recorded.emplace(ActionKey{op, s}, step);
      break;
    }
  }
  const Expression scrambled = e;

  // Unscramble with the canonical target; the label is the latest recorded identity among the
  // valid actions (the one that undoes the most recent scrambling first).
  // Samples go straight into `out`; a trajectory that fails is cut off again.
  const std::size_t mark_samples = out.label.size(), mark_seed = out.label_seed.size(),
                    mark_target = out.features.target.size(), mark_terms = out.features.terms.size(),
                    mark_table = out.features.table.size(), mark_actions = out.features.actions.size(),
                    mark_ops = out.features.ops.size();
  auto rollback = [&] {
    for (auto* v : {&out.n_terms, &out.n_table, &out.n_actions, &out.label, &out.label_op}) v->resize(mark_samples);
    out.label_seed.resize(mark_seed);
    out.features.target.resize(mark_target);
    out.features.terms.resize(mark_terms);
    out.features.table.resize(mark_table);
    out.features.actions.resize(mark_actions);
    out.features.ops.resize(mark_ops);
  };
  ReductionState state(ctx_, e);
  const int max_iter = 4 * steps + 20;
  bool stuck = false;
  int iter = 0;
  while (auto target = state.target()) {
    if (++iter > max_iter) {
      stuck = true;
      break;
    }
    std::vector<Candidate> cands = state.candidates(*target);
    int label = -1, best = -1;
    for (std::size_t i = 0; i < cands.size(); ++i) {
      auto it = recorded.find({cands[i].action.op, cands[i].action.seed});
      if (it != recorded.end() && it->second > best) best = it->second, label = static_cast<int>(i);
    }
    if (label < 0) {
      stuck = true;
      break;
    }
    push_sample(out, state, *target, cands, static_cast<std::size_t>(label), n);
    state.apply(*target, cands[label]);
  }
  if (stuck || !(state.expression() == start)) {
    ++(stuck ? stats.stuck : stats.mismatched);
    rollback();
    return;
  }
  ++stats.kept;
  const std::size_t samples = out.label.size() - mark_samples;
  stats.samples += samples;
  out.traj_index.push_back(index);
  out.traj_sector.push_back(static_cast<std::int32_t>(sec));
  out.traj_scramble_steps.push_back(static_cast<std::int32_t>(recorded.size()));
  out.traj_samples.push_back(static_cast<std::int32_t>(samples));
  out.start_terms.push_back(static_cast<std::int32_t>(start.size()));
  out.scrambled_terms.push_back(static_cast<std::int32_t>(scrambled.size()));
  push_expression(out, start, n);
  push_expression(out, scrambled, n);
}

ScrambleBatch ScrambleGenerator::generate(std::uint64_t seed, std::int64_t first, std::int64_t count, int threads,
                                          ScrambleStats* stats) const {
  threads = std::max(1, static_cast<int>(std::min<std::int64_t>(threads, std::max<std::int64_t>(count, 1))));
  std::vector<ScrambleBatch> parts(threads);
  std::vector<ScrambleStats> part_stats(threads);
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](int t) {
    try {
      const std::int64_t lo = first + count * t / threads, hi = first + count * (t + 1) / threads;
      for (std::int64_t i = lo; i < hi; ++i) attempt(seed, i, parts[t], part_stats[t]);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  }
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);
  ScrambleBatch out = std::move(parts[0]);
  out.n = ctx_.n();
  for (int t = 1; t < threads; ++t) append(out, parts[t]);
  if (stats)
    for (const ScrambleStats& s : part_stats) *stats += s;
  return out;
}

}  // namespace sailir
