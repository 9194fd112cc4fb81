// Thiele continued-fraction interpolation of a univariate rational function over F_p, one point
// at a time, used to find the degrees of the functions (numerator and denominator).
#include <algorithm>

#include "reconstruct/field_poly.hpp"

namespace sailir::recon {

Thiele::Thiele(nmod_t mod) : f_(mod) {}

void Thiele::add(u64 t, u64 y) {
  const std::size_t k = coeffs_.size();
  if (std::find(nodes_.begin(), nodes_.end(), t) != nodes_.end()) return;  // a repeated node adds nothing
  if (k > 0 && poly_evaluate(a_, t, f_) == f_.mul(y, poly_evaluate(b_, t, f_))) {
    ++agreements_;
    return;
  }
  // Reciprocal differences phi_{j+1} = (t - t_j) / (phi_j - a_j), kept as a fraction P/Q so that
  // the whole chain costs one inversion.
  u64 p = y, q = 1;
  for (std::size_t j = 0; j < k; ++j) {
    const u64 den = f_.sub(p, f_.mul(coeffs_[j], q));
    if (den == 0) return;  // degenerate point (probability ~ degree/p): skip it
    p = f_.mul(f_.sub(t, nodes_[j]), q);
    q = den;
  }
  const u64 a = f_.mul(p, f_.inv(q));
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
      for (std::size_t i = 0; i < cur.size(); ++i) next[i] = f_.mul(a, cur[i]);
      for (std::size_t i = 0; i < prev.size(); ++i) {
        next[i + 1] = f_.add(next[i + 1], prev[i]);
        next[i] = f_.sub(next[i], f_.mul(node, prev[i]));
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
  const int g = poly_gcd_degree(a_, b_, f_);
  return {dn - g, dd - g};
}

}  // namespace sailir::recon
