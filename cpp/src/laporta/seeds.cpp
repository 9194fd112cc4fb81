#include "laporta/seeds.hpp"

namespace sailir {

namespace {

// Distributes `extra` units over positions[k..] in every way, adding `sign` per unit.
void distribute(const std::vector<int>& positions, std::size_t k, int extra, int sign, Integral& cur,
                std::vector<Integral>& out) {
  if (k + 1 >= positions.size()) {
    if (positions.empty()) {
      if (extra == 0) out.push_back(cur);
      return;
    }
    cur.a[positions[k]] += static_cast<std::int8_t>(sign * extra);
    out.push_back(cur);
    cur.a[positions[k]] -= static_cast<std::int8_t>(sign * extra);
    return;
  }
  for (int e = 0; e <= extra; ++e) {
    cur.a[positions[k]] += static_cast<std::int8_t>(sign * e);
    distribute(positions, k + 1, extra - e, sign, cur, out);
    cur.a[positions[k]] -= static_cast<std::int8_t>(sign * e);
  }
}

// Binomial coefficient C(n, k) in doubles (0 for k < 0 or k > n).
double binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  double c = 1;
  for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

}  // namespace

// Dots: k <= rmax - t units over t lines, C(rmax, t) ways in all; numerators likewise over the
// other n - t propagators, C(smax + n - t, n - t).
double sector_seed_count(SectorId sector, int n, int rmax, int smax) {
  int t = 0;
  for (int i = 0; i < n; ++i) t += sector >> i & 1;
  if (rmax < t || smax < 0) return 0;
  return binomial(rmax, t) * binomial(smax + n - t, n - t);
}

std::vector<Integral> sector_seeds(SectorId sector, int n, int rmax, int smax) {
  std::vector<int> lines, others;
  Integral corner;
  for (int i = 0; i < n; ++i) {
    if (sector >> i & 1) {
      lines.push_back(i);
      corner.a[i] = 1;
    } else {
      others.push_back(i);
    }
  }
  const int t = static_cast<int>(lines.size());
  std::vector<Integral> dotted, out;
  for (int r = t; r <= rmax; ++r) distribute(lines, 0, r - t, +1, corner, dotted);
  for (Integral& base : dotted)
    for (int s = 0; s <= smax; ++s) {
      if (others.empty() && s > 0) break;
      distribute(others, 0, s, -1, base, out);
    }
  return out;
}

}  // namespace sailir
