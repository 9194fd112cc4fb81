#include "identities/symmetry_images.hpp"

#include <stdexcept>
#include <unordered_map>

namespace sailir {

namespace {

u64 monomials_at(const std::vector<MonomialDef>& monos, const std::vector<u64>& values, nmod_t mod) {
  u64 total = 0;
  for (const MonomialDef& m : monos) {
    u64 term = nmod_set_str(m.coef, mod);
    for (std::size_t s = 0; s < m.exps.size(); ++s)
      if (m.exps[s]) term = nmod_mul(term, nmod_pow(values[s], static_cast<u64>(m.exps[s]), mod), mod);
    total = nmod_add(total, term, mod);
  }
  return total;
}

using Poly = std::unordered_map<Integral, u64, IntegralHash>;

// p * (sum_m coefs[m] D_m + constant): multiplying by D_m lowers the power of line m.
Poly times_linear(const Poly& p, const std::vector<u64>& coefs, u64 constant, int n, nmod_t mod) {
  Poly out;
  for (auto& [x, c] : p) {
    if (constant) out[x] = nmod_add(out[x], nmod_mul(c, constant, mod), mod);
    for (int m = 0; m < n; ++m) {
      if (!coefs[m]) continue;
      Integral y = x;
      --y.a[m];
      out[y] = nmod_add(out[y], nmod_mul(c, coefs[m], mod), mod);
    }
  }
  return out;
}

}  // namespace

SymmetryImages::SymmetryImages(const FamilyDef& family, const std::vector<u64>& symbol_values, nmod_t mod)
    : n_(family.n), mod_(mod) {
  for (const SymmetryDef& def : family.symmetries) {
    Map map{def.source, def.target, std::vector<int>(n_, -1), {}, {}};
    for (int j = 0; j < n_; ++j) {
      std::vector<u64> row(n_);
      for (int m = 0; m < n_; ++m) row[m] = nmod_set_str(def.coefs[j][m], mod);
      map.coefs.push_back(std::move(row));
      map.constant.push_back(monomials_at(def.constant[j], symbol_values, mod));
    }
    // A line of the source sector maps onto one line of the target: a unit row, no constant.
    for (int j = 0; j < n_; ++j) {
      if (!(def.source >> j & 1)) continue;
      for (int m = 0; m < n_; ++m)
        if (def.coefs[j][m] != "0") map.lines[j] = def.coefs[j][m] == "1" && map.lines[j] < 0 ? m : -2;
      if (map.lines[j] < 0 || !def.constant[j].empty() || !(def.target >> map.lines[j] & 1))
        throw FamilyFileError("family " + family.name + ": symmetry " + std::to_string(def.source) + " -> " +
                              std::to_string(def.target) + " does not map line " + std::to_string(j + 1) +
                              " onto a line; recompile the family");
    }
    maps_.push_back(std::move(map));
  }
}

void SymmetryImages::image(int m, const Integral& x, std::vector<Term>& out) const {
  const Map& map = maps_[m];
  Integral base;
  for (int j = 0; j < n_; ++j)
    if (x.a[j] > 0) base.a[map.lines[j]] = x.a[j];
  Poly p{{base, 1}};
  for (int j = 0; j < n_; ++j)
    for (int k = x.a[j]; k < 0; ++k) p = times_linear(p, map.coefs[j], map.constant[j], n_, mod_);
  for (auto& [y, c] : p)
    if (c) out.push_back({y, c});
}

}  // namespace sailir
