// Multivariate polynomials over F_p for the reconstruction: the canonical monomial order, sparse
// polynomials, and dense polynomials whose support is a lower set (total degree and per-variable
// bounds), with Newton interpolation on grids and Taylor shifts on them.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "reconstruct/field_poly.hpp"

namespace sailir::recon {

// True when exponent vector a comes before b in the canonical order: higher total degree first,
// then lexicographically larger first (first variable most significant).
bool monomial_before(std::span<const int> a, std::span<const int> b);

// A polynomial over F_p in some number V of variables: terms in canonical order, coefficients
// nonzero.
struct SparsePoly {
  std::vector<int> exponents;  // V per term
  std::vector<u64> coeffs;
};
u64 sparse_evaluate(const SparsePoly& p, int variables, std::span<const u64> point, nmod_t mod);

// The lower set {a in N^dims : a_i <= bound_i, a_1 + ... + a_dims <= cap}, laid out densely in
// its bounding box (row major, last index fastest). With dims = 0 it is the single point ().
class LowerSet {
 public:
  LowerSet(std::vector<int> bound, int cap);  // bounds above cap are clipped to it
  int dims() const { return static_cast<int>(bound_.size()); }
  int cap() const { return cap_; }
  const std::vector<int>& bound() const { return bound_; }
  std::size_t box_size() const { return size_; }
  std::size_t stride(int d) const { return stride_[static_cast<std::size_t>(d)]; }
  bool contains(std::span<const int> a) const;
  std::size_t index(std::span<const int> a) const;

  // fn(a, sum of a, box index) for every a in the set, in box order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    visit(bound_, fn);
  }
  // fn(box index, length) for every fiber along dimension d: the points a + i e_d, i < length,
  // for each a in the set with a_d = 0.
  template <class Fn>
  void for_each_fiber(int d, Fn&& fn) const {
    std::vector<int> pinned = bound_;
    pinned[static_cast<std::size_t>(d)] = 0;
    const int bd = bound_[static_cast<std::size_t>(d)];
    visit(pinned, [&](std::span<const int>, int sum, std::size_t idx) {
      fn(idx, static_cast<std::size_t>(std::min(bd, cap_ - sum)) + 1);
    });
  }

 private:
  template <class Fn>
  void visit(const std::vector<int>& bound, Fn&& fn) const {
    const int n = dims();
    std::vector<int> a(static_cast<std::size_t>(n), 0);
    int sum = 0;
    std::size_t idx = 0;
    for (;;) {
      fn(std::span<const int>(a), sum, idx);
      int d = n - 1;
      for (; d >= 0; --d) {  // odometer, last dimension fastest
        auto ud = static_cast<std::size_t>(d);
        if (a[ud] < bound[ud] && sum < cap_) {
          ++a[ud];
          ++sum;
          idx += stride_[ud];
          break;
        }
        sum -= a[ud];
        idx -= static_cast<std::size_t>(a[ud]) * stride_[ud];
        a[ud] = 0;
      }
      if (d < 0) return;
    }
  }

  std::vector<int> bound_;
  int cap_;
  std::vector<std::size_t> stride_;
  std::size_t size_;
};

// Values at the grid points (grids[0]->node(a_0), grids[1]->node(a_1), ...) for a in the set ->
// coefficients (monomial basis) of the unique polynomial with support in the set that takes them;
// in place in the box. Entries outside the set are left alone.
void lower_set_interpolate(const LowerSet& set, std::span<const NodeSet* const> grids, std::span<u64> box);

// p(x) -> p(x + s) for a polynomial with support in the set, in place in the box (the support
// stays in the set: a shift never raises a degree).
void lower_set_shift(const LowerSet& set, std::span<const u64> s, std::span<u64> box, nmod_t mod);

// The nonzero entries of the box as a sparse polynomial in canonical order.
SparsePoly lower_set_to_sparse(const LowerSet& set, std::span<const u64> box);

}  // namespace sailir::recon
