// The Laporta order: an integral is more complex when its sector has more lines (then a higher
// sector id), then more dots r, then more numerator powers s, then a fixed tie-break. Preferred
// masters are ranked below every other integral of their sector, so elimination keeps them.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "algebra/integral.hpp"

namespace sailir {

struct OrderKey {
  std::uint64_t hi = 0;                       // lines, sector, preferred flag, r, s
  std::array<std::uint8_t, kMaxPropagators> tie{};  // |a_i| from the last propagator to the first

  bool operator<(const OrderKey& o) const { return hi != o.hi ? hi < o.hi : tie < o.tie; }
  bool operator==(const OrderKey& o) const { return hi == o.hi && tie == o.tie; }
};

class LaportaOrder {
 public:
  LaportaOrder(int n, const std::vector<Integral>& preferred)
      : n_(n), preferred_(preferred.begin(), preferred.end()), preferred_sector_(std::size_t{1} << n, 0) {
    for (const Integral& x : preferred) preferred_sector_[sector_of(x, n)] = 1;
  }

  // The leading word of key(x), which decides most comparisons.
  std::uint64_t hi(const Integral& x) const {
    SectorId sec = sector_of(x, n_);
    // Searches rank every term they meet: look up the preferred set only in sectors that have one.
    const std::uint64_t non_preferred = preferred_sector_[sec] && preferred_.count(x) ? 0 : 1;
    return (std::uint64_t(lines_of(sec)) << 56) | (std::uint64_t(sec) << 24) | (non_preferred << 23) |
           (std::uint64_t(r_of(x, n_)) << 12) | std::uint64_t(s_of(x, n_));
  }
  OrderKey key(const Integral& x) const {
    OrderKey k;
    k.hi = hi(x);
    for (int i = 0; i < n_; ++i) {
      int v = x.a[n_ - 1 - i];
      k.tie[i] = static_cast<std::uint8_t>(v < 0 ? -v : v);
    }
    return k;
  }
  bool less(const Integral& x, const Integral& y) const { return key(x) < key(y); }
  bool is_preferred(const Integral& x) const { return preferred_.count(x) != 0; }
  int propagators() const { return n_; }

 private:
  int n_;
  std::unordered_set<Integral, IntegralHash> preferred_;
  std::vector<char> preferred_sector_;  // by sector id
};

}  // namespace sailir
