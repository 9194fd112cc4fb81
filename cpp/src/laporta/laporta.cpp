#include "laporta/laporta.hpp"

#include "memory/meter.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "laporta/seeds.hpp"

namespace sailir {

namespace {

// The memory model of a sector system, calibrated on trianglebox (sectors of 3 to 6 lines, up to
// 3.3e6 equations; see estimate_bytes). Bytes per generated equation with its columns where no
// fill-in happens (measured 284-336):
constexpr double kBytesPerEquation = 400;
constexpr double kBytesPerTerm = 12;  // a stored row entry: column and value
// Stored terms per equation per nonzero direct subsector, over (smax + 1)^((m + 1) / 2) for m
// propagators outside the sector (measured 0.3-1.7, most near 1).
constexpr double kFill = 1.2;

std::size_t saturate(double bytes) {
  return bytes >= 1.8e19 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(bytes);
}

// "1500", "1.3e9": counts too large for an integer type read as powers of ten.
std::string format_count(double x) {
  char buf[32];
  if (x < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
  } else {
    const int e = static_cast<int>(std::floor(std::log10(x)));
    double m = std::round(x / std::pow(10.0, e) * 10) / 10;
    std::snprintf(buf, sizeof buf, "%.1fe%d", m, e);
  }
  return buf;
}

MemoryLimitError memory_error(SectorId s, std::size_t needed, double seeds, const LaportaOptions& opt,
                              const std::string& detail) {
  return MemoryLimitError("the Laporta system for sector " + std::to_string(s) + " would need about " +
                              format_size(needed) + " (" + format_count(seeds) + " seeds" + detail +
                              "), beyond the memory limit of " + format_size(opt.memory_limit) +
                              opt.memory_limit_note + "; raise --memory-limit or reduce fewer/lighter integrals",
                          needed, opt.memory_limit);
}

}  // namespace

std::size_t default_memory_limit() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  unsigned long long kb = 0;
  while (std::getline(in, line))
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kb) == 1) return static_cast<std::size_t>(kb / 4 * 3 * 1024);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<std::size_t>(pages) / 4 * 3 * static_cast<std::size_t>(page);
}

LaportaReducer::LaportaReducer(const FamilyDef& family, const NumericPoint& point, u64 prime,
                               std::vector<Integral> preferred)
    : family_(family), mod_{prime}, preferred_(std::move(preferred)), order_(family.n, preferred_) {
  ids_ = std::make_unique<IdentitySet>(family, point_in_field(point, mod_), mod_);
  for (int i = 0; i < family.n; ++i)
    if (!family.is_irreducible(i)) line_mask_ |= SectorId{1} << i;
}

// A sector with a nonzero subsector is nonzero. A sector whose subsectors are all zero is zero
// exactly when the IBP system around its corner reduces the corner integral to 0.
bool LaportaReducer::is_zero_sector(SectorId s) {
  if (auto it = zero_.find(s); it != zero_.end()) return it->second;
  bool zero = true;
  if (s != 0) {
    for (SectorId rest = s; rest && zero; rest &= rest - 1) {
      SectorId sub = s & ~(rest & -rest);
      if (!is_zero_sector(sub)) zero = false;
    }
    if (zero) {
      SectorSystem sys(*ids_, order_, s, [](SectorId) { return true; });
      const int t = lines_of(s);
      sys.solve(t + 1, 1);
      Integral corner;
      for (int i = 0; i < family_.n; ++i) corner.a[i] = (s >> i & 1) ? 1 : 0;
      std::vector<Term> expr;
      zero = sys.reduce(corner, expr) && expr.empty();
    }
  }
  zero_.emplace(s, zero);
  return zero;
}

std::vector<SectorId> LaportaReducer::nonzero_sectors() {
  std::vector<SectorId> out;
  // Enumerate the subsets of the line mask.
  for (SectorId s = line_mask_;; s = (s - 1) & line_mask_) {
    if (!is_zero_sector(s)) out.push_back(s);
    if (s == 0) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<Integral>& LaportaReducer::masters() {
  if (!masters_done_) find_masters();
  return masters_;
}

void LaportaReducer::find_masters() {
  masters_done_ = true;
  std::unordered_set<Integral, IntegralHash> preferred_left(preferred_.begin(), preferred_.end());
  for (const Integral& p : preferred_) {
    SectorId s = sector_of(p, family_.n);
    if (is_zero_sector(s))
      throw std::invalid_argument("preferred master " + format_integral(p, family_.n) + " lies in the zero sector " +
                                  std::to_string(s));
  }
  // From the top sector down, so that every relation a sector hands down reaches a sector not
  // yet solved (its lead is lower in the Laporta order).
  std::vector<SectorId> sectors = nonzero_sectors();
  std::sort(sectors.begin(), sectors.end(), [](SectorId x, SectorId y) {
    return LaportaOrder::sector_floor(x) > LaportaOrder::sector_floor(y);
  });
  SolveOptions opt;
  opt.trace = trace_;
  opt.keep_relation_term = [this](const Integral& x) {
    auto [rmax, smax] = master_bounds(sector_of(x, family_.n));  // where masters are chosen
    return r_of(x, family_.n) < rmax && s_of(x, family_.n) < smax;
  };
  for (SectorId s : sectors) {
    const int t = lines_of(s);
    auto [rmax, smax] = master_bounds(s);
    SectorSystem sys(*ids_, order_, s, zero_test());
    opt.incoming = &relations_in_[s];
    sys.solve(rmax, smax, opt);
    const std::uint32_t system = keep_trace(sys, s);
    const std::vector<std::uint32_t> rows = trace_ ? sys.relation_rows() : std::vector<std::uint32_t>{};
    std::vector<Relation> relations = sys.relations();
    for (std::size_t k = 0; k < relations.size(); ++k) {
      const SectorId to = sector_of(relations[k].front().integral, family_.n);
      if (trace_) relation_src_[to].push_back(RowRef{system, rows[k]});
      relations_in_[to].push_back(std::move(relations[k]));
    }
    for (const Integral& p : preferred_)
      if (sector_of(p, family_.n) == s && sys.has_pivot(p)) {
        std::vector<Term> expr;
        sys.reduce(p, expr);
        throw std::invalid_argument("preferred master " + format_integral(p, family_.n) +
                                    " is not independent: IBP identities reduce it to " + std::to_string(expr.size()) +
                                    " other integrals");
      }
    std::vector<Integral> found;
    for (const Integral& x : sys.unpivoted_own()) {
      bool interior = r_of(x, family_.n) <= t + 1 && s_of(x, family_.n) <= master_s_;
      if (order_.is_preferred(x) || interior) found.push_back(x);
    }
    for (const Integral& x : found) {
      preferred_left.erase(x);
      if (!preferred_.empty() && !order_.is_preferred(x))
        basis_notes_.push_back("master " + format_integral(x, family_.n) + " added to the preferred basis");
    }
    sector_masters_[s] = found;
  }
  for (const Integral& p : preferred_left)
    basis_notes_.push_back("preferred master " + format_integral(p, family_.n) + " is not needed (sector has fewer masters)");
  for (auto& [s, list] : sector_masters_) masters_.insert(masters_.end(), list.begin(), list.end());
  std::sort(masters_.begin(), masters_.end(), [this](auto& x, auto& y) { return order_.less(x, y); });
  for (std::size_t i = 0; i < masters_.size(); ++i) master_index_[masters_[i]] = static_cast<int>(i);
  std::erase_if(relations_in_, [](auto& kv) { return kv.second.empty(); });
}

void LaportaReducer::record_rows() {
  if (masters_done_) throw std::logic_error("record_rows() must come before the masters are found");
  trace_ = true;
}

std::uint32_t LaportaReducer::keep_trace(SectorSystem& sys, SectorId s) {
  if (!trace_) return 0;
  traces_.push_back(sys.take_trace());
  trace_sector_.push_back(s);
  return static_cast<std::uint32_t>(traces_.size() - 1);
}

std::vector<RowOrigin> LaportaReducer::needed_rows(const std::vector<Integral>& targets) const {
  std::vector<std::vector<char>> keep(traces_.size());
  for (std::size_t j = 0; j < traces_.size(); ++j) keep[j].assign(traces_[j].size(), 0);
  std::vector<RowRef> rows;
  std::unordered_set<Integral, IntegralHash> seen;
  std::vector<Integral> todo = targets;
  while (!todo.empty()) {  // the rules the targets compose from
    const Integral x = todo.back();
    todo.pop_back();
    if (!seen.insert(x).second) continue;
    auto src = rule_src_.find(x);
    if (src == rule_src_.end()) continue;  // a master, or zero
    for (std::uint32_t r : src->second.second) rows.push_back(RowRef{src->second.first, r});
    for (const Term& term : rules_.at(x)) todo.push_back(term.integral);
  }
  while (!rows.empty()) {  // the rows those rules used, recursively, across handed-down relations
    const RowRef ref = rows.back();
    rows.pop_back();
    if (keep[ref.system][ref.row]) continue;
    keep[ref.system][ref.row] = 1;
    const TracedRow& row = traces_[ref.system][ref.row];
    for (std::uint32_t u : row.used) rows.push_back(RowRef{ref.system, u});
    if (row.relation >= 0) rows.push_back(relation_src_.at(trace_sector_[ref.system]).at(row.relation));
  }
  std::vector<RowOrigin> out;
  for (std::size_t j = 0; j < traces_.size(); ++j)
    for (std::size_t r = 0; r < traces_[j].size(); ++r)
      if (keep[j][r] && traces_[j][r].relation < 0) out.push_back(traces_[j][r].origin);
  return out;
}

// Seed bounds of a sector's master finding: two beyond its corner, and beyond its preferred masters.
std::pair<int, int> LaportaReducer::master_bounds(SectorId s) const {
  int rmax = lines_of(s) + 2, smax = master_s_ + 1;
  for (const Integral& p : preferred_)
    if (sector_of(p, family_.n) == s) {
      rmax = std::max(rmax, r_of(p, family_.n) + 1);
      smax = std::max(smax, s_of(p, family_.n) + 1);
    }
  return {rmax, smax};
}

void LaportaReducer::check_basis() {
  std::vector<Integral> seeds;
  for (SectorId s : nonzero_sectors()) {
    auto [rmax, smax] = master_bounds(s);  // seeds where masters are chosen: one system stays affordable
    std::vector<Integral> here = sector_seeds(s, family_.n, rmax - 1, smax - 1);
    seeds.insert(seeds.end(), here.begin(), here.end());
  }
  masters();
  SectorSystem all(*ids_, order_, line_mask_, zero_test());
  SolveOptions opt;
  opt.pivot_everywhere = true;
  all.solve_seeds(seeds, opt);
  for (const Integral& m : masters_)
    if (all.is_pivot(m))
      throw DependentBasisError("the master basis is dependent: IBP identities reduce the master " +
                                format_integral(m, family_.n) + " to lower integrals");
}

// Masters are chosen up to one numerator power (s <= 1) beyond their sector's corner. Some families
// have masters with squared numerators (the massive double box, in its top sector), which such
// seeds leave on their boundary: their reductions then fail at every width. So a failed reduction
// is repeated once from the start, masters found up to s <= 2 (and relations handed down that far),
// before the failure is reported. Other families pay nothing.
std::vector<std::vector<std::pair<int, u64>>> LaportaReducer::reduce(const std::vector<Integral>& targets,
                                                                     const LaportaOptions& opt) {
  try {
    return reduce_once(targets, opt);
  } catch (const DependentBasisError&) {
    throw;
  } catch (const UnreducedError& e) {
    if (master_s_ > 1 || !preferred_.empty()) throw;
    if (opt.progress) opt.progress(std::string(e.what()) + "; finding masters with more numerator powers");
    restart_with_deeper_masters();
    auto out = reduce_once(targets, opt);
    basis_notes_.push_back("masters found up to two numerator powers: with one, " + std::string(e.what()));
    return out;
  }
}

void LaportaReducer::restart_with_deeper_masters() {
  master_s_ = 2;
  masters_done_ = false;
  masters_.clear();
  master_index_.clear();
  sector_masters_.clear();
  relations_in_.clear();
  basis_notes_.clear();
  rules_.clear();
  composed_.clear();
  traces_.clear();
  trace_sector_.clear();
  relation_src_.clear();
  rule_src_.clear();
}

std::vector<std::vector<std::pair<int, u64>>> LaportaReducer::reduce_once(const std::vector<Integral>& targets,
                                                                          const LaportaOptions& opt) {
  masters();
  std::vector<Integral> added;
  try {
    make_rules(targets, opt, added);
  } catch (...) {
    // Those rules refer to integrals left unreduced: dropped, the next call reduces them again.
    for (const Integral& x : added) {
      rules_.erase(x);
      rule_src_.erase(x);
    }
    throw;
  }
  std::vector<std::vector<std::pair<int, u64>>> out;
  for (const Integral& x : targets) out.push_back(compose(x));
  return out;
}

// Rules for the targets and, sector by sector downwards, for the integrals those rules need.
void LaportaReducer::make_rules(const std::vector<Integral>& targets, const LaportaOptions& opt,
                                std::vector<Integral>& added) {
  const int n = family_.n;
  // Needed integrals per sector, processed from the most complex sector down.
  auto sector_rank = [](SectorId s) { return std::make_pair(lines_of(s), s); };
  std::map<std::pair<int, SectorId>, std::unordered_set<Integral, IntegralHash>, std::greater<>> needed;
  auto want = [&](const Integral& x) {
    if (master_index_.count(x) || rules_.count(x)) return;
    needed[sector_rank(sector_of(x, n))].insert(x);
  };
  for (const Integral& x : targets) want(x);

  while (!needed.empty()) {
    auto node = needed.extract(needed.begin());
    const SectorId s = node.key().second;
    std::vector<Integral> todo(node.mapped().begin(), node.mapped().end());
    if (is_zero_sector(s)) {
      for (const Integral& x : todo) rules_[x] = {};
      added.insert(added.end(), todo.begin(), todo.end());
      continue;
    }
    int rmax = lines_of(s), smax = 0;
    for (const Integral& x : todo) {
      rmax = std::max(rmax, r_of(x, n));
      smax = std::max(smax, s_of(x, n));
    }
    rmax += opt.r_extra;
    smax += opt.s_extra;
    const std::vector<Relation>& incoming = incoming_to(s);
    if (!incoming.empty()) {  // at least the seeds that made the handed-down relations bite
      auto [mr, ms] = master_bounds(s);
      rmax = std::max(rmax, mr);
      smax = std::max(smax, ms);
    }
    const auto& own_masters = sector_masters_[s];
    for (int attempt = 0;; ++attempt) {
      SectorSystem sys(*ids_, order_, s, zero_test());
      if (opt.progress)
        opt.progress("sector " + std::to_string(s) + ": " + std::to_string(todo.size()) + " integrals, seeds r<=" +
                     std::to_string(rmax) + " s<=" + std::to_string(smax));
      SolveOptions with;
      with.incoming = &incoming;
      with.trace = trace_;
      guard_memory(s, rmax, smax, incoming.size(), opt, with);
      sys.solve(rmax, smax, with);
      const auto& st = sys.stats();
      stats_.seeds += st.seeds;
      stats_.equations += st.equations;
      stats_.unknowns += st.unknowns;
      stats_.pivots += st.pivots;
      stats_.stored_terms = std::max(stats_.stored_terms, st.stored_terms);
      ++stats_.sectors_solved;
      std::vector<Integral> unreduced;
      std::unordered_map<Integral, std::vector<Term>, IntegralHash> found;
      std::unordered_map<Integral, std::vector<std::uint32_t>, IntegralHash> found_rows;
      std::vector<Term> expr;
      std::vector<std::uint32_t> used;
      for (const Integral& x : todo) {
        bool ok = sys.reduce(x, expr, trace_ ? &used : nullptr);
        if (trace_) found_rows[x] = used;
        for (const Term& term : expr)
          if (sector_of(term.integral, n) == s &&
              std::find(own_masters.begin(), own_masters.end(), term.integral) == own_masters.end())
            ok = false;
        if (ok) found.emplace(x, expr);
        else unreduced.push_back(x);
      }
      if (unreduced.empty() || attempt >= opt.max_widenings) {
        if (!unreduced.empty())
          throw UnreducedError(std::to_string(unreduced.size()) + " integral(s) of sector " + std::to_string(s) +
                               " not reduced to masters with seeds r<=" + std::to_string(rmax) + " s<=" +
                               std::to_string(smax) + ", e.g. " + format_integral(unreduced.front(), n));
        const std::uint32_t system = keep_trace(sys, s);
        for (auto& [x, e] : found) {
          if (trace_) rule_src_[x] = {system, std::move(found_rows[x])};
          for (const Term& term : e)
            if (sector_of(term.integral, n) != s) want(term.integral);
          rules_[x] = std::move(e);
          added.push_back(x);
        }
        stats_.integrals_reduced += found.size();
        break;
      }
      ++rmax;
      ++smax;
      ++stats_.widenings;
    }
  }
}

// The relations higher sectors handed down to sector s (none: an empty list).
const std::vector<Relation>& LaportaReducer::incoming_to(SectorId s) const {
  static const std::vector<Relation> none;
  auto in = relations_in_.find(s);
  return in == relations_in_.end() ? none : in->second;
}

std::vector<std::vector<std::pair<int, u64>>> LaportaReducer::reduce_modulo_subsectors(
    const std::vector<Integral>& targets, const LaportaOptions& opt) {
  masters();
  const int n = family_.n;
  std::map<SectorId, std::vector<std::size_t>> by_sector;
  for (std::size_t i = 0; i < targets.size(); ++i) by_sector[sector_of(targets[i], n)].push_back(i);
  std::vector<std::vector<std::pair<int, u64>>> out(targets.size());
  for (const auto& [s, which] : by_sector) {
    if (is_zero_sector(s)) continue;
    auto [rmax, smax] = master_bounds(s);
    for (std::size_t i : which) {
      rmax = std::max(rmax, r_of(targets[i], n) + opt.r_extra);
      smax = std::max(smax, s_of(targets[i], n) + opt.s_extra);
    }
    const std::vector<Relation>& incoming = incoming_to(s);
    for (int attempt = 0;; ++attempt, ++rmax, ++smax) {
      SectorSystem sys(*ids_, order_, s, zero_test());
      SolveOptions with;
      with.incoming = &incoming;
      guard_memory(s, rmax, smax, incoming.size(), opt, with);
      sys.solve(rmax, smax, with);
      const Integral* unreduced = nullptr;
      for (std::size_t i : which)
        if (!own_sector_row(sys, targets[i], out[i]) && !unreduced) unreduced = &targets[i];
      if (!unreduced) break;
      if (attempt >= opt.max_widenings)
        throw UnreducedError("sector " + std::to_string(s) + ": " + format_integral(*unreduced, n) +
                             " not reduced to masters with seeds r<=" + std::to_string(rmax) + " s<=" +
                             std::to_string(smax));
    }
  }
  return out;
}

// x over the masters of its own sector (subsector terms dropped); false when it did not reduce.
bool LaportaReducer::own_sector_row(SectorSystem& sys, const Integral& x, std::vector<std::pair<int, u64>>& row) {
  row.clear();
  if (auto m = master_index_.find(x); m != master_index_.end()) {
    row.emplace_back(m->second, 1);
    return true;
  }
  std::vector<Term> expr;
  if (!sys.reduce(x, expr)) return false;
  const SectorId s = sector_of(x, family_.n);
  for (const Term& term : expr) {
    if (sector_of(term.integral, family_.n) != s) continue;
    auto m = master_index_.find(term.integral);
    if (m == master_index_.end()) return false;
    row.emplace_back(m->second, term.coef);
  }
  return true;
}

// Peak bytes of a sector system: its equations (seeds times identities, plus the incoming
// relations) times the bytes each holds, itself and through the row it leaves after fill-in.
// Fill-in comes from subsector integrals in the rows' tails, so it grows with the nonzero direct
// subsectors and the numerator powers: on trianglebox it was near-independent of r.
double LaportaReducer::estimate_bytes(SectorId s, int rmax, int smax, std::size_t incoming) {
  const int n = family_.n;
  int tails = 0;
  for (SectorId rest = s; rest; rest &= rest - 1)
    if (!is_zero_sector(s & ~(rest & -rest))) ++tails;
  const int others = n - lines_of(s);
  const double fill = kFill * tails * std::pow(smax + 1.0, (others + 1) / 2.0);
  const double equations = sector_seed_count(s, n, rmax, smax) * ids_->size() + static_cast<double>(incoming);
  return equations * (kBytesPerEquation + kBytesPerTerm * fill);
}

void LaportaReducer::guard_memory(SectorId s, int rmax, int smax, std::size_t incoming, const LaportaOptions& opt,
                                  SolveOptions& with) {
  with.memory_check = nullptr;
  const std::size_t limit = opt.memory_limit;
  if (limit == 0) return;
  const double seeds = sector_seed_count(s, family_.n, rmax, smax);
  const double estimate = estimate_bytes(s, rmax, smax, incoming);
  if (estimate > static_cast<double>(limit)) throw memory_error(s, saturate(estimate), seeds, opt, "");
  with.memory_check = [s, seeds, limit, note = opt.memory_limit_note](std::size_t now, std::size_t projected) {
    LaportaOptions o;
    o.memory_limit = limit;
    o.memory_limit_note = note;
    if (now > limit) throw memory_error(s, projected, seeds, o, ", " + format_size(now) + " in use already");
  };
}

// Coefficients of x over the masters, substituting sector rules downwards (memoised).
const std::vector<std::pair<int, u64>>& LaportaReducer::compose(const Integral& x) {
  if (auto it = composed_.find(x); it != composed_.end()) return it->second;
  std::vector<std::pair<int, u64>> result;
  if (auto m = master_index_.find(x); m != master_index_.end()) {
    result.emplace_back(m->second, 1);
  } else {
    std::vector<u64> dense(masters_.size(), 0);
    for (const Term& term : rules_.at(x)) {
      for (auto [k, v] : compose(term.integral))
        dense[k] = nmod_add(dense[k], nmod_mul(term.coef, v, mod_), mod_);
    }
    for (std::size_t k = 0; k < dense.size(); ++k)
      if (dense[k]) result.emplace_back(static_cast<int>(k), dense[k]);
  }
  return composed_.emplace(x, std::move(result)).first->second;
}

}  // namespace sailir
