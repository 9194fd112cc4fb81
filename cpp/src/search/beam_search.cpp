#include "search/beam_search.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace sailir {

BeamRanking parse_beam_ranking(const std::string& name) {
  if (name == "max") return BeamRanking::max_weight;
  if (name == "total") return BeamRanking::total_weight;
  if (name == "both") return BeamRanking::both;
  throw std::invalid_argument("unknown beam ranking '" + name + "' (max, total, both)");
}

namespace {

// (r, s) packed so that a larger value is a higher weight level.
int level(const Integral& x, int n) { return r_of(x, n) * 1024 + s_of(x, n); }
int weight(const Integral& x, int n) { return r_of(x, n) + s_of(x, n); }

std::size_t content_hash(const Expression& e) {
  std::size_t h = 0x84222325CBF29CE4ULL;
  for (auto& [x, c] : e.terms()) {
    h ^= IntegralHash{}(x) + (c * 0x9E3779B97F4A7C15ULL);
    h *= 0x100000001B3ULL;
    h ^= h >> 31;
  }
  return h;
}

// Order keys of the integrals a job meets, computed once each: ranking children looks up every
// term of every candidate equation, so the table is flat (open addressing), not node-based.
class KeyCache {
 public:
  explicit KeyCache(const LaportaOrder& order) : order_(order), slots_(1024) {}
  const OrderKey& get(const Integral& x) {
    for (std::size_t i = IntegralHash{}(x) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& s = slots_[i];
      if (s.used && s.x == x) return s.key;
      if (!s.used) {
        if (2 * (used_ + 1) > slots_.size()) {
          grow();
          return get(x);
        }
        s = Slot{x, order_.key(x), true};
        ++used_;
        return s.key;
      }
    }
  }

 private:
  struct Slot {
    Integral x;
    OrderKey key;
    bool used = false;
  };
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.used)
        for (std::size_t i = IntegralHash{}(s.x) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1))
          if (!slots_[i].used) {
            slots_[i] = s;
            break;
          }
  }
  const LaportaOrder& order_;
  std::vector<Slot> slots_;
  std::size_t used_ = 0;
};

struct Node {
  ReductionState state;
  double score = 0;
  std::vector<PathStep> steps;
};

// One expansion of one node: a target and its candidates.
struct Expansion {
  std::size_t node;
  Integral target;
  std::vector<Candidate> cands;
};

struct Child {
  std::size_t expansion, cand;
  double score;
  OrderKey max_key;  // highest non-master left (all-zero key: none)
  long total;        // summed weights of the job sector's non-masters
};

constexpr double kUnscored = -1e300;  // children outside the weight levels that compete

// The targets a node offers: the canonical one, then others tied with it at its weight level.
std::vector<Integral> targets_of(const FamilyContext& ctx, const ReductionState& s, int tied) {
  std::vector<Integral> out;
  auto t = s.target();
  if (!t) return out;
  out.push_back(*t);
  if (tied <= 1) return out;
  const int n = ctx.n();
  const SectorId sec = sector_of(*t, n);
  const int lv = level(*t, n);
  std::vector<std::pair<OrderKey, Integral>> tie;
  for (auto& [x, c] : s.expression().terms())
    if (!(x == *t) && !ctx.is_master(x) && sector_of(x, n) == sec && level(x, n) == lv)
      tie.emplace_back(ctx.order().key(x), x);
  std::sort(tie.begin(), tie.end(), [](auto& a, auto& b) { return b.first < a.first; });
  for (std::size_t i = 0; i < tie.size() && out.size() < static_cast<std::size_t>(tied); ++i) out.push_back(tie[i].second);
  return out;
}

}  // namespace

bool job_done(const FamilyContext& ctx, const Integral& x, const Expression& e) {
  const int n = ctx.n();
  const SectorId sec = sector_of(x, n);
  const OrderKey kx = ctx.order().key(x);
  for (auto& [y, c] : e.terms())
    if (sector_of(y, n) == sec && !ctx.is_master(y) && !(ctx.order().key(y) < kx)) return false;
  return true;
}

JobOutcome beam_reduce(const FamilyContext& ctx, const Policy& policy, const Integral& x, const BeamOptions& opt) {
  const int n = ctx.n();
  const SectorId sec = sector_of(x, n);
  const LaportaOrder& order = ctx.order();
  JobOutcome out;
  std::vector<Node> beam;
  beam.push_back(Node{ReductionState(ctx, Expression::single(x)), 0.0, {}});
  if (job_done(ctx, x, beam[0].state.expression())) {
    out.solved = true;
    out.value = beam[0].state.expression();
    return out;
  }
  KeyCache keys(order);
  PolicyBatch batch;
  std::vector<float> scores;
  std::vector<Expansion> exps;
  std::vector<Child> children;
  SeedRegion region;
  if (opt.seed_r_extra >= 0) region.rmax = r_of(x, n) + opt.seed_r_extra;
  if (opt.seed_s_extra >= 0) region.smax = s_of(x, n) + opt.seed_s_extra;
  OrderKey best_max = ctx.order().key(x);
  int since_best = 0;
  for (int step = 0; step < opt.max_steps; ++step) {
    ++out.stats.steps;
    exps.clear();
    for (std::size_t i = 0; i < beam.size(); ++i) {
      for (const Integral& t : targets_of(ctx, beam[i].state, opt.tied_targets)) {
        Expansion e{i, t, beam[i].state.candidates(t, region)};
        if (!e.cands.empty()) exps.push_back(std::move(e));
      }
      ++out.stats.states_expanded;
    }
    if (exps.empty()) {
      out.failure = "no valid action left";
      return out;
    }

    // Rank every child by the weight it would leave, from the candidate equation alone (ignoring
    // cancellations), and build only the ones that make the beam.
    children.clear();
    for (std::size_t ei = 0; ei < exps.size(); ++ei) {
      const Expansion& e = exps[ei];
      const auto& et = beam[e.node].state.expression().terms();
      OrderKey base{};
      long total = 0;
      for (auto& [y, c] : et) {
        if (ctx.is_master(y) || y == e.target) continue;
        const OrderKey& k = keys.get(y);
        if (base < k) base = k;
        if (sector_of(y, n) == sec) total += weight(y, n);
      }
      for (std::size_t ci = 0; ci < e.cands.size(); ++ci) {
        OrderKey mk = base;
        long tot = total;
        std::size_t j = 0;  // both term lists are sorted: walk the expression alongside
        for (auto& [y, c] : e.cands[ci].equation->terms()) {
          if (y == e.target || ctx.is_master(y)) continue;
          const OrderKey& k = keys.get(y);
          if (mk < k) mk = k;
          if (sector_of(y, n) != sec) continue;
          while (j < et.size() && IntegralLess{}(et[j].first, y)) ++j;
          if (j == et.size() || !(et[j].first == y)) tot += weight(y, n);
        }
        children.push_back(Child{ei, ci, kUnscored, mk, tot});
      }
    }
    // max: the highest integral left, then the score; total: the summed weight, then the score;
    // both: the highest integral, then the summed weight, then the score.
    auto lighter = [&](const Child& a, const Child& b) {
      if (opt.ranking != BeamRanking::total_weight && !(a.max_key == b.max_key)) return a.max_key < b.max_key;
      if (opt.ranking != BeamRanking::max_weight && a.total != b.total) return a.total < b.total;
      return false;
    };
    auto better = [&](const Child& a, const Child& b) {
      if (lighter(a, b)) return true;
      if (lighter(b, a)) return false;
      if (a.score != b.score) return a.score > b.score;
      return a.expansion != b.expansion ? a.expansion < b.expansion : a.cand < b.cand;
    };
    // The policy decides only among children as light as the width-th lightest: it scores those
    // (log-probabilities normalised over them), and a long job's thousands of heavier candidates
    // cost no features. Scores are per candidate, so the choice among them is the same.
    {
      std::vector<std::size_t> idx(children.size());
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      const std::size_t w = std::min(idx.size(), static_cast<std::size_t>(opt.width)) - 1;
      std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(w), idx.end(),
                       [&](auto a, auto b) { return lighter(children[a], children[b]); });
      const Child cutoff = children[idx[w]];
      batch.clear();
      std::vector<std::size_t> scored;
      std::vector<Candidate> subset;
      auto flush = [&](std::size_t ei) {
        if (!subset.empty()) batch.add(beam[exps[ei].node].state, exps[ei].target, subset);
        subset.clear();
      };
      for (std::size_t i = 0; i < children.size(); ++i) {  // children come grouped by expansion
        if (i > 0 && children[i].expansion != children[i - 1].expansion) flush(children[i - 1].expansion);
        if (lighter(cutoff, children[i])) continue;
        subset.push_back(exps[children[i].expansion].cands[children[i].cand]);
        scored.push_back(i);
      }
      flush(children.back().expansion);
      policy.log_probs(batch, scores);
      ++out.stats.policy_calls;
      for (std::size_t k = 0; k < scored.size(); ++k) {
        Child& c = children[scored[k]];
        c.score = beam[exps[c.expansion].node].score + scores[k];
      }
    }
    std::vector<std::size_t> order_idx(children.size());
    for (std::size_t i = 0; i < children.size(); ++i) order_idx[i] = i;
    std::sort(order_idx.begin(), order_idx.end(), [&](auto a, auto b) { return better(children[a], children[b]); });
    // A search whose highest integral has not come down for `patience` steps is climbing away
    // (typically into ever more numerator powers): give up early, the caller retries or falls back.
    OrderKey step_best = children[order_idx[0]].max_key;
    for (auto& c : children)
      if (c.max_key < step_best) step_best = c.max_key;
    if (step_best < best_max) best_max = step_best, since_best = 0;
    else if (++since_best > opt.patience && opt.patience > 0) {
      out.failure = "no progress in " + std::to_string(opt.patience) + " steps";
      return out;
    }

    std::vector<Node> next;
    std::unordered_set<std::size_t> seen_state;
    for (std::size_t ci : order_idx) {
      if (next.size() >= static_cast<std::size_t>(opt.width)) break;
      const Child& c = children[ci];
      const Expansion& e = exps[c.expansion];
      Node& parent = beam[e.node];
      // One state per step: the child is always kept, so it takes its parent's state (and the
      // equations resolved through its table) instead of a copy.
      Node child = opt.width == 1 ? Node{std::move(parent.state), c.score, std::move(parent.steps)}
                                  : Node{parent.state, c.score, parent.steps};
      child.state.apply(e.target, e.cands[c.cand]);
      if (!seen_state.insert(content_hash(child.state.expression())).second) continue;
      child.steps.push_back(PathStep{e.target, e.cands[c.cand].action});
      if (job_done(ctx, x, child.state.expression())) {
        out.solved = true;
        out.value = child.state.expression();
        out.steps = std::move(child.steps);
        return out;
      }
      next.push_back(std::move(child));
    }
    beam = std::move(next);
  }
  out.failure = "not solved within " + std::to_string(opt.max_steps) + " steps";
  return out;
}

bool replay_job(const FamilyContext& ctx, const Integral& x, const std::vector<PathStep>& steps, Expression& value,
                std::string& why) {
  const int n = ctx.n();
  ReductionState state(ctx, Expression::single(x));
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PathStep& s = steps[i];
    if (!state.expression().contains(s.target)) {
      why = "step " + std::to_string(i + 1) + " of " + format_integral(x, n) + ": its target " +
            format_integral(s.target, n) + " is not in the expression";
      return false;
    }
    if (!state.apply(s.target, s.action)) {
      why = "step " + std::to_string(i + 1) + " of " + format_integral(x, n) + ": the identity no longer contains " +
            format_integral(s.target, n);
      return false;
    }
  }
  if (!job_done(ctx, x, state.expression())) {
    why = "the steps of " + format_integral(x, n) + " leave integrals that are not below it";
    return false;
  }
  value = state.expression();
  return true;
}

}  // namespace sailir
