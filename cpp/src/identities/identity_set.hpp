// IBP/LI templates compiled once for a prime and numeric point: each coefficient becomes a
// polynomial in the seed powers a_i with field coefficients (affine part stored densely), so an
// equation at a seed costs a few multiply-adds and no string handling.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "algebra/integral.hpp"
#include "family/family_file.hpp"
#include "ff/nmod.hpp"

namespace sailir {

struct Term {
  Integral integral;
  u64 coef;
};

class IdentitySet {
 public:
  // `symbol_values` are the field values of the family's symbols (d first).
  IdentitySet(const FamilyDef& family, const std::vector<u64>& symbol_values, nmod_t mod);

  int size() const { return static_cast<int>(templates_.size()); }
  int propagators() const { return n_; }
  nmod_t modulus() const { return mod_; }
  const std::string& kind(int t) const { return templates_[t].kind; }
  int terms(int t) const { return static_cast<int>(templates_[t].terms.size()); }
  // Shift of term k of template t: the term's integral is seed + shift.
  const std::array<std::int8_t, kMaxPropagators>& shift(int t, int k) const { return templates_[t].terms[k].shift; }

  // All terms of all templates as dense affine coefficients c0 + sum_i lin[i] a_i (for batched
  // evaluation, e.g. on a GPU); false when some coefficient is not affine in the seed powers.
  bool affine_terms(std::vector<u64>& c0, std::vector<u64>& lin) const;

  // Appends the equation of template t at `seed` (terms with nonzero coefficient only).
  void equation(int t, const Integral& seed, std::vector<Term>& out) const;
  // The coefficient of term k of template t (zero included) at a seed whose powers are already in
  // the field (seed_values): recordings replay equations term by term, columns fixed in advance.
  void seed_values(const Integral& seed, u64* a) const {
    for (int i = 0; i < n_; ++i) a[i] = nmod_set_si(seed.a[i], mod_);
  }
  u64 coefficient_at(int t, int k, const u64* a) const { return evaluate(templates_[t].terms[k], a); }

 private:
  struct Mono {
    u64 coef;
    std::vector<std::uint8_t> exps;  // over a1..an
  };
  struct CompiledTerm {
    std::array<std::int8_t, kMaxPropagators> shift{};
    u64 c0 = 0;
    std::vector<std::pair<int, u64>> linear;  // (i, c_i): c_i * a_i
    std::vector<Mono> higher;                 // monomials of degree >= 2 in the a_i
  };
  struct Compiled {
    std::string kind;
    std::vector<CompiledTerm> terms;
  };
  u64 evaluate(const CompiledTerm& ct, const u64* a) const;

  int n_;
  nmod_t mod_;
  std::vector<Compiled> templates_;
};

}  // namespace sailir
