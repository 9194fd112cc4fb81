// Univariate polynomial arithmetic over F_p, Newton interpolation on shared nodes and Cauchy
// interpolation of rational functions of known degrees.
#include "reconstruct/field_poly.hpp"

#include <algorithm>
#include <stdexcept>

namespace sailir::recon {

void poly_strip(Poly& p) {
  while (!p.empty() && p.back() == 0) p.pop_back();
}

int poly_degree(const Poly& p) {
  int d = static_cast<int>(p.size()) - 1;
  while (d >= 0 && p[static_cast<std::size_t>(d)] == 0) --d;
  return d;
}

Field::Field(nmod_t mod) : mod_(mod), shift_(__builtin_clzll(mod.n)), d_(mod.n << shift_) {
  v_ = static_cast<u64>(~static_cast<u128>(0) / d_);  // the quotient is 2^64 + v: the cast drops 2^64
}

u64 poly_evaluate(const Poly& p, u64 t, const Field& f) {
  u64 v = 0;
  for (std::size_t i = p.size(); i-- > 0;) v = f.add(f.mul(v, t), p[i]);
  return v;
}

void poly_divrem(Poly& q, Poly& a, const Poly& b, const Field& f) {
  poly_strip(a);
  const int da = poly_degree(a), db = poly_degree(b);
  if (db < 0) throw std::domain_error("polynomial division by zero");
  q.assign(static_cast<std::size_t>(std::max(0, da - db + 1)), 0);
  if (da < db) return;
  const u64 inv = f.inv(b[static_cast<std::size_t>(db)]);
  for (int i = da; i >= db; --i) {
    const u64 c = f.mul(a[static_cast<std::size_t>(i)], inv);
    q[static_cast<std::size_t>(i - db)] = c;
    if (c == 0) continue;
    const Shoup cs = f.shoup(c);
    u64* row = a.data() + (i - db);
    for (int j = 0; j < db; ++j) row[j] = f.sub(row[j], cs.mul(b[static_cast<std::size_t>(j)], f.mod()));
    a[static_cast<std::size_t>(i)] = 0;
  }
  poly_strip(a);
  poly_strip(q);
}

void poly_submul(Poly& a, const Poly& q, const Poly& b, const Field& f) {
  if (q.empty() || b.empty()) return;
  a.resize(std::max(a.size(), q.size() + b.size() - 1), 0);
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i] == 0) continue;
    const Shoup qs = f.shoup(q[i]);
    for (std::size_t j = 0; j < b.size(); ++j) a[i + j] = f.sub(a[i + j], qs.mul(b[j], f.mod()));
  }
  poly_strip(a);
}

int poly_gcd_degree(Poly a, Poly b, const Field& f) {
  poly_strip(a);
  poly_strip(b);
  Poly q;
  while (!b.empty()) {
    poly_divrem(q, a, b, f);
    std::swap(a, b);
  }
  return poly_degree(a);
}

NodeSet::NodeSet(std::vector<u64> nodes, nmod_t mod) : mod_(mod), nodes_(std::move(nodes)) {
  const std::size_t n = nodes_.size();
  std::vector<u64> sorted = nodes_;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw std::invalid_argument("interpolation nodes must be distinct");
  for (u64 t : nodes_) neg_nodes_.emplace_back(nmod_neg(t, mod), mod);
  diff_offset_.assign(n + 1, 0);
  for (std::size_t j = 1; j < n; ++j) {
    diff_offset_[j] = inv_diff_.size();
    for (std::size_t i = j; i < n; ++i)
      inv_diff_.emplace_back(nmod_inv(nmod_sub(nodes_[i], nodes_[i - j], mod), mod), mod);
  }
  products_.assign(n + 1, Poly{1});
  for (std::size_t k = 0; k < n; ++k) {  // products_[k+1] = products_[k] * (t - t_k)
    Poly& p = products_[k + 1];
    p.assign(k + 2, 0);
    for (std::size_t i = 0; i <= k; ++i) {
      p[i + 1] = nmod_add(p[i + 1], products_[k][i], mod);
      p[i] = nmod_add(p[i], neg_nodes_[k].mul(products_[k][i], mod), mod);
    }
  }
}

void NodeSet::divided_differences(std::span<u64> y) const {
  const std::size_t m = y.size();
  for (std::size_t j = 1; j < m; ++j) {
    const Shoup* row = inv_diff_.data() + diff_offset_[j];  // row[i - j] = 1/(t_i - t_{i-j})
    for (std::size_t i = m - 1; i >= j; --i) y[i] = row[i - j].mul(nmod_sub(y[i], y[i - 1], mod_), mod_);
  }
}

void NodeSet::newton_to_monomial(std::span<u64> c) const {
  const std::size_t m = c.size();
  if (m < 2) return;
  // Horner from the innermost factor: c_i + (t - t_i) * (the polynomial built so far).
  for (std::size_t i = m - 1; i-- > 0;)
    for (std::size_t j = i; j + 1 < m; ++j) c[j] = nmod_add(c[j], neg_nodes_[i].mul(c[j + 1], mod_), mod_);
}

void NodeSet::interpolate(std::span<u64> y) const {
  divided_differences(y);
  newton_to_monomial(y);
}

bool rational_interpolate(const NodeSet& nodes, std::span<const u64> y, int dn, int dd, Poly& num, Poly& den) {
  const Field& f = nodes.field();
  const std::size_t n = y.size();
  Poly r(y.begin(), y.end());
  nodes.interpolate(r);
  poly_strip(r);
  Poly u0, u1{1};
  if (poly_degree(r) > dn) {
    // r_j = u_j * P mod M with M = prod (t - t_i); stop at the first remainder of degree <= dn.
    Poly r0 = nodes.node_polynomial(n), q;
    while (poly_degree(r) > dn) {
      poly_divrem(q, r0, r, f);
      poly_submul(u0, q, u1, f);
      std::swap(r0, r);
      std::swap(u0, u1);
    }
  }
  if (u1.empty() || u1[0] == 0 || poly_degree(u1) > dd) return false;
  const u64 inv = f.inv(u1[0]);
  num.assign(static_cast<std::size_t>(dn) + 1, 0);
  den.assign(static_cast<std::size_t>(dd) + 1, 0);
  for (std::size_t i = 0; i < r.size(); ++i) num[i] = f.mul(inv, r[i]);
  for (std::size_t i = 0; i < u1.size(); ++i) den[i] = f.mul(inv, u1[i]);
  return true;
}

}  // namespace sailir::recon
