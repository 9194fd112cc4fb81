// One sector's Laporta system: equations from seeds of the sector, sparse elimination modulo p
// that pivots on the sector's own integrals (subsector integrals stay as a tail, reduced later in
// their own sectors), and back-substitution of chosen integrals.
//
// An equation whose own integrals all cancel still relates subsector integrals, possibly of
// several subsectors (I[2,0,0,0] = I[0,2,0,0] on the one-loop box). Master finding must use it,
// as one Laporta system over all sectors would, or integrals that IBP relates stay separate
// "masters". So the system can keep such relations for the sector of their highest integral.
// It keeps only those among integrals near their sectors' corners (a filter): relations that
// reach far beyond the seeds of their sectors cannot change which integrals are masters there,
// and keeping them all costs a full Laporta system in every sector.
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

// A linear relation among integrals (sum of coef * integral = 0).
using Relation = std::vector<Term>;

struct SolveOptions {
  const std::vector<Relation>* incoming = nullptr;  // equations handed down from supersectors
  // Non-empty: relations among subsector integrals only, all of whose integrals pass, are kept.
  std::function<bool(const Integral&)> keep_relation_term;
  bool pivot_everywhere = false;  // pivot on subsector integrals too (one system over all sectors)
  bool trace = false;  // remember where each row came from and which rows reduced it (trace())
  // Called before the elimination and every few thousand equations of it with the bytes the
  // system holds and a projection of its peak. It may throw: the system stays destructible and
  // can be solved again.
  std::function<void(std::size_t now, std::size_t projected)> memory_check;
};

// An equation that became a row of the elimination: identity `templ` at `seed`, solved for `lead`.
struct RowOrigin {
  int templ;
  Integral seed;
  Integral lead;
};

// With SolveOptions::trace: each row's origin (an identity at a seed, or incoming relation
// `relation`), and the earlier rows the elimination subtracted from it.
struct TracedRow {
  RowOrigin origin;
  std::int32_t relation = -1;  // >= 0: made from incoming relation number `relation`
  std::vector<std::uint32_t> used;
};
using SystemTrace = std::vector<TracedRow>;

class SectorSystem {
 public:
  using ZeroTest = std::function<bool(SectorId)>;

  SectorSystem(const IdentitySet& ids, const LaportaOrder& order, SectorId sector, ZeroTest is_zero);

  // Generates the equations at the seeds bounded by (rmax, smax), adds the relations handed down
  // from supersectors, and eliminates them all.
  void solve(int rmax, int smax, const SolveOptions& opt = {});
  // The same at explicit seeds (of any sectors below or in this one).
  void solve_seeds(const std::vector<Integral>& seeds, const SolveOptions& opt);

  // The relations kept (see SolveOptions), each led by its highest integral with coefficient 1.
  std::vector<Relation> relations() const;
  // Whether x leads a row (of any sector with pivot_everywhere): x reduces to lower integrals.
  bool is_pivot(const Integral& x) const;

  // With SolveOptions::trace: the rows in elimination order (moved out).
  SystemTrace take_trace() { return std::move(trace_); }
  // The rows that relations() returns, in its order.
  std::vector<std::uint32_t> relation_rows() const;

  // Integrals of this sector that the elimination left without a pivot (candidates for masters).
  std::vector<Integral> unpivoted_own() const;
  bool has_pivot(const Integral& x) const;

  // Expresses x (an integral of this sector) through unpivoted integrals of the sector and
  // subsector integrals. Returns false when x has no pivot (it is a master or not reducible
  // with these seeds).
  bool reduce(const Integral& x, std::vector<Term>& out, std::vector<std::uint32_t>* used = nullptr);

  const SystemStats& stats() const { return stats_; }
  // Bytes the equations, rows and columns hold now (an estimate from their sizes).
  std::size_t memory_bytes() const;

 private:
  using SparseRow = std::vector<std::pair<std::uint32_t, u64>>;  // (column, coefficient)
  // Where an equation came from: seed index * templates + template, or -1 for an incoming relation.
  using Origin = std::int64_t;
  std::vector<SparseRow> generate(const std::vector<Integral>& seeds, const std::vector<Relation>* incoming,
                                  std::vector<Integral>& found, std::vector<Origin>& origins) const;
  void number_columns(const std::vector<Integral>& found, std::vector<SparseRow>& eqs, std::vector<Origin>& origins);
  // Its lead column, or -1; `used` (may be null) gets the rows subtracted from it.
  std::int64_t add_row(const std::vector<std::pair<std::uint32_t, u64>>& row, std::vector<std::uint32_t>* used);
  bool keeps_relation(const std::vector<std::pair<std::uint32_t, u64>>& red) const;
  // Reduces the accumulator; `used` (may be null) gets the rows subtracted, in order.
  void scan_reduce(std::vector<std::pair<std::uint32_t, u64>>& out, std::vector<std::uint32_t>* used = nullptr);
  void load(std::uint32_t col, u64 val);
  std::size_t row_bytes() const;
  void check_memory(const SolveOptions& opt, std::size_t done, std::size_t total) const;

  const IdentitySet& ids_;
  const LaportaOrder& order_;
  SectorId sector_;
  ZeroTest is_zero_;
  nmod_t mod_;
  int n_;

  std::vector<Integral> cols_;                          // local column -> integral, ascending order
  std::unordered_map<Integral, std::uint32_t, IntegralHash> col_of_;
  std::uint32_t first_own_ = 0;                         // columns >= this belong to the sector
  bool pivot_everywhere_ = false;
  std::function<bool(const Integral&)> keep_relation_term_;

  struct Row {
    std::vector<std::uint32_t> cols;  // descending, lead excluded (lead coefficient is 1)
    std::vector<u64> vals;
  };
  std::vector<Row> rows_;
  std::vector<std::int32_t> pivot_of_;  // column -> row, or -1
  SystemTrace trace_;  // with SolveOptions::trace

  std::vector<u64> acc_;                // dense accumulator for one row
  std::vector<std::uint64_t> bits_;     // its nonzero pattern
  std::int64_t top_word_ = -1;      // range of words of bits_ that may be nonzero
  std::int64_t bottom_word_ = INT64_MAX;
  SystemStats stats_;
  std::size_t equation_bytes_ = 0;  // the generated equations, held through the elimination
};

}  // namespace sailir
