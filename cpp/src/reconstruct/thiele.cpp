// Thiele continued-fraction interpolation of a univariate rational function over F_p, one point
// at a time, used to find the degrees of the functions (numerator and denominator).
#include <algorithm>

#include "reconstruct/field_poly.hpp"

namespace sailir::recon {

Thiele::Thiele(nmod_t mod) : mod_(mod) {}

void Thiele::add(u64 t, u64 y) {
  const std::size_t k = coeffs_.size();
  if (std::find(nodes_.begin(), nodes_.end(), t) != nodes_.end()) return;  // a repeated node adds nothing
  if (k > 0 && poly_evaluate(a_, t, mod_) == nmod_mul(y, poly_evaluate(b_, t, mod_), mod_)) {
    ++agreements_;
    return;
  }
  // Reciprocal differences phi_{j+1} = (t - t_j) / (phi_j - a_j), kept as a fraction P/Q so that
  // the whole chain costs one inversion.
  u64 p = y, q = 1;
  for (std::size_t j = 0; j < k; ++j) {
    const u64 den = nmod_sub(p, nmod_mul(coeffs_[j], q, mod_), mod_);
    if (den == 0) return;  // degenerate point (probability ~ degree/p): skip it
    p = nmod_mul(nmod_sub(t, nodes_[j], mod_), q, mod_);
    q = den;
  }
  const u64 a = nmod_mul(p, nmod_inv(q, mod_), mod_);
  agreements_ = 0;
  // Convergents: A_k = a_k A_{k-1} + (t - t_{k-1}) A_{k-2}, the same for B; A_{-1} = 1, B_{-1} = 0.
  if (k == 0) {
    a_prev_ = {1};
    a_ = {a};
    b_prev_ = {};
    b_ = {1};
  } else {
    const u64 node = nodes_[k - 1];
    auto step = [&](Poly& prev, Poly& cur) {
      Poly next(std::max(cur.size(), prev.size() + 1), 0);
      for (std::size_t i = 0; i < cur.size(); ++i) next[i] = nmod_mul(a, cur[i], mod_);
      for (std::size_t i = 0; i < prev.size(); ++i) {
        next[i + 1] = nmod_add(next[i + 1], prev[i], mod_);
        next[i] = nmod_sub(next[i], nmod_mul(node, prev[i], mod_), mod_);
      }
      poly_strip(next);
      prev = std::move(cur);
      cur = std::move(next);
    };
    step(a_prev_, a_);
    step(b_prev_, b_);
  }
  nodes_.push_back(t);
  coeffs_.push_back(a);
}

std::pair<int, int> Thiele::degrees() const {
  const int dn = poly_degree(a_), dd = poly_degree(b_);
  if (dn < 0) return {0, 0};
  const int g = poly_gcd_degree(a_, b_, mod_);
  return {dn - g, dd - g};
}

}  // namespace sailir::recon
