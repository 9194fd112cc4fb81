// One sector's Laporta system: equations from seeds of the sector, sparse elimination modulo p
// that pivots only on the sector's own integrals (subsector integrals stay as a tail, reduced
// later in their own sectors), and back-substitution of chosen integrals.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "algebra/integral.hpp"
#include "algebra/order.hpp"
#include "identities/identity_set.hpp"

namespace sailir {

struct SystemStats {
  std::size_t seeds = 0;
  std::size_t equations = 0;  // generated, non-empty
  std::size_t unknowns = 0;   // distinct integrals in them
  std::size_t pivots = 0;     // independent equations kept
  std::size_t stored_terms = 0;
};

class SectorSystem {
 public:
  using ZeroTest = std::function<bool(SectorId)>;

  SectorSystem(const IdentitySet& ids, const LaportaOrder& order, SectorId sector, ZeroTest is_zero);

  // Generates the equations at the seeds bounded by (rmax, smax) and eliminates them.
  void solve(int rmax, int smax);

  // Integrals of this sector that the elimination left without a pivot (candidates for masters).
  std::vector<Integral> unpivoted_own() const;
  bool has_pivot(const Integral& x) const;

  // Expresses x (an integral of this sector) through unpivoted integrals of the sector and
  // subsector integrals. Returns false when x has no pivot (it is a master or not reducible
  // with these seeds).
  bool reduce(const Integral& x, std::vector<Term>& out);

  const SystemStats& stats() const { return stats_; }

 private:
  void add_row(const std::vector<std::pair<std::uint32_t, u64>>& row);
  void scan_reduce(std::vector<std::pair<std::uint32_t, u64>>& out);  // reduces the accumulator
  void load(std::uint32_t col, u64 val);

  const IdentitySet& ids_;
  const LaportaOrder& order_;
  SectorId sector_;
  ZeroTest is_zero_;
  nmod_t mod_;
  int n_;

  std::vector<Integral> cols_;                          // local column -> integral, ascending order
  std::unordered_map<Integral, std::uint32_t, IntegralHash> col_of_;
  std::uint32_t first_own_ = 0;                         // columns >= this belong to the sector

  struct Row {
    std::vector<std::uint32_t> cols;  // descending, lead excluded (lead coefficient is 1)
    std::vector<u64> vals;
  };
  std::vector<Row> rows_;
  std::vector<std::int32_t> pivot_of_;  // column -> row, or -1

  std::vector<u64> acc_;                // dense accumulator for one row
  std::vector<std::uint64_t> bits_;     // its nonzero pattern
  std::int64_t top_word_ = -1;      // range of words of bits_ that may be nonzero
  std::int64_t bottom_word_ = INT64_MAX;
  SystemStats stats_;
};

}  // namespace sailir
