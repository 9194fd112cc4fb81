#include "laporta/sector_system.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <numeric>

#include "laporta/seeds.hpp"

namespace sailir {

namespace {

constexpr std::size_t kVectorBytes = sizeof(std::vector<int>) + 16;  // header and malloc overhead
constexpr std::size_t kMemoryCheckEvery = 4096;  // equations between memory checks

}  // namespace

SectorSystem::SectorSystem(const IdentitySet& ids, const LaportaOrder& order, SectorId sector, ZeroTest is_zero)
    : ids_(ids), order_(order), sector_(sector), is_zero_(std::move(is_zero)), mod_(ids.modulus()), n_(ids.propagators()) {}

void SectorSystem::solve(int rmax, int smax, const SolveOptions& opt) {
  solve_seeds(sector_seeds(sector_, n_, rmax, smax), opt);
}

void SectorSystem::solve_seeds(const std::vector<Integral>& seeds, const SolveOptions& opt) {
  stats_ = {};
  stats_.seeds = seeds.size();
  pivot_everywhere_ = opt.pivot_everywhere;
  keep_relation_term_ = opt.keep_relation_term;
  std::vector<Integral> found;
  std::vector<Origin> origins;
  std::vector<SparseRow> eqs = generate(seeds, opt.incoming, found, origins);
  stats_.equations = eqs.size();
  stats_.unknowns = found.size();
  number_columns(found, eqs, origins);
  equation_bytes_ = 0;
  for (const SparseRow& eq : eqs) equation_bytes_ += kVectorBytes + eq.capacity() * sizeof(eq[0]);

  rows_.clear();
  pivot_of_.assign(cols_.size(), -1);
  acc_.assign(cols_.size(), 0);
  bits_.assign((cols_.size() + 63) / 64, 0);
  trace_.clear();
  const bool subsector_rows = pivot_everywhere_ || keep_relation_term_;
  const int templates = ids_.size();
  std::vector<std::uint32_t> used;
  for (std::size_t e = 0; e < eqs.size(); ++e) {
    if (e % kMemoryCheckEvery == 0 && opt.memory_check) check_memory(opt, e, eqs.size());
    if (eqs[e].front().first < first_own_ && !subsector_rows) continue;  // among subsector integrals only
    used.clear();
    const std::int64_t lead = add_row(eqs[e], opt.trace ? &used : nullptr);
    if (lead < 0 || !opt.trace) continue;
    TracedRow row{RowOrigin{0, Integral{}, cols_[lead]}, -1, used};
    if (origins[e] >= 0) row.origin = RowOrigin{static_cast<int>(origins[e] % templates), seeds[origins[e] / templates], cols_[lead]};
    else row.relation = static_cast<std::int32_t>(-origins[e] - 1);
    trace_.push_back(std::move(row));
  }
  stats_.pivots = rows_.size();
  equation_bytes_ = 0;
}

// A row: two vectors (header and allocation overhead each) and its stored terms.
std::size_t SectorSystem::row_bytes() const {
  return rows_.size() * 2 * kVectorBytes + stats_.stored_terms * (sizeof(std::uint32_t) + sizeof(u64));
}

// A column: its integral in cols_ and in a hash node of col_of_, its dense entries. Measured
// against the peak RSS of single systems: 0.9-1.0 of it.
std::size_t SectorSystem::memory_bytes() const {
  const std::size_t per_column = 2 * sizeof(Integral) + 48 + sizeof(u64) + sizeof(std::int32_t);
  return equation_bytes_ + cols_.size() * per_column + row_bytes();
}

// The rows kept grow at least linearly with the equations done (fill-in makes later rows longer),
// so the projection is a lower bound.
void SectorSystem::check_memory(const SolveOptions& opt, std::size_t done, std::size_t total) const {
  const std::size_t now = memory_bytes();
  const double rest = done ? static_cast<double>(row_bytes()) * (total - done) / done : 0;
  opt.memory_check(now, now + static_cast<std::size_t>(rest));
}

// All equations at the seeds, and the incoming relations, without integrals of zero sectors;
// integrals get provisional column ids in the order met (`found`).
std::vector<SectorSystem::SparseRow> SectorSystem::generate(const std::vector<Integral>& seeds,
                                                            const std::vector<Relation>* incoming,
                                                            std::vector<Integral>& found,
                                                            std::vector<Origin>& origins) const {
  std::vector<SparseRow> eqs;
  std::unordered_map<Integral, std::uint32_t, IntegralHash> provisional;
  std::unordered_map<SectorId, bool> zero_cache;
  auto add_equation = [&](const std::vector<Term>& terms, Origin origin) {
    SparseRow eq;
    for (const Term& term : terms) {
      SectorId s = sector_of(term.integral, n_);
      auto z = zero_cache.find(s);
      if (z == zero_cache.end()) z = zero_cache.emplace(s, s != sector_ && is_zero_(s)).first;
      if (z->second) continue;
      auto [it, fresh] = provisional.emplace(term.integral, static_cast<std::uint32_t>(found.size()));
      if (fresh) found.push_back(term.integral);
      eq.emplace_back(it->second, term.coef);
    }
    if (eq.empty()) return;
    eqs.push_back(std::move(eq));
    origins.push_back(origin);
  };
  std::vector<Term> terms;
  for (std::size_t si = 0; si < seeds.size(); ++si) {
    for (int t = 0; t < ids_.size(); ++t) {
      terms.clear();
      ids_.equation(t, seeds[si], terms);
      add_equation(terms, static_cast<Origin>(si) * ids_.size() + t);
    }
  }
  if (incoming)
    for (std::size_t i = 0; i < incoming->size(); ++i) add_equation((*incoming)[i], -static_cast<Origin>(i) - 1);
  return eqs;
}

// Renumbers columns so that the column index follows the Laporta order, and sorts the equations
// simplest first: fewer pivots are touched and rows stay short.
void SectorSystem::number_columns(const std::vector<Integral>& found, std::vector<SparseRow>& eqs,
                                  std::vector<Origin>& origins) {
  std::vector<OrderKey> keys(found.size());
  for (std::size_t i = 0; i < found.size(); ++i) keys[i] = order_.key(found[i]);
  std::vector<std::uint32_t> perm(found.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::sort(perm.begin(), perm.end(), [&](auto x, auto y) { return keys[x] < keys[y]; });
  std::vector<std::uint32_t> rank(found.size());
  cols_.resize(found.size());
  col_of_.clear();
  col_of_.reserve(found.size());
  first_own_ = static_cast<std::uint32_t>(found.size());
  for (std::uint32_t i = 0; i < perm.size(); ++i) {
    rank[perm[i]] = i;
    cols_[i] = found[perm[i]];
    col_of_.emplace(cols_[i], i);
    if (first_own_ == found.size() && sector_of(cols_[i], n_) == sector_) first_own_ = i;
  }
  for (auto& eq : eqs) {
    for (auto& [c, v] : eq) c = rank[c];
    std::sort(eq.begin(), eq.end(), [](auto& x, auto& y) { return x.first > y.first; });
  }
  std::vector<std::uint32_t> by(eqs.size());
  std::iota(by.begin(), by.end(), 0);
  std::stable_sort(by.begin(), by.end(), [&](auto i, auto j) {
    const SparseRow &x = eqs[i], &y = eqs[j];
    return x.front().first != y.front().first ? x.front().first < y.front().first : x.size() < y.size();
  });
  std::vector<SparseRow> sorted(eqs.size());
  std::vector<Origin> sorted_origins(eqs.size());
  for (std::size_t k = 0; k < by.size(); ++k) {
    sorted[k] = std::move(eqs[by[k]]);
    sorted_origins[k] = origins[by[k]];
  }
  eqs = std::move(sorted);
  origins = std::move(sorted_origins);
}

void SectorSystem::load(std::uint32_t col, u64 val) {
  acc_[col] = nmod_add(acc_[col], val, mod_);
  bits_[col >> 6] |= std::uint64_t{1} << (col & 63);
  top_word_ = std::max<std::int64_t>(top_word_, col >> 6);
  bottom_word_ = std::min<std::int64_t>(bottom_word_, col >> 6);
}

// Eliminates every pivot column from the accumulator, highest first, and moves what is left
// (descending) into `out`; the accumulator is left empty.
void SectorSystem::scan_reduce(std::vector<std::pair<std::uint32_t, u64>>& out, std::vector<std::uint32_t>* used) {
  out.clear();
  // Only the words between the lowest and highest touched column can hold entries.
  for (std::int64_t w = top_word_; w >= bottom_word_; --w) {
    while (bits_[w]) {
      const int b = 63 - std::countl_zero(bits_[w]);
      const std::uint32_t c = static_cast<std::uint32_t>(w * 64 + b);
      bits_[w] &= ~(std::uint64_t{1} << b);
      const u64 v = acc_[c];
      acc_[c] = 0;
      if (v == 0) continue;
      const std::int32_t p = pivot_of_[c];  // subsector columns have pivots only with pivot_everywhere
      if (p < 0) {
        out.emplace_back(c, v);
        continue;
      }
      if (used) used->push_back(static_cast<std::uint32_t>(p));
      const u64 f = nmod_neg(v, mod_), fpre = nmod_mul_precomp(f, mod_);
      const Row& row = rows_[p];
      if (!row.cols.empty()) bottom_word_ = std::min<std::int64_t>(bottom_word_, row.cols.back() >> 6);
      for (std::size_t k = 0; k < row.cols.size(); ++k) {
        const std::uint32_t c2 = row.cols[k];
        acc_[c2] = nmod_add(acc_[c2], nmod_mul_shoup(f, fpre, row.vals[k], mod_), mod_);
        bits_[c2 >> 6] |= std::uint64_t{1} << (c2 & 63);
      }
    }
  }
  top_word_ = -1;
  bottom_word_ = std::numeric_limits<std::int64_t>::max();
}

std::int64_t SectorSystem::add_row(const std::vector<std::pair<std::uint32_t, u64>>& eq,
                                   std::vector<std::uint32_t>* used) {
  for (auto [c, v] : eq) load(c, v);
  std::vector<std::pair<std::uint32_t, u64>> red;
  scan_reduce(red, used);
  if (red.empty()) return -1;  // dependent
  if (red.front().first < first_own_ && !keeps_relation(red)) return -1;
  const std::uint32_t lead = red.front().first;
  const u64 inv = nmod_inv(red.front().second, mod_);
  Row row;
  row.cols.reserve(red.size() - 1);
  row.vals.reserve(red.size() - 1);
  for (std::size_t k = 1; k < red.size(); ++k) {
    row.cols.push_back(red[k].first);
    row.vals.push_back(nmod_mul(red[k].second, inv, mod_));
  }
  stats_.stored_terms += row.cols.size();
  pivot_of_[lead] = static_cast<std::int32_t>(rows_.size());
  rows_.push_back(std::move(row));
  return lead;
}

std::vector<std::uint32_t> SectorSystem::relation_rows() const {
  std::vector<std::uint32_t> out;
  if (pivot_everywhere_) return out;
  for (std::uint32_t c = 0; c < first_own_; ++c)
    if (pivot_of_[c] >= 0) out.push_back(static_cast<std::uint32_t>(pivot_of_[c]));
  return out;
}

std::vector<Integral> SectorSystem::unpivoted_own() const {
  std::vector<Integral> out;
  for (std::uint32_t c = first_own_; c < cols_.size(); ++c)
    if (pivot_of_[c] < 0) out.push_back(cols_[c]);
  return out;
}

// A row among subsector integrals only is kept as a pivot, so that the relations kept stay
// independent (each is reduced by those before it): a sector hands down at most one relation per
// subsector integral, not every equation that happens to cancel its own integrals.
bool SectorSystem::keeps_relation(const std::vector<std::pair<std::uint32_t, u64>>& red) const {
  if (pivot_everywhere_) return true;
  if (!keep_relation_term_) return false;
  for (auto [c, v] : red)
    if (!keep_relation_term_(cols_[c])) return false;
  return true;
}

std::vector<Relation> SectorSystem::relations() const {
  std::vector<Relation> out;
  if (pivot_everywhere_) return out;
  for (std::uint32_t c = 0; c < first_own_; ++c) {
    if (pivot_of_[c] < 0) continue;
    const Row& row = rows_[pivot_of_[c]];
    Relation rel{Term{cols_[c], 1}};
    for (std::size_t k = 0; k < row.cols.size(); ++k) rel.push_back(Term{cols_[row.cols[k]], row.vals[k]});
    out.push_back(std::move(rel));
  }
  return out;
}

bool SectorSystem::is_pivot(const Integral& x) const {
  auto it = col_of_.find(x);
  return it != col_of_.end() && pivot_of_[it->second] >= 0;
}

bool SectorSystem::has_pivot(const Integral& x) const {
  auto it = col_of_.find(x);
  return it != col_of_.end() && it->second >= first_own_ && pivot_of_[it->second] >= 0;
}

bool SectorSystem::reduce(const Integral& x, std::vector<Term>& out, std::vector<std::uint32_t>* used) {
  if (!has_pivot(x)) return false;
  const std::uint32_t c = col_of_.at(x);
  const Row& row = rows_[pivot_of_[c]];
  if (used) used->assign(1, static_cast<std::uint32_t>(pivot_of_[c]));
  // x = -(tail of its pivot row); reduce the tail fully.
  for (std::size_t k = 0; k < row.cols.size(); ++k) load(row.cols[k], nmod_neg(row.vals[k], mod_));
  std::vector<std::pair<std::uint32_t, u64>> red;
  scan_reduce(red, used);
  out.clear();
  for (auto [col, v] : red) out.push_back(Term{cols_[col], v});
  return true;
}

}  // namespace sailir
