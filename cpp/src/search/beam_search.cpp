#include "search/beam_search.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace sailir {

BeamRanking parse_beam_ranking(const std::string& name) {
  if (name == "max") return BeamRanking::max_weight;
  if (name == "total") return BeamRanking::total_weight;
  if (name == "both") return BeamRanking::both;
  if (name == "policy") return BeamRanking::policy;
  if (name == "auto") return BeamRanking::automatic;
  throw std::invalid_argument("unknown beam ranking '" + name + "' (auto, max, total, both, policy)");
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
constexpr long kHeavy = std::numeric_limits<long>::max();  // summed weight not computed (it cannot matter)

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

// What the expression leaves besides the target: its highest non-master, and the summed weights
// of the job sector's non-masters.
struct Base {
  OrderKey top{};
  long total = 0;
};
Base base_of(const FamilyContext& ctx, const ReductionState& s, const Integral& target, SectorId sec) {
  const int n = ctx.n();
  Base b;
  for (auto& [y, c] : s.expression().terms()) {
    if (ctx.is_master(y) || y == target) continue;
    const OrderKey k = ctx.order().key(y);
    if (b.top < k) b.top = k;
    if (sector_of(y, n) == sec) b.total += weight(y, n);
  }
  return b;
}

// The summed weight a candidate leaves: the base's plus its equation's same-sector non-masters
// that the expression lacks.
long total_after(const FamilyContext& ctx, const ReductionState& s, const Integral& target, SectorId sec,
                 long base_total, const Expression& eq) {
  const int n = ctx.n();
  const auto& et = s.expression().terms();
  long tot = base_total;
  std::size_t j = 0;  // both term lists are sorted: walk the expression alongside
  for (auto& [y, c] : eq.terms()) {
    if (y == target || sector_of(y, n) != sec || ctx.is_master(y)) continue;
    while (j < et.size() && IntegralLess{}(et[j].first, y)) ++j;
    if (j == et.size() || !(et[j].first == y)) tot += weight(y, n);
  }
  return tot;
}

// Streaming (a worker at its memory budget): of the target's candidates, only those as light as
// the width-th lightest can make the beam (or be scored), so only they are kept; the rest are
// resolved, weighed and dropped. The kept ones come in the fixed order, so the search takes the
// same path as with every candidate in memory. Under the policy ranking every candidate would be
// a contender, and keeping them all would not bound memory: a streamed step keeps those that
// leave the lowest highest integral, and the policy chooses among them (the path can then differ
// from an unstreamed one).
std::vector<Candidate> lightest_candidates(const FamilyContext& ctx, const ReductionState& s, const Integral& target,
                                           SectorId sec, const SeedRegion& region, const BeamOptions& opt) {
  struct Kept {
    OrderKey max_key;
    long total;
    Candidate cand;
  };
  const Base base = base_of(ctx, s, target, sec);
  const std::size_t w = static_cast<std::size_t>(opt.width);
  auto key_less = [&](const Kept& a, const Kept& b) {
    if (opt.ranking != BeamRanking::total_weight && !(a.max_key == b.max_key)) return a.max_key < b.max_key;
    return opt.ranking != BeamRanking::max_weight && a.total < b.total;
  };
  std::vector<Kept> kept;
  auto prune = [&] {  // drop those heavier than the w-th lightest (ties stay)
    if (kept.size() <= w) return;
    std::vector<Kept*> ptr;
    for (Kept& k : kept) ptr.push_back(&k);
    std::nth_element(ptr.begin(), ptr.begin() + static_cast<std::ptrdiff_t>(w - 1), ptr.end(),
                     [&](Kept* a, Kept* b) { return key_less(*a, *b); });
    const Kept cutoff = *ptr[w - 1];
    std::erase_if(kept, [&](const Kept& k) { return key_less(cutoff, k); });
  };
  s.stream_candidates(target, region, [&](Candidate&& c) {
    Kept k{base.top < c.top ? c.top : base.top, 0, std::move(c)};
    if (opt.ranking == BeamRanking::total_weight || opt.ranking == BeamRanking::both)
      k.total = total_after(ctx, s, target, sec, base.total, *k.cand.equation);
    kept.push_back(std::move(k));
    if (kept.size() > 2 * w + 64) prune();
  });
  prune();
  std::vector<Candidate> out;
  for (Kept& k : kept) out.push_back(std::move(k.cand));
  sort_candidates(out);
  return out;
}

// The state a job starts from: x alone, expressed through the carried state's table if any
// (which is taken).
ReductionState start_state(const FamilyContext& ctx, const Integral& x, std::optional<ReductionState>* warm) {
  if (!warm || !*warm) return ReductionState(ctx, Expression::single(x));
  ReductionState s = std::move(**warm);
  warm->reset();
  s.restart(Expression::single(x));
  return s;
}

// The budget, checked at every step. Pressed, a worker flushes its cache of resolved equations,
// which refills with what the job still needs; still pressed, a job that continued the table of
// earlier jobs drops it (it fails with JobFailure::memory and is started afresh). Pressed again
// soon after a flush, the search streams candidates instead of caching them (as it does for a
// step whose equations alone press it: see ReductionState::candidates) until memory falls well
// below the budget. Past the budget with nothing left to drop, the job fails.
bool within_budget(std::vector<Node>& beam, const MemoryMeter* meter, bool warm, int step, int& last_flush,
                   JobOutcome& out) {
  constexpr int kFlushInterval = 16;
  if (!meter) return true;
  if (!meter->pressed()) {
    for (Node& nd : beam)
      if (nd.state.streaming() && !meter->near_budget(0.4)) nd.state.set_streaming(false);
    return true;
  }
  const bool flush = step - last_flush >= kFlushInterval;
  last_flush = step;
  for (Node& nd : beam) {
    if (nd.state.streaming()) continue;
    if (flush || warm) nd.state.drop_resolved();
    else nd.state.set_streaming(true);
  }
  const bool drop_carry = warm && meter->pressed();
  if (!drop_carry && !meter->over_budget()) return true;
  std::size_t keys = 0;
  for (const Node& nd : beam) keys += nd.state.table().size();
  out.why = JobFailure::memory;
  out.failure = "its state (" + std::to_string(keys) + " table keys, " + format_size(meter->bytes()) +
                ") exceeds the worker's memory budget of " + format_size(meter->budget());
  return false;
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

std::size_t lightest_candidate(const FamilyContext& ctx, const ReductionState& s, const Integral& target,
                               const std::vector<Candidate>& cands, BeamRanking ranking) {
  if (cands.empty()) throw std::invalid_argument("lightest_candidate: no candidates");
  const SectorId sec = sector_of(target, ctx.n());
  const Base base = base_of(ctx, s, target, sec);
  auto max_key = [&](const Candidate& c) { return base.top < c.top ? c.top : base.top; };
  auto total = [&](const Candidate& c) { return total_after(ctx, s, target, sec, base.total, *c.equation); };
  std::size_t best = 0;
  OrderKey best_key = max_key(cands[0]);
  long best_total = ranking == BeamRanking::max_weight ? 0 : total(cands[0]);
  for (std::size_t i = 1; i < cands.size(); ++i) {
    const OrderKey k = max_key(cands[i]);
    if (ranking != BeamRanking::total_weight && !(k == best_key)) {
      if (best_key < k) continue;
    } else if (ranking == BeamRanking::max_weight || total(cands[i]) >= best_total) {
      continue;
    }
    best = i;
    best_key = k;
    best_total = ranking == BeamRanking::max_weight ? 0 : total(cands[i]);
  }
  return best;
}

JobOutcome beam_reduce(const FamilyContext& ctx, const Policy& policy, const Integral& x, const BeamOptions& opt,
                       std::optional<ReductionState>* warm) {
  if (opt.ranking == BeamRanking::automatic) {
    BeamOptions chosen = opt;
    chosen.ranking = policy.ranks_alone() ? BeamRanking::policy : BeamRanking::both;
    return beam_reduce(ctx, policy, x, chosen, warm);
  }
  const int n = ctx.n();
  const SectorId sec = sector_of(x, n);
  JobOutcome out;
  std::vector<Node> beam;
  if (opt.width != 1) warm = nullptr;
  const bool warm_start = warm && warm->has_value();
  beam.push_back(Node{start_state(ctx, x, warm), 0.0, {}});
  if (job_done(ctx, x, beam[0].state.expression())) {
    out.solved = true;
    out.value = beam[0].state.expression();
    if (warm) warm->emplace(std::move(beam[0].state));
    return out;
  }
  PolicyBatch batch;
  std::vector<float> scores;
  std::vector<Expansion> exps;
  std::vector<Child> children;
  SeedRegion region;
  if (opt.seed_r_extra >= 0) region.rmax = r_of(x, n) + opt.seed_r_extra;
  if (opt.seed_s_extra >= 0) region.smax = s_of(x, n) + opt.seed_s_extra;
  OrderKey best_max = ctx.order().key(x);
  int since_best = 0;
  int last_flush = -1000;
  for (int step = 0; step < opt.max_steps; ++step) {
    ++out.stats.steps;
    exps.clear();  // last step's candidates hold equations the budget may want to free
    if (!within_budget(beam, opt.meter, warm_start, step, last_flush, out)) return out;
    if (opt.stop && opt.stop->load(std::memory_order_relaxed)) {
      out.why = JobFailure::interrupted;
      out.failure = "interrupted";
      return out;
    }
    if (beam[0].state.streaming()) ++out.stats.streamed_steps;
    for (std::size_t i = 0; i < beam.size(); ++i) {
      for (const Integral& t : targets_of(ctx, beam[i].state, opt.tied_targets)) {
        const ReductionState& st = beam[i].state;
        bool pressed = false;  // then the state streams from here on, and so does this step
        Expansion e{i, t, st.streaming() ? std::vector<Candidate>{} : st.candidates(t, region, &pressed)};
        if (st.streaming()) e.cands = lightest_candidates(ctx, st, t, sec, region, opt);
        if (!e.cands.empty()) exps.push_back(std::move(e));
      }
      ++out.stats.states_expanded;
    }
    if (exps.empty()) {
      out.why = JobFailure::no_action;
      out.failure = "no valid action left";
      return out;
    }

    // Rank every child by the weight it would leave, from the candidate equation alone (ignoring
    // cancellations), and build only the ones that make the beam.
    children.clear();
    std::vector<long> base_total(exps.size());
    for (std::size_t ei = 0; ei < exps.size(); ++ei) {
      const Expansion& e = exps[ei];
      const Base base = base_of(ctx, beam[e.node].state, e.target, sec);
      base_total[ei] = base.total;
      for (std::size_t ci = 0; ci < e.cands.size(); ++ci) {
        const OrderKey& top = e.cands[ci].top;
        children.push_back(Child{ei, ci, kUnscored, base.top < top ? top : base.top, kHeavy});
      }
    }
    // The summed weight, where it can matter: every child under `total`; under `both`, only those
    // whose highest integral is as low as the width-th lowest (the others lose on that alone).
    if (opt.ranking == BeamRanking::total_weight || opt.ranking == BeamRanking::both) {
      OrderKey limit{};
      const std::size_t w = std::min(children.size(), static_cast<std::size_t>(opt.width)) - 1;
      if (opt.ranking == BeamRanking::both) {
        std::vector<OrderKey> tops(children.size());
        for (std::size_t i = 0; i < children.size(); ++i) tops[i] = children[i].max_key;
        std::nth_element(tops.begin(), tops.begin() + static_cast<std::ptrdiff_t>(w), tops.end());
        limit = tops[w];
      }
      for (Child& ch : children) {
        if (opt.ranking == BeamRanking::both && limit < ch.max_key) continue;
        const Expansion& e = exps[ch.expansion];
        ch.total = total_after(ctx, beam[e.node].state, e.target, sec, base_total[ch.expansion],
                               *e.cands[ch.cand].equation);
      }
    }
    // max: the highest integral left, then the score; total: the summed weight, then the score;
    // both: the highest integral, then the summed weight, then the score.
    auto lighter = [&](const Child& a, const Child& b) {
      if (opt.ranking == BeamRanking::policy) return false;  // the scores alone decide
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
    // cost no features. Scores are per candidate, so the choice among them is the same. A child
    // alone in its expansion has log-probability 0 and needs no policy call: with the default
    // ranking this is most steps, and a call costs features of the whole table.
    std::vector<std::size_t> scored;
    {
      std::vector<std::size_t> idx(children.size());
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      const std::size_t w = std::min(idx.size(), static_cast<std::size_t>(opt.width)) - 1;
      std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(w), idx.end(),
                       [&](auto a, auto b) { return lighter(children[a], children[b]); });
      const Child cutoff = children[idx[w]];
      batch.clear();
      std::vector<Candidate> subset;
      std::vector<std::size_t> group, in_batch;  // scored children of one expansion; of the batch
      auto flush = [&](std::size_t ei) {
        const Expansion& e = exps[ei];
        if (group.size() == 1) {
          children[group[0]].score = beam[e.node].score;
        } else if (!group.empty()) {
          batch.add(beam[e.node].state, e.target, subset);
          in_batch.insert(in_batch.end(), group.begin(), group.end());
        }
        subset.clear();
        group.clear();
      };
      for (std::size_t i = 0; i < children.size(); ++i) {  // children come grouped by expansion
        if (i > 0 && children[i].expansion != children[i - 1].expansion) flush(children[i - 1].expansion);
        if (lighter(cutoff, children[i])) continue;
        subset.push_back(exps[children[i].expansion].cands[children[i].cand]);
        group.push_back(i);
        scored.push_back(i);
      }
      flush(children.back().expansion);
      if (!in_batch.empty()) {
        if (opt.logits) {
          opt.logits(batch, scores);
          Policy::normalize(batch.actions, scores);
        } else {
          policy.log_probs(batch, scores);
        }
        ++out.stats.policy_calls;
        for (std::size_t k = 0; k < in_batch.size(); ++k) {
          Child& c = children[in_batch[k]];
          c.score = beam[exps[c.expansion].node].score + scores[k];
        }
      }
    }
    // The scored children are lighter than all others: rank them first, the rest only if
    // duplicates leave the beam short.
    std::vector<std::size_t> order_idx = scored;
    std::sort(order_idx.begin(), order_idx.end(), [&](auto a, auto b) { return better(children[a], children[b]); });
    // A search whose highest integral has not come down for `patience` steps is climbing away
    // (typically into ever more numerator powers): give up early, the caller retries or falls back.
    OrderKey step_best = children[order_idx[0]].max_key;
    for (auto& c : children)
      if (c.max_key < step_best) step_best = c.max_key;
    if (step_best < best_max) best_max = step_best, since_best = 0;
    else if (++since_best > opt.patience && opt.patience > 0) {
      out.why = JobFailure::no_progress;
      out.failure = "no progress in " + std::to_string(opt.patience) + " steps";
      return out;
    }

    std::vector<Node> next;
    std::unordered_set<std::size_t> seen_state;
    for (std::size_t k = 0; k < order_idx.size() && next.size() < static_cast<std::size_t>(opt.width); ++k) {
      const Child& c = children[order_idx[k]];
      const Expansion& e = exps[c.expansion];
      Node& parent = beam[e.node];
      const Candidate chosen = e.cands[c.cand];
      // One state per step: the child is always kept, so it takes its parent's state (and the
      // equations resolved through its table) instead of a copy; the other candidates are
      // dropped first, so that updating the equations they shared copies nothing.
      Node child = opt.width == 1 ? Node{std::move(parent.state), c.score, std::move(parent.steps)}
                                  : Node{parent.state, c.score, parent.steps};
      if (opt.width == 1)
        for (Expansion& other : exps) other.cands.clear();
      child.state.apply(e.target, chosen);
      if (seen_state.insert(content_hash(child.state.expression())).second) {
        child.steps.push_back(PathStep{e.target, chosen.action});
        if (job_done(ctx, x, child.state.expression())) {
          out.solved = true;
          out.value = child.state.expression();
          out.steps = std::move(child.steps);
          if (warm) warm->emplace(std::move(child.state));
          return out;
        }
        next.push_back(std::move(child));
      }
      if (k + 1 == order_idx.size() && order_idx.size() == scored.size() && next.size() < static_cast<std::size_t>(opt.width)) {
        std::vector<char> is_scored(children.size(), 0);
        for (std::size_t i : scored) is_scored[i] = 1;
        std::vector<std::size_t> rest;
        for (std::size_t i = 0; i < children.size(); ++i)
          if (!is_scored[i]) rest.push_back(i);
        std::sort(rest.begin(), rest.end(), [&](auto a, auto b) { return better(children[a], children[b]); });
        order_idx.insert(order_idx.end(), rest.begin(), rest.end());
      }
    }
    beam = std::move(next);
  }
  out.why = JobFailure::step_limit;
  out.failure = "not solved within " + std::to_string(opt.max_steps) + " steps";
  return out;
}

bool replay_job(const FamilyContext& ctx, const Integral& x, const std::vector<PathStep>& steps, Expression& value,
                std::string& why, std::optional<ReductionState>* warm) {
  const int n = ctx.n();
  ReductionState state = start_state(ctx, x, warm);
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
  if (warm) warm->emplace(std::move(state));
  return true;
}

}  // namespace sailir
