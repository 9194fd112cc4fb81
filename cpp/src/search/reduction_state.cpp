#include "search/reduction_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "laporta/laporta.hpp"

namespace sailir {

namespace {

// Coefficients of an expression's terms in an open-addressing table: features look up every
// term of every candidate equation, and a node-based map costs a cache miss per probe.
class CoefIndex {
 public:
  explicit CoefIndex(const Expression& e) {
    std::size_t cap = 16;
    while (cap < 2 * e.size()) cap *= 2;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (auto& [x, c] : e.terms()) {
      std::size_t i = IntegralHash{}(x) & mask_;
      while (slots_[i].coef) i = (i + 1) & mask_;
      slots_[i] = Slot{x, c};
    }
  }
  u64 coef(const Integral& x) const {  // 0 when absent (terms are nonzero)
    for (std::size_t i = IntegralHash{}(x) & mask_;; i = (i + 1) & mask_) {
      if (!slots_[i].coef) return 0;
      if (slots_[i].key == x) return slots_[i].coef;
    }
  }

 private:
  struct Slot {
    Integral key;
    u64 coef = 0;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

FamilyContext::FamilyContext(const FamilyDef& family, const NumericPoint& point, u64 prime,
                             std::vector<Integral> preferred)
    : n_(family.n), mod_{prime}, hash_(family.hash), order_(family.n, preferred) {
  ids_ = std::make_unique<IdentitySet>(family, point_in_field(point, mod_), mod_);
  for (int i = 0; i < n_; ++i)
    if (!family.is_irreducible(i)) line_mask_ |= SectorId{1} << i;
  LaportaReducer laporta(family, point, prime, std::move(preferred));
  masters_ = laporta.masters();
  zero_.assign(std::size_t{1} << n_, 1);
  for (SectorId s : laporta.nonzero_sectors()) zero_[s] = 0;
  masters_by_sector_.resize(std::size_t{1} << n_);
  for (const Integral& m : masters_) {
    masters_by_sector_[sector_of(m, n_)].push_back(m);
    sector_masters_[sector_of(m, n_)].push_back(m);
  }
  for (auto& [s, ms] : sector_masters_) master_sectors_.push_back(s);
  std::sort(master_sectors_.begin(), master_sectors_.end());
}

const std::vector<Integral>& FamilyContext::sector_masters(SectorId s) const {
  static const std::vector<Integral> none;
  auto it = sector_masters_.find(s);
  return it == sector_masters_.end() ? none : it->second;
}

bool FamilyContext::equation(int op, const Integral& seed, Expression& out) const {
  thread_local std::vector<Term> raw;
  raw.clear();
  ids_->equation(op, seed, raw);
  std::vector<Expression::Entry> terms;
  terms.reserve(raw.size());
  for (const Term& t : raw) {
    if (!is_valid(t.integral)) return false;
    if (!is_zero(t.integral)) terms.emplace_back(t.integral, t.coef);
  }
  out = Expression::from_terms(terms, mod_);
  return true;
}

std::string feature_spec(int n) {
  return "v" + std::to_string(kFeaturesVersion) + " n=" + std::to_string(n) +
         " target=[powers(n),sector_bits(n),r,s,log1p_terms,log1p_table]"
         " term=[power-target(n),same_sector,lines_diff,r_diff,s_diff,is_master,order_cmp,log1p_keys_using]"
         " table=[key-target(n),r_diff,s_diff,log1p_value_size,value_has_target]"
         " action=[delta(n),direct,log1p_eq_size,in_expr,new,higher,masters,cancelled,new_higher]"
         " float16-rounded";
}

ReductionState::ReductionState(const FamilyContext& ctx, Expression expression)
    : ctx_(&ctx),
      expr_(std::move(expression)),
      table_(ctx.modulus()),
      resolved_(std::make_shared<ResolvedCache>()) {}

std::optional<Integral> highest_non_master(const FamilyContext& ctx, const Expression& e) {
  std::optional<Integral> best;
  OrderKey best_key;
  for (auto& [x, c] : e.terms()) {
    if (ctx.is_master(x)) continue;
    OrderKey k = ctx.order().key(x);
    if (!best || best_key < k) best = x, best_key = k;
  }
  return best;
}

void ReductionState::restart(Expression e) {
  table_.resolve(e);
  expr_ = std::move(e);
}

std::size_t ReductionState::table_terms() const {
  std::size_t k = 0;
  for (auto& [key, v] : table_.values()) k += v.size();
  return k;
}

std::optional<Integral> ReductionState::target() const { return highest_non_master(*ctx_, expr_); }


namespace {

// The validity rule of an action's substituted equation: nothing outside the target's sector and
// its subsectors.
bool within_sectors(const Expression& eq, SectorId sec, int n) {
  return std::none_of(eq.terms().begin(), eq.terms().end(), [&](auto& t) { return (sector_of(t.first, n) & ~sec) != 0; });
}

}  // namespace

bool ReductionState::candidate(const Integral& target, const Action& a, Candidate& out) const {
  const int n = ctx_->n();
  const SectorId sec = sector_of(target, n);
  Expression eq;
  if (!ctx_->equation(a.op, a.seed, eq)) return false;
  // Exact early rejection: a term outside the target's sectors that is neither a key nor in any
  // key's value survives substitution, so the action is invalid.
  for (auto& [x, c] : eq.terms())
    if ((sector_of(x, n) & ~sec) != 0 && !table_.has(x) && table_.use_count(x) == 0) return false;
  table_.resolve(eq);
  if (!eq.contains(target)) return false;
  if (!within_sectors(eq, sec, n)) return false;
  out.action = a;
  out.equation = std::make_shared<const Expression>(std::move(eq));
  return true;
}

namespace {

struct ActionHash {
  std::size_t operator()(const std::pair<int, Integral>& p) const {
    return IntegralHash{}(p.second) ^ (static_cast<std::size_t>(p.first) * 0x9E3779B97F4A7C15ULL);
  }
};

}  // namespace

struct ReductionState::ResolvedCache {
  // One equation with what a step asks of it, updated whenever the equation changes, so that
  // offering and ranking a candidate costs a lookup instead of a walk over its terms.
  struct Entry {
    int op = 0;
    Integral seed;
    std::shared_ptr<Expression> eq;  // null: outside the family
    SectorId sectors = 0;            // union of the sectors of its terms
    OrderKey top[2]{};               // the two highest non-masters (all-zero: none) ...
    Integral top_x[2]{};             // ... and which integrals they are
  };
  SeedRegion region;  // the region the equations were gathered in
  std::vector<Entry, Metered<Entry>> entries;
  template <class K, class V, class H>
  using Map = std::unordered_map<K, V, H, std::equal_to<K>, Metered<std::pair<const K, V>>>;
  using Ids = std::vector<std::uint32_t, Metered<std::uint32_t>>;
  Map<std::pair<int, Integral>, std::uint32_t, ActionHash> ids;  // (op, seed) -> entry
  // non-master integral -> entries whose equation holds or held it: a step touches only those.
  // Appended to, never searched: terms cancel and come back often, so a list may repeat an id or
  // name one that no longer holds the integral; a step sorts its target's list and checks each
  // equation. The lists are rebuilt once the terms that appeared since the last rebuild outnumber
  // the live ones, which keeps them under twice the live terms (four bytes an id).
  Map<Integral, Ids, IntegralHash> holders;
  std::size_t live = 0, churn = 0;  // terms in the equations; terms added to them since the rebuild
  void rebuild_holders(const FamilyContext& ctx) {
    holders.clear();
    live = churn = 0;
    for (std::uint32_t id = 0; id < entries.size(); ++id)
      if (entries[id].eq) hold(ctx, id);
  }
  void hold(const FamilyContext& ctx, std::uint32_t id) {
    live += entries[id].eq->size();
    for (auto& [y, c] : entries[id].eq->terms())
      if (!ctx.is_master(y)) holders[y].push_back(id);
  }
  std::unordered_set<Integral, IntegralHash, std::equal_to<Integral>, Metered<Integral>> expanded;  // keys whose surrounding equations are all in entries
};

namespace {

void sorted_unique(ReductionState::ResolvedCache::Ids& ids) {
  if (!std::is_sorted(ids.begin(), ids.end())) std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// Recomputes what steps ask of an equation after it changed.
void summarize(const FamilyContext& ctx, ReductionState::ResolvedCache::Entry& e) {
  const int n = ctx.n();
  const LaportaOrder& order = ctx.order();
  e.sectors = 0;
  e.top[0] = e.top[1] = OrderKey{};
  for (auto& [x, c] : e.eq->terms()) {
    e.sectors |= sector_of(x, n);
    if (order.hi(x) < e.top[1].hi || ctx.is_master(x)) continue;  // most terms: the leading word decides
    const OrderKey k = order.key(x);
    if (e.top[0] < k) {
      e.top[1] = e.top[0], e.top_x[1] = e.top_x[0];
      e.top[0] = k, e.top_x[0] = x;
    } else if (e.top[1] < k) {
      e.top[1] = k, e.top_x[1] = x;
    }
  }
}

}  // namespace

void sort_candidates(std::vector<Candidate>& cands) {
  std::sort(cands.begin(), cands.end(), [&](const Candidate& x, const Candidate& y) {
    if (x.action.direct != y.action.direct) return x.action.direct;
    return x.action.op != y.action.op ? x.action.op < y.action.op : IntegralLess{}(x.action.seed, y.action.seed);
  });
}

namespace {

// The highest non-master of an equation other than `target` (all-zero: none).
OrderKey top_other_than(const FamilyContext& ctx, const Expression& eq, const Integral& target) {
  OrderKey top{};
  for (auto& [x, c] : eq.terms())
    if (!(x == target) && !ctx.is_master(x) && top < ctx.order().key(x)) top = ctx.order().key(x);
  return top;
}

}  // namespace

void ReductionState::set_streaming(bool on) const {
  streaming_ = on;
  if (on) drop_resolved();
}

void ReductionState::stream_candidates(const Integral& target, const SeedRegion& region,
                                       const std::function<void(Candidate&&)>& keep) const {
  const IdentitySet& ids = ctx_->identities();
  const int n = ctx_->n();
  std::unordered_set<std::pair<int, Integral>, ActionHash> seen;  // an action met around two centers
  auto around = [&](const Integral& center, bool direct) {
    for (int op = 0; op < ids.size(); ++op)
      for (int k = 0; k < ids.terms(op); ++k) {
        Action a{op, center, direct};
        const auto& sh = ids.shift(op, k);
        for (int i = 0; i < n; ++i) a.seed.a[i] = static_cast<std::int8_t>(center.a[i] - sh[i]);
        if (!region.contains(a.seed, n) || !seen.insert({op, a.seed}).second) continue;
        Candidate c;
        if (!candidate(target, a, c)) continue;
        c.top = top_other_than(*ctx_, *c.equation, target);
        keep(std::move(c));
      }
  };
  around(target, true);
  for (const Integral& key : table_.keys_using(target)) around(key, false);
}

std::vector<Candidate> ReductionState::streamed(const Integral& target, const SeedRegion& region) const {
  std::vector<Candidate> out;
  stream_candidates(target, region, [&](Candidate&& c) { out.push_back(std::move(c)); });
  sort_candidates(out);
  return out;
}

std::vector<Candidate> ReductionState::candidates(const Integral& target, const SeedRegion& region,
                                                  bool* pressed) const {
  const MemoryMeter* meter = current_meter();
  if (streaming_) return streamed(target, region);
  const IdentitySet& ids = ctx_->identities();
  const int n = ctx_->n();
  ResolvedCache& rc = *resolved_;
  if (!(rc.region == region)) {
    rc = ResolvedCache{};
    rc.region = region;
  }
  // Every equation that can contain the target after substitution is seeded around the target
  // (direct) or around a key whose value contains it (indirect): gather those not met yet.
  std::vector<std::uint32_t> direct;
  bool over = false;  // pressed while gathering
  auto gather = [&](const Integral& center, bool is_direct) {
    for (int op = 0; op < ids.size() && !over; ++op)
      for (int k = 0; k < ids.terms(op) && !over; ++k) {
        over = meter && meter->pressed();
        Action a{op, center, is_direct};
        const auto& sh = ids.shift(op, k);
        for (int i = 0; i < n; ++i) a.seed.a[i] = static_cast<std::int8_t>(center.a[i] - sh[i]);
        if (!region.contains(a.seed, n)) continue;
        const auto id = static_cast<std::uint32_t>(rc.entries.size());
        auto [it, fresh] = rc.ids.try_emplace({op, a.seed}, id);
        if (is_direct) direct.push_back(it->second);
        if (!fresh) continue;
        ResolvedCache::Entry& e = rc.entries.emplace_back();
        e.op = op;
        e.seed = a.seed;
        if (Expression raw; ctx_->equation(op, a.seed, raw)) {
          e.eq = std::make_shared<Expression>(std::move(raw));
          table_.resolve(*e.eq);
          summarize(*ctx_, e);
          rc.hold(*ctx_, id);
        }
      }
  };
  gather(target, true);
  for (const Integral& key : table_.keys_using(target))
    if (!over && rc.expanded.insert(key).second) gather(key, false);
  if (over) {  // the cache may not carry the worker past its budget: it streams until memory falls
    set_streaming(true);
    if (pressed) *pressed = true;
    return pressed ? std::vector<Candidate>{} : streamed(target, region);
  }
  std::sort(direct.begin(), direct.end());

  // Valid: contains the target, and nothing outside the target's sector and its subsectors.
  const SectorId sec = sector_of(target, n);
  std::vector<Candidate> out;
  if (auto it = rc.holders.find(target); it != rc.holders.end()) {
    ResolvedCache::Ids& ids = it->second;
    sorted_unique(ids);
    // Drop the ids whose equation no longer holds the target (apply reads the same list).
    auto stale = [&](std::uint32_t id) { return !rc.entries[id].eq->contains(target); };
    ids.erase(std::remove_if(ids.begin(), ids.end(), stale), ids.end());
    for (std::uint32_t id : ids) {
      const ResolvedCache::Entry& e = rc.entries[id];
      if ((e.sectors & ~sec) != 0) continue;
      const OrderKey& top = e.top_x[0] == target ? e.top[1] : e.top[0];
      out.push_back(Candidate{Action{e.op, e.seed, std::binary_search(direct.begin(), direct.end(), id)}, e.eq, top});
    }
  }
  sort_candidates(out);
  return out;
}

void ReductionState::apply(const Integral& target, const Candidate& c) {
  // target = -(1/c_T) * (equation - c_T target)
  const nmod_t m = ctx_->modulus();
  Expression rest = *c.equation;
  const u64 ct = rest.take(target);
  if (ct == 0) throw std::logic_error("candidate equation does not contain its target");
  Expression value;
  value.add_scaled(rest, nmod_neg(nmod_inv(ct, m), m), m);
  expr_.add_scaled(value, expr_.take(target), m);
  if (resolved_.use_count() > 1) {
    drop_resolved();  // the other copies keep the old table's
  } else if (auto it = resolved_->holders.find(target); it != resolved_->holders.end()) {
    // Only the equations that hold the target change; the target never comes back (it is a key).
    ResolvedCache& rc = *resolved_;
    ResolvedCache::Ids ids = std::move(it->second);
    rc.holders.erase(it);
    sorted_unique(ids);
    std::vector<Integral> appeared, cancelled;
    // The update grows every equation that holds the target: pressed midway, the worker drops the
    // cache instead (it is rebuilt as needed), so that one step cannot carry it past its budget.
    const MemoryMeter* meter = current_meter();
    bool dropped = false;
    for (std::uint32_t id : ids) {
      if (meter && meter->pressed()) {
        dropped = true;
        break;
      }
      ResolvedCache::Entry& e = rc.entries[id];
      if (e.eq.use_count() > 1) e.eq = std::make_shared<Expression>(*e.eq);  // a candidate still holds it
      appeared.clear();
      cancelled.clear();
      if (!e.eq->substitute(target, value, m, appeared, cancelled)) continue;
      summarize(*ctx_, e);
      for (const Integral& y : appeared)
        if (!ctx_->is_master(y)) rc.holders[y].push_back(id);
      rc.churn += appeared.size();
      rc.live = rc.live + appeared.size() - cancelled.size() - 1;
    }
    if (dropped) drop_resolved();
    else if (rc.churn > rc.live + 4096) rc.rebuild_holders(*ctx_);
  }
  table_.insert(target, std::move(value));
}

bool ReductionState::apply(const Integral& target, const Action& a) {
  Candidate c;
  if (!candidate(target, a, c)) return false;
  apply(target, c);
  return true;
}

namespace {

// Rounds to the nearest float16 value (11 significant bits, ties to even). Training data are
// stored as float16, so the definition itself rounds: a runtime computing features in float32 sees
// the same numbers. Done on the bits: this runs for every feature of every candidate.
float half_precision(float x) {
  if (!std::isfinite(x)) return x;
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u += 0x0FFFu + ((u >> 13) & 1u);  // round the 13 dropped mantissa bits to nearest, ties to even
  u &= ~0x1FFFu;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace

void ReductionState::features(const Integral& target, const std::vector<Candidate>& cands, FeatureRows& out) const {
  const std::size_t from[4] = {out.target.size(), out.terms.size(), out.table.size(), out.actions.size()};
  const int n = ctx_->n();
  const LaportaOrder& order = ctx_->order();
  const SectorId tsec = sector_of(target, n);
  const int tr = r_of(target, n), ts = s_of(target, n), tl = lines_of(tsec);
  const OrderKey tkey = order.key(target);
  auto lg = [](std::size_t v) { return static_cast<float>(std::log1p(static_cast<double>(v))); };

  for (int i = 0; i < n; ++i) out.target.push_back(target.a[i]);
  for (int i = 0; i < n; ++i) out.target.push_back(static_cast<float>(tsec >> i & 1));
  out.target.insert(out.target.end(), {float(tr), float(ts), lg(expr_.size()), lg(table_.size())});

  for (auto& [x, c] : expr_.terms()) {
    for (int i = 0; i < n; ++i) out.terms.push_back(float(x.a[i] - target.a[i]));
    const SectorId sec = sector_of(x, n);
    const OrderKey k = order.key(x);
    out.terms.insert(out.terms.end(),
                     {float(sec == tsec), float(tl - lines_of(sec)), float(r_of(x, n) - tr), float(s_of(x, n) - ts),
                      float(ctx_->is_master(x)), k == tkey ? 0.f : (tkey < k ? 1.f : -1.f),
                      lg(table_.use_count(x))});
  }

  // Table rows in a fixed order (the map's iteration order is not).
  std::vector<const std::pair<const Integral, Expression>*> rows;
  for (auto& kv : table_.values()) rows.push_back(&kv);
  std::sort(rows.begin(), rows.end(), [](auto* x, auto* y) { return IntegralLess{}(x->first, y->first); });
  for (auto* kv : rows) {
    const Integral& key = kv->first;
    for (int i = 0; i < n; ++i) out.table.push_back(float(key.a[i] - target.a[i]));
    out.table.insert(out.table.end(), {float(r_of(key, n) - tr), float(s_of(key, n) - ts), lg(kv->second.size()),
                                       float(kv->second.contains(target))});
  }

  const nmod_t m = ctx_->modulus();
  const u64 et = expr_.coef(target);
  const CoefIndex coef(expr_);
  for (const Candidate& c : cands) {
    out.ops.push_back(c.action.op);
    for (int i = 0; i < n; ++i) out.actions.push_back(float(c.action.seed.a[i] - target.a[i]));
    // f: the multiple of the equation that removes the target from the expression.
    const u64 f = nmod_neg(nmod_mul(et, nmod_inv(c.equation->coef(target), m), m), m);
    int in_expr = 0, fresh = 0, higher = 0, masters = 0, cancelled = 0, fresh_higher = 0;
    for (auto& [x, cx] : c.equation->terms()) {
      if (x == target) continue;
      const u64 ex = coef.coef(x);
      // Terms lie in the target's sector or below; only same-sector ones can rank above it.
      const bool up = sector_of(x, n) == tsec && tkey < order.key(x);
      in_expr += ex != 0;
      fresh += ex == 0;
      higher += up;
      fresh_higher += ex == 0 && up;
      masters += ctx_->is_master(x);
      cancelled += ex != 0 && nmod_add(ex, nmod_mul(f, cx, m), m) == 0;
    }
    out.actions.insert(out.actions.end(), {float(c.action.direct), lg(c.equation->size()), float(in_expr), float(fresh),
                                           float(higher), float(masters), float(cancelled), float(fresh_higher)});
  }
  std::vector<float>* added[4] = {&out.target, &out.terms, &out.table, &out.actions};
  for (int r = 0; r < 4; ++r)
    for (std::size_t i = from[r]; i < added[r]->size(); ++i) (*added[r])[i] = half_precision((*added[r])[i]);
}

std::size_t ReductionState::resolved_terms() const { return resolved_->live; }


void ReductionState::drop_resolved() const { resolved_ = std::make_shared<ResolvedCache>(); }

}  // namespace sailir
