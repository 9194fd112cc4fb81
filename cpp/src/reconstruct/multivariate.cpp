// Dense multivariate polynomials on lower sets: Newton interpolation on grids (one dimension
// after the other, which is exact on lower sets), Taylor shifts, and conversion to sparse form.
#include "reconstruct/multivariate.hpp"

#include <numeric>

namespace sailir::recon {

bool monomial_before(std::span<const int> a, std::span<const int> b) {
  const int da = std::accumulate(a.begin(), a.end(), 0), db = std::accumulate(b.begin(), b.end(), 0);
  if (da != db) return da > db;
  return std::lexicographical_compare(b.begin(), b.end(), a.begin(), a.end());
}

u64 sparse_evaluate(const SparsePoly& p, int variables, std::span<const u64> point, nmod_t mod) {
  const auto v = static_cast<std::size_t>(variables);
  std::vector<int> top(v, 0);
  for (std::size_t i = 0; i < p.exponents.size(); ++i) top[i % v] = std::max(top[i % v], p.exponents[i]);
  const Field f(mod);
  std::vector<std::vector<u64>> powers(v);
  for (std::size_t j = 0; j < v; ++j) {
    powers[j].assign(static_cast<std::size_t>(top[j]) + 1, 1 % mod.n);
    for (std::size_t e = 1; e < powers[j].size(); ++e) powers[j][e] = f.mul(powers[j][e - 1], point[j]);
  }
  u64 sum = 0;
  for (std::size_t t = 0; t < p.coeffs.size(); ++t) {
    u64 term = p.coeffs[t];
    for (std::size_t j = 0; j < v; ++j) term = f.mul(term, powers[j][static_cast<std::size_t>(p.exponents[t * v + j])]);
    sum = f.add(sum, term);
  }
  return sum;
}

LowerSet::LowerSet(std::vector<int> bound, int cap) : bound_(std::move(bound)), cap_(std::max(cap, 0)) {
  stride_.assign(bound_.size(), 1);
  size_ = 1;
  for (std::size_t d = bound_.size(); d-- > 0;) {
    bound_[d] = std::clamp(bound_[d], 0, cap_);
    stride_[d] = size_;
    size_ *= static_cast<std::size_t>(bound_[d]) + 1;
  }
}

bool LowerSet::contains(std::span<const int> a) const {
  int sum = 0;
  for (std::size_t d = 0; d < bound_.size(); ++d) {
    if (a[d] < 0 || a[d] > bound_[d]) return false;
    sum += a[d];
  }
  return sum <= cap_;
}

std::size_t LowerSet::index(std::span<const int> a) const {
  std::size_t idx = 0;
  for (std::size_t d = 0; d < bound_.size(); ++d) idx += static_cast<std::size_t>(a[d]) * stride_[d];
  return idx;
}

namespace {

// Applies op to every fiber along every dimension, gathered into a contiguous buffer.
template <class Op>
void for_each_fiber_buffer(const LowerSet& set, std::span<u64> box, Op&& op) {
  std::vector<u64> buf;
  for (int d = 0; d < set.dims(); ++d) {
    const std::size_t stride = set.stride(d);
    set.for_each_fiber(d, [&](std::size_t idx, std::size_t len) {
      if (len < 2) return;
      buf.resize(len);
      for (std::size_t i = 0; i < len; ++i) buf[i] = box[idx + i * stride];
      op(d, std::span<u64>(buf));
      for (std::size_t i = 0; i < len; ++i) box[idx + i * stride] = buf[i];
    });
  }
}

// q(x) -> q(x + c) for one univariate polynomial (Horner-style Taylor shift, O(n^2)).
void shift_univariate(std::span<u64> a, u64 c, nmod_t mod) {
  const Shoup cs(c, mod);
  const std::size_t n = a.size();
  for (std::size_t i = 0; i + 1 < n; ++i)
    for (std::size_t j = n - 1; j-- > i;) a[j] = nmod_add(a[j], cs.mul(a[j + 1], mod), mod);
}

}  // namespace

void lower_set_interpolate(const LowerSet& set, std::span<const NodeSet* const> grids, std::span<u64> box) {
  // All divided differences first, then all basis changes: both are tensor-product maps acting
  // fiber by fiber, and on a lower set every fiber is a prefix 0..len-1 of the grid.
  for_each_fiber_buffer(set, box, [&](int d, std::span<u64> f) { grids[static_cast<std::size_t>(d)]->divided_differences(f); });
  for_each_fiber_buffer(set, box, [&](int d, std::span<u64> f) { grids[static_cast<std::size_t>(d)]->newton_to_monomial(f); });
}

void lower_set_shift(const LowerSet& set, std::span<const u64> s, std::span<u64> box, nmod_t mod) {
  for_each_fiber_buffer(set, box, [&](int d, std::span<u64> f) { shift_univariate(f, s[static_cast<std::size_t>(d)], mod); });
}

SparsePoly lower_set_to_sparse(const LowerSet& set, std::span<const u64> box) {
  const auto v = static_cast<std::size_t>(set.dims());
  std::vector<int> exps;
  std::vector<u64> coeffs;
  set.for_each([&](std::span<const int> a, int, std::size_t idx) {
    if (box[idx] == 0) return;
    exps.insert(exps.end(), a.begin(), a.end());
    coeffs.push_back(box[idx]);
  });
  std::vector<std::size_t> order(coeffs.size());
  std::iota(order.begin(), order.end(), 0);
  auto term = [&](std::size_t i) { return std::span<const int>(exps.data() + i * v, v); };
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return monomial_before(term(i), term(j)); });
  SparsePoly p;
  for (std::size_t i : order) {
    auto e = term(i);
    p.exponents.insert(p.exponents.end(), e.begin(), e.end());
    p.coeffs.push_back(coeffs[i]);
  }
  return p;
}

}  // namespace sailir::recon
