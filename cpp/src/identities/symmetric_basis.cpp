#include "identities/symmetric_basis.hpp"

#include <algorithm>
#include <bit>
#include <unordered_map>

namespace sailir {

namespace {

// row += c * other
void add_multiple(std::vector<u64>& row, u64 c, const std::vector<u64>& other, nmod_t mod) {
  for (std::size_t j = 0; j < row.size(); ++j)
    if (other[j]) row[j] = nmod_add(row[j], nmod_mul(c, other[j], mod), mod);
}

// Replaces every eliminated master in `row` by its solution.
void substitute(std::vector<u64>& row, const std::vector<std::vector<u64>>& solved, nmod_t mod) {
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (!row[j] || solved[j].empty()) continue;
    const u64 c = row[j];
    row[j] = 0;
    add_multiple(row, c, solved[j], mod);
  }
}

}  // namespace

SymmetricBasis::SymmetricBasis(const FamilyDef& family, std::vector<Integral> masters)
    : family_(family), masters_(std::move(masters)) {
  for (std::size_t i = 0; i < masters_.size(); ++i) {
    const SectorId s = sector_of(masters_[i], family.n);
    for (std::size_t m = 0; m < family.symmetries.size(); ++m)
      if (family.symmetries[m].source == s) relations_.push_back({static_cast<int>(i), static_cast<int>(m)});
  }
  // Lower sectors first, so a relation meets lower masters already solved; in a sector, its
  // self-maps before the mapping of another sector onto it.
  auto key = [&](const Relation& r) {
    const SymmetryDef& d = family.symmetries[r.map];
    return std::tuple(std::popcount(d.source), d.source != d.target, r.master, r.map);
  };
  std::stable_sort(relations_.begin(), relations_.end(), [&](auto& a, auto& b) { return key(a) < key(b); });
}

std::vector<Integral> SymmetricBasis::extras(const std::vector<u64>& symbol_values, nmod_t mod) const {
  SymmetryImages images(family_, symbol_values, mod);
  std::vector<Integral> out;
  std::vector<Term> terms;
  for (const Relation& r : relations_) {
    terms.clear();
    images.image(r.map, masters_[r.master], terms);
    for (const Term& t : terms)
      if (std::find(masters_.begin(), masters_.end(), t.integral) == masters_.end() &&
          std::find(out.begin(), out.end(), t.integral) == out.end())
        out.push_back(t.integral);
  }
  return out;
}

// master - image(master), over the masters; empty when the image needs an integral that is
// neither a master nor an extra (the probe does not have the recorded shape).
std::vector<u64> SymmetricBasis::relation_row(const SymmetryImages& images, const Relation& r,
                                              const std::vector<u64>& rows, std::size_t targets, nmod_t mod) const {
  const std::size_t nm = masters_.size();
  std::vector<u64> v(nm, 0);
  v[r.master] = 1;
  std::vector<Term> terms;
  images.image(r.map, masters_[r.master], terms);
  for (const Term& t : terms) {
    const auto m = std::find(masters_.begin(), masters_.end(), t.integral);
    if (m != masters_.end()) {
      const auto j = static_cast<std::size_t>(m - masters_.begin());
      v[j] = nmod_sub(v[j], t.coef, mod);
      continue;
    }
    const auto e = std::find(extras_.begin(), extras_.end(), t.integral);
    if (e == extras_.end()) return {};
    const std::size_t row = targets + static_cast<std::size_t>(e - extras_.begin());
    const u64 minus = nmod_neg(t.coef, mod);
    for (std::size_t j = 0; j < nm; ++j)
      if (rows[row * nm + j]) v[j] = nmod_add(v[j], nmod_mul(minus, rows[row * nm + j], mod), mod);
  }
  return v;
}

// Gaussian elimination of the relations in their order: each solves one master (the relation's
// own for a mapped sector, else its sector's highest), and the solutions are kept substituted.
bool SymmetricBasis::eliminate(std::vector<std::vector<u64>>& relations, nmod_t mod,
                               std::vector<std::vector<u64>>& solved, std::vector<int>* choose) const {
  const int nm = static_cast<int>(masters_.size());
  solved.assign(nm, {});
  for (std::size_t r = 0; r < relations.size(); ++r) {
    std::vector<u64>& v = relations[r];
    substitute(v, solved, mod);
    int pivot = -1;
    if (!choose) {
      pivot = pivots_[r];
      if (pivot < 0 ? std::any_of(v.begin(), v.end(), [](u64 x) { return x != 0; }) : v[pivot] == 0) return false;
    } else {
      const SectorId s = sector_of(masters_[relations_[r].master], family_.n);
      for (int j = nm - 1; j >= 0 && pivot < 0; --j)
        if (v[j] && sector_of(masters_[j], family_.n) == s) pivot = j;
      for (int j = nm - 1; j >= 0 && pivot < 0; --j)
        if (v[j]) pivot = j;
      choose->push_back(pivot);
    }
    if (pivot < 0) continue;
    const u64 scale = nmod_neg(nmod_inv(v[pivot], mod), mod);
    for (u64& x : v) x = nmod_mul(x, scale, mod);
    v[pivot] = 0;
    for (auto& row : solved)
      if (!row.empty() && row[pivot]) {
        const u64 c = row[pivot];
        row[pivot] = 0;
        add_multiple(row, c, v, mod);
      }
    solved[pivot] = v;
  }
  return true;
}

bool SymmetricBasis::rewrite(const std::vector<u64>& symbol_values, nmod_t mod, std::size_t targets,
                             const std::vector<u64>& rows, std::vector<u64>& out, std::vector<int>* choose,
                             std::vector<std::vector<u64>>& solved) const {
  const std::size_t nm = masters_.size();
  SymmetryImages images(family_, symbol_values, mod);
  std::vector<std::vector<u64>> relations;
  for (const Relation& r : relations_) {
    relations.push_back(relation_row(images, r, rows, targets, mod));
    if (relations.back().empty()) return false;
    if (!modulo_subsectors_) continue;
    const int lines = std::popcount(sector_of(masters_[r.master], family_.n));
    for (std::size_t j = 0; j < nm; ++j)
      if (std::popcount(sector_of(masters_[j], family_.n)) < lines) relations.back()[j] = 0;
  }
  if (!eliminate(relations, mod, solved, choose)) return false;
  std::vector<int> kept;
  for (std::size_t j = 0; j < nm; ++j)
    if (solved[j].empty()) kept.push_back(static_cast<int>(j));
  out.assign(targets * kept.size(), 0);
  std::vector<u64> row(nm);
  for (std::size_t t = 0; t < targets; ++t) {
    std::copy(rows.begin() + static_cast<std::ptrdiff_t>(t * nm),
              rows.begin() + static_cast<std::ptrdiff_t>((t + 1) * nm), row.begin());
    substitute(row, solved, mod);
    for (std::size_t k = 0; k < kept.size(); ++k) out[t * kept.size() + k] = row[kept[k]];
  }
  return true;
}

bool SymmetricBasis::plan(const std::vector<u64>& symbol_values, nmod_t mod, std::size_t targets,
                          const std::vector<u64>& rows, std::vector<u64>& out) {
  std::vector<int> pivots;
  std::vector<std::vector<u64>> solved;
  if (!rewrite(symbol_values, mod, targets, rows, out, &pivots, solved)) return false;
  pivots_ = std::move(pivots);
  planned_ = true;
  kept_.clear();
  eliminated_.clear();
  for (std::size_t j = 0; j < masters_.size(); ++j) (solved[j].empty() ? kept_ : eliminated_).push_back(masters_[j]);
  return true;
}

bool SymmetricBasis::apply(const std::vector<u64>& symbol_values, nmod_t mod, std::size_t targets,
                           const std::vector<u64>& rows, std::vector<u64>& out) const {
  std::vector<std::vector<u64>> solved;
  return planned_ && rewrite(symbol_values, mod, targets, rows, out, nullptr, solved);
}

}  // namespace sailir
