// Builds a recording from the equations a finished reduction used, in the order it used them:
// it eliminates them once more at the recording point, noting which earlier rows each row needs,
// reduces the targets, keeps only the rows the targets depend on (mark and sweep) and compiles
// them into flat arrays.
//
// A row is eliminated at the integral the reducer meant (the Laporta lead, or the learned step's
// target) when it still carries it, else at its most complex integral; a row that vanishes is
// dropped. Any such choice is a valid elimination, so the reduction onto independent masters is
// the same as the reducer's.
#pragma once

#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "algebra/order.hpp"
#include "identities/identity_set.hpp"
#include "recording/recording.hpp"

namespace sailir {

class Recorder {
 public:
  // `ids` at the recording point; `other` at the same point modulo another prime, to tell a
  // coefficient that vanishes there from one that vanishes modulo one prime by accident.
  // How rows are eliminated. creation_order: each row by every earlier pivot it meets, solved for
  // the integral it was meant for (any order of equations, a learned path's steps). laporta_order:
  // each row only in its own sector and above, solved for its most complex integral, and the
  // targets reduced from the most complex integral down, as the Laporta reducer's sector systems
  // and its composition of their rules do: rows keep the short tails of those systems, which
  // matters when many targets share the lower sectors (the massive double box).
  enum class Elimination { creation_order, laporta_order };
  // `masters` never become pivots: a row left with masters only would mean a dependent basis.
  Recorder(const IdentitySet& ids, const IdentitySet& other, const LaportaOrder& order,
           std::function<bool(SectorId)> is_zero_sector, const std::vector<Integral>& masters,
           Elimination mode = Elimination::creation_order);

  // Identity `templ` at `seed`, to be solved for `lead`.
  void add(int templ, const Integral& seed, const Integral& lead);

  // Reduces the targets onto the masters; `values` gets their coefficients at the recording point
  // (targets x masters). Throws RecordingError when a target does not reduce to masters.
  Recording finish(const std::vector<Integral>& targets, const std::vector<Integral>& masters,
                   std::vector<std::vector<u64>>& values);

  struct Equation {
    int templ;
    Integral seed;
    Integral lead;
  };
  // After finish(): the equations of the rows the recording kept, in order.
  std::vector<Equation> kept_equations() const;
  // The most complex integral (Laporta order) of identity `templ` at `seed` with a nonzero
  // coefficient outside zero sectors; the seed itself when there is none.
  Integral highest(int templ, const Integral& seed) const;

 private:
  struct Row {
    int templ;
    Integral seed;
    std::uint32_t lead;
    std::vector<std::pair<std::uint16_t, std::uint32_t>> terms;  // (template term, column)
    std::vector<std::pair<std::uint32_t, u64>> tail;
    std::vector<std::uint32_t> used;
  };

  std::uint32_t column(const Integral& x);
  void load(std::uint32_t col, u64 v);
  void queue_pivot(std::uint32_t col);
  bool leads_cleanly() const;
  void eliminate(std::vector<std::uint32_t>& used);
  std::vector<std::pair<std::uint32_t, u64>> take_nonzero();
  std::vector<char> mark(const std::vector<std::vector<std::uint32_t>>& target_used) const;
  Recording compile(const std::vector<char>& keep, const std::vector<std::uint32_t>& target_cols,
                    const std::vector<std::uint32_t>& master_cols, const std::vector<std::uint8_t>& zero,
                    const std::vector<std::vector<std::uint32_t>>& target_used) const;

  const IdentitySet& ids_;
  const IdentitySet& other_;
  const LaportaOrder& order_;
  std::function<bool(SectorId)> is_zero_;
  std::unordered_set<Integral, IntegralHash> masters_;
  Elimination mode_;
  std::uint64_t floor_ = 0;  // Laporta mode: the current reduction eliminates columns from here up
  nmod_t mod_;
  int n_;

  std::vector<Integral> cols_;
  std::vector<OrderKey> col_key_;
  std::unordered_map<Integral, std::uint32_t, IntegralHash> col_of_;
  std::vector<std::int32_t> pivot_row_;  // column -> row, or -1
  std::vector<Row> rows_;
  std::vector<char> kept_;  // after finish()

  std::vector<u64> acc_;               // dense accumulator over columns
  std::vector<std::uint32_t> touched_;
  std::vector<char> is_touched_;
  std::vector<std::uint32_t> queued_;  // per row: the reduction that queued it last
  std::uint32_t generation_ = 0;
  std::priority_queue<std::pair<OrderKey, std::uint32_t>> pending_;  // (priority, row), highest first
};

// The equations sorted simplest first (by their most complex integral, Laporta order), each to be
// solved for that integral. Eliminated in creation order, every row is then reduced by rows that
// are themselves already reduced all the way down, so a row's tail holds masters only and costs
// at most one multiply-add per master for each integral it meets: on the hardest benchmark
// integral 4.1 M multiply-adds per probe against 24 M in the Laporta reducer's own order.
std::vector<Recorder::Equation> bottom_up(const Recorder& recorder, std::vector<Recorder::Equation> equations,
                                          const LaportaOrder& order);

}  // namespace sailir
