// Univariate polynomials over F_p (coefficient vectors, lowest degree first) and the univariate
// interpolation routines of the reconstruction: Newton interpolation on shared nodes, Cauchy
// interpolation of a rational function of known degrees, and Thiele continued fractions for
// rational functions of unknown degrees.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "ff/nmod.hpp"

namespace sailir::recon {

using Poly = std::vector<u64>;  // p[i] is the coefficient of t^i; stripped: no trailing zeros

// A factor w with its Shoup quotient, for repeated multiplication by w.
struct Shoup {
  u64 w = 0, pre = 0;
  Shoup() = default;
  Shoup(u64 value, nmod_t mod) : w(value), pre(nmod_mul_precomp(value, mod)) {}
  u64 mul(u64 x, nmod_t mod) const { return nmod_mul_shoup(w, pre, x, mod); }
};

// Arithmetic modulo p whose products need no hardware division: the 128-bit product is reduced
// with a precomputed reciprocal of the normalized modulus (Moller-Granlund, division by invariant
// integers). About 1.7x the throughput of nmod_mul's % on AMD Zen, more where 128-bit division
// is slow; it also gives Shoup quotients without a division.
class Field {
 public:
  explicit Field(nmod_t mod);
  nmod_t mod() const { return mod_; }
  u64 mul(u64 a, u64 b) const {
    u64 q;
    return divide(static_cast<u128>(a << shift_) * b, q) >> shift_;  // a << shift < 2^64 as a < p
  }
  // w with its Shoup quotient floor(w 2^64 / p), for multiplying many values by w.
  Shoup shoup(u64 w) const {
    u64 q;
    divide(static_cast<u128>(w << shift_) << 64, q);
    Shoup s;
    s.w = w;
    s.pre = q;
    return s;
  }
  u64 add(u64 a, u64 b) const { return nmod_add(a, b, mod_); }
  u64 sub(u64 a, u64 b) const { return nmod_sub(a, b, mod_); }
  u64 neg(u64 a) const { return nmod_neg(a, mod_); }
  u64 inv(u64 a) const { return nmod_inv(a, mod_); }

 private:
  // Remainder and quotient of u < d 2^64 by d.
  u64 divide(u128 u, u64& quotient) const {
    const auto u1 = static_cast<u64>(u >> 64), u0 = static_cast<u64>(u);
    const u128 q = static_cast<u128>(v_) * u1 + u;
    u64 q1 = static_cast<u64>(q >> 64) + 1, r = u0 - q1 * d_;
    if (r > static_cast<u64>(q)) {
      --q1;
      r += d_;
    }
    if (r >= d_) {
      ++q1;
      r -= d_;
    }
    quotient = q1;
    return r;
  }

  nmod_t mod_;
  int shift_;  // leading zeros of p
  u64 d_, v_;  // d = p << shift, v = floor((2^128 - 1) / d) - 2^64
};

void poly_strip(Poly& p);
int poly_degree(const Poly& p);  // -1 for 0
u64 poly_evaluate(const Poly& p, u64 t, const Field& f);
// a := a mod b and q := a div b (b nonzero).
void poly_divrem(Poly& q, Poly& a, const Poly& b, const Field& f);
// a := a - q * b.
void poly_submul(Poly& a, const Poly& q, const Poly& b, const Field& f);
// Degree of gcd(a, b); -1 when both are 0.
int poly_gcd_degree(Poly a, Poly b, const Field& f);

// Distinct interpolation nodes t_0, t_1, ... with what Newton interpolation on them needs,
// prepared once and shared by every line (or grid fiber) that uses the same nodes. Routines
// taking n values use the first n nodes only.
class NodeSet {
 public:
  NodeSet() = default;
  // Throws std::invalid_argument when two nodes coincide.
  NodeSet(std::vector<u64> nodes, nmod_t mod);
  const Field& field() const { return field_; }
  std::size_t size() const { return nodes_.size(); }
  u64 node(std::size_t i) const { return nodes_[i]; }
  const std::vector<u64>& nodes() const { return nodes_; }

  // Values y_i at t_i -> Newton coefficients (divided differences), in place.
  void divided_differences(std::span<u64> y) const;
  // Newton coefficients on t_0, t_1, ... -> monomial coefficients, in place.
  void newton_to_monomial(std::span<u64> c) const;
  // Values -> coefficients of the interpolating polynomial of degree < y.size().
  void interpolate(std::span<u64> y) const;
  // (t - t_0) ... (t - t_{n-1}), n + 1 coefficients.
  const Poly& node_polynomial(std::size_t n) const { return products_[n]; }

 private:
  nmod_t mod_;
  Field field_{mod_};
  std::vector<u64> nodes_;
  std::vector<Shoup> neg_nodes_;          // -t_i
  std::vector<Shoup> inv_diff_;           // 1/(t_i - t_{i-j}), by j then i (triangle)
  std::vector<std::size_t> diff_offset_;  // start of row j in inv_diff_
  std::vector<Poly> products_;
};

// The rational function num/den with deg num <= dn, deg den <= dd and den(0) = 1 through
// (t_i, y_i) for i < dn + dd + 1 = y.size() (Cauchy interpolation by the extended Euclidean
// algorithm). num gets dn + 1 and den dd + 1 coefficients (zero padded). Returns false when no
// such function with den(0) != 0 exists.
bool rational_interpolate(const NodeSet& nodes, std::span<const u64> y, int dn, int dd, Poly& num, Poly& den);

// Thiele continued-fraction interpolation of one univariate rational function of unknown degrees,
// fed one point at a time: f(t) = a_0 + (t - t_0)/(a_1 + (t - t_1)/(a_2 + ...)). A point where the
// current interpolant already agrees counts as an agreement and is not added; a point that
// disagrees resets the count.
class Thiele {
 public:
  explicit Thiele(nmod_t mod);
  void add(u64 t, u64 y);
  int agreements() const { return agreements_; }
  std::size_t terms() const { return coeffs_.size(); }
  // Degrees of numerator and denominator of the interpolant in lowest terms (0/1 for zero).
  std::pair<int, int> degrees() const;
  // The interpolant as num/den, not reduced.
  const Poly& numerator() const { return a_; }
  const Poly& denominator() const { return b_; }

 private:
  Field f_;
  std::vector<u64> nodes_, coeffs_;  // t_i, a_i
  Poly a_prev_, a_, b_prev_, b_;     // the last two convergents A_k/B_k
  int agreements_ = 0;
};

}  // namespace sailir::recon
