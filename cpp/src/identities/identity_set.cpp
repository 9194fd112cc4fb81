#include "identities/identity_set.hpp"

#include <stdexcept>

namespace sailir {

IdentitySet::IdentitySet(const FamilyDef& family, const std::vector<u64>& symbol_values, nmod_t mod)
    : n_(family.n), mod_(mod) {
  if (symbol_values.size() != family.symbols.size()) throw std::logic_error("point does not match the family symbols");
  for (auto& tmpl : family.templates) {
    Compiled c{tmpl.kind, {}};
    for (auto& td : tmpl.terms) {
      CompiledTerm ct;
      for (int i = 0; i < n_; ++i) ct.shift[i] = static_cast<std::int8_t>(td.shift[i]);
      std::vector<u64> lin(n_, 0);
      for (auto& md : td.monos) {
        u64 v = nmod_set_str(md.coef, mod);
        for (std::size_t k = 0; k < symbol_values.size(); ++k)
          v = nmod_mul(v, nmod_pow(symbol_values[k], static_cast<u64>(md.exps[n_ + k]), mod), mod);
        int degree = 0, last = -1;
        for (int i = 0; i < n_; ++i)
          if (md.exps[i]) degree += md.exps[i], last = i;
        if (degree == 0) {
          ct.c0 = nmod_add(ct.c0, v, mod);
        } else if (degree == 1) {
          lin[last] = nmod_add(lin[last], v, mod);
        } else {
          Mono m{v, std::vector<std::uint8_t>(md.exps.begin(), md.exps.begin() + n_)};
          ct.higher.push_back(std::move(m));
        }
      }
      for (int i = 0; i < n_; ++i)
        if (lin[i]) ct.linear.emplace_back(i, lin[i]);
      c.terms.push_back(std::move(ct));
    }
    templates_.push_back(std::move(c));
  }
}

bool IdentitySet::affine_terms(std::vector<u64>& c0, std::vector<u64>& lin) const {
  c0.clear();
  lin.clear();
  for (const Compiled& c : templates_)
    for (const CompiledTerm& ct : c.terms) {
      if (!ct.higher.empty()) return false;
      c0.push_back(ct.c0);
      std::size_t base = lin.size();
      lin.resize(base + n_, 0);
      for (auto [i, ci] : ct.linear) lin[base + i] = ci;
    }
  return true;
}

// c0 + sum_i lin_i a_i + higher monomials, at seed powers `a` already in the field.
u64 IdentitySet::evaluate(const CompiledTerm& ct, const u64* a) const {
  u64 c = ct.c0;
  for (auto [i, ci] : ct.linear) c = nmod_add(c, nmod_mul(ci, a[i], mod_), mod_);
  for (const Mono& m : ct.higher) {
    u64 v = m.coef;
    for (int i = 0; i < n_; ++i)
      for (int e = 0; e < m.exps[i]; ++e) v = nmod_mul(v, a[i], mod_);
    c = nmod_add(c, v, mod_);
  }
  return c;
}

void IdentitySet::equation(int t, const Integral& seed, std::vector<Term>& out) const {
  u64 a[kMaxPropagators];
  for (int i = 0; i < n_; ++i) a[i] = nmod_set_si(seed.a[i], mod_);
  for (const CompiledTerm& ct : templates_[t].terms) {
    const u64 c = evaluate(ct, a);
    if (c == 0) continue;
    Term term{seed, c};
    for (int i = 0; i < n_; ++i) term.integral.a[i] = static_cast<std::int8_t>(seed.a[i] + ct.shift[i]);
    out.push_back(term);
  }
}

}  // namespace sailir
