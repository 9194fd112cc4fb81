// The Laporta order: an integral is more complex when its sector has more lines (then a higher
// sector id), then more dots r, then more numerator powers s, then a fixed tie-break. Preferred
// masters are ranked below every other integral of their sector, so elimination keeps them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
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
  LaportaOrder(int n, const std::vector<Integral>& preferred) : n_(n), preferred_by_sector_(std::size_t{1} << n) {
    for (const Integral& x : preferred) {
      auto& here = preferred_by_sector_[sector_of(x, n)];
      if (std::find(here.begin(), here.end(), x) == here.end()) here.push_back(x);
    }
  }

  // The leading word of key(x), which decides most comparisons.
  std::uint64_t hi(const Integral& x) const {
    SectorId sec = sector_of(x, n_);
    const std::uint64_t non_preferred = in_sector(preferred_by_sector_[sec], x) ? 0 : 1;
    return sector_floor(sec) | (non_preferred << 23) |
           (std::uint64_t(r_of(x, n_)) << 12) | std::uint64_t(s_of(x, n_));
  }
  // The leading words of the integrals of sector s lie in [sector_floor(s), sector_floor(s) + sector_span):
  // in the order, a sector's integrals are one contiguous range.
  static std::uint64_t sector_floor(SectorId s) {
    return (std::uint64_t(lines_of(s)) << 56) | (std::uint64_t(s) << 24);
  }
  static constexpr std::uint64_t sector_span = std::uint64_t{1} << 24;
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
  bool is_preferred(const Integral& x) const { return in_sector(preferred_by_sector_[sector_of(x, n_)], x); }
  int propagators() const { return n_; }

 private:
  // Searches rank every term they meet: a sector holds a few preferred masters at most, so a
  // scan of its list beats hashing.
  static bool in_sector(const std::vector<Integral>& here, const Integral& x) {
    return std::find(here.begin(), here.end(), x) != here.end();
  }
  int n_;
  std::vector<std::vector<Integral>> preferred_by_sector_;  // by sector id
};

}  // namespace sailir
