// The Laporta reducer at one prime and numeric point: zero sectors, master integrals, and the
// reduction of target integrals, sector by sector from the top down with seeds bounded by the
// r and s of the integrals each sector actually needs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "algebra/integral.hpp"
#include "algebra/order.hpp"
#include "family/family_file.hpp"
#include "family/point.hpp"
#include "identities/identity_set.hpp"
#include "laporta/sector_system.hpp"

namespace sailir {

// A target (or an integral it needs) that the seeds could not reduce to masters.
struct UnreducedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A claimed master basis in which one master reduces to the others.
struct DependentBasisError : UnreducedError {
  using UnreducedError::UnreducedError;
};

// A sector system that would not fit in LaportaOptions::memory_limit: thrown before it is
// generated (from an estimate) or during its elimination (from its size then).
struct MemoryLimitError : std::runtime_error {
  MemoryLimitError(const std::string& what, std::size_t needed, std::size_t limit)
      : std::runtime_error(what), needed(needed), limit(limit) {}
  std::size_t needed;  // bytes, an estimate
  std::size_t limit;   // bytes
};

// A safe share of this machine: 75% of MemAvailable (/proc/meminfo), else of the physical
// memory; 0 (no limit) when neither is known.
std::size_t default_memory_limit();

struct LaportaOptions {
  int r_extra = 0;  // seed bounds beyond the largest r and s that a sector needs
  int s_extra = 0;
  int max_widenings = 2;  // automatic retries of a sector with r and s one larger
  std::size_t memory_limit = 0;  // bytes a sector system may hold; 0: no limit
  std::string memory_limit_note;  // said after the limit in the error (where it came from)
  std::function<void(const std::string&)> progress;  // may be empty
};

struct LaportaStats {
  std::size_t seeds = 0, equations = 0, unknowns = 0, pivots = 0, stored_terms = 0;
  std::size_t sectors_solved = 0, widenings = 0, integrals_reduced = 0;
};

class LaportaReducer {
 public:
  // `preferred` masters rank lowest in their sector; empty for automatic master finding.
  LaportaReducer(const FamilyDef& family, const NumericPoint& point, u64 prime, std::vector<Integral> preferred);

  u64 prime() const { return mod_.n; }
  int propagators() const { return family_.n; }
  bool is_zero_sector(SectorId s);
  std::vector<SectorId> nonzero_sectors();

  // Masters of every nonzero sector, ascending in the Laporta order. Throws std::invalid_argument
  // when a preferred master is reducible or lies in a zero sector. A reduction that fails may
  // find them again with deeper seeds (see reduce()): read them after reduce().
  const std::vector<Integral>& masters();
  // Preferred integrals the basis did not need, and masters added beyond the preferred ones.
  const std::vector<std::string>& basis_notes() { masters(); return basis_notes_; }
  // Checks masters() by another route: one elimination of every nonzero sector's master-finding
  // equations together, pivoting on any integral. A master that leads a row there reduces to
  // lower masters. Throws DependentBasisError naming it.
  void check_basis();

  // Finds the masters afresh up to two numerator powers, as a failed reduce() does by itself: for
  // a caller that fixes the basis before reducing (sector symmetries).
  void deepen_masters() { restart_with_deeper_masters(); }

  // Coefficients of each target over masters() (index into it). Throws UnreducedError.
  std::vector<std::vector<std::pair<int, u64>>> reduce(const std::vector<Integral>& targets, const LaportaOptions& opt);

  // Each target's coefficients over the masters of its own sector, the subsector integrals of its
  // reduction dropped: one system per sector and nothing handed down, so it stays as cheap as
  // master finding where reduce() descends through every subsector. Enough to tell which of a
  // sector's masters relations among them eliminate. Throws UnreducedError.
  std::vector<std::vector<std::pair<int, u64>>> reduce_modulo_subsectors(const std::vector<Integral>& targets,
                                                                         const LaportaOptions& opt);

  const LaportaStats& stats() const { return stats_; }

  // Traces every system solved from now on (master finding included, so call it before
  // masters()): where each row came from and which rows reduced it. For recordings.
  void record_rows();
  // The equations that the reductions of `targets` (reduced already) depend on, through their
  // rules, the rows those used, and the relations handed down: in solve order. Mark and sweep.
  std::vector<RowOrigin> needed_rows(const std::vector<Integral>& targets) const;

 private:
  void find_masters();
  std::pair<int, int> master_bounds(SectorId s) const;
  SectorSystem::ZeroTest zero_test() {
    return [this](SectorId x) { return is_zero_sector(x); };
  }
  const std::vector<std::pair<int, u64>>& compose(const Integral& x);
  std::uint32_t keep_trace(SectorSystem& sys, SectorId s);
  std::vector<std::vector<std::pair<int, u64>>> reduce_once(const std::vector<Integral>& targets, const LaportaOptions& opt);
  // Adds the rules the targets need; `added` gets the integrals given rules.
  void make_rules(const std::vector<Integral>& targets, const LaportaOptions& opt, std::vector<Integral>& added);
  bool own_sector_row(SectorSystem& sys, const Integral& x, std::vector<std::pair<int, u64>>& row);
  const std::vector<Relation>& incoming_to(SectorId s) const;
  // The estimated peak bytes of sector s's system with these seed bounds and incoming relations.
  double estimate_bytes(SectorId s, int rmax, int smax, std::size_t incoming);
  // Throws MemoryLimitError when that estimate exceeds opt.memory_limit; else arms `with` to
  // check the real size during the elimination.
  void guard_memory(SectorId s, int rmax, int smax, std::size_t incoming, const LaportaOptions& opt,
                    SolveOptions& with);
  void restart_with_deeper_masters();

  const FamilyDef& family_;
  nmod_t mod_;
  std::vector<Integral> preferred_;
  std::unique_ptr<IdentitySet> ids_;
  LaportaOrder order_;
  SectorId line_mask_ = 0;  // propagators that can carry dots (not irreducible)
  std::unordered_map<SectorId, bool> zero_;
  bool masters_done_ = false;
  int master_s_ = 1;  // masters are chosen up to this many numerator powers (2 after a failed reduction)
  std::vector<Integral> masters_;
  std::unordered_map<Integral, int, IntegralHash> master_index_;
  std::map<SectorId, std::vector<Integral>> sector_masters_;
  // The relations master finding handed down to each sector from its supersectors; reductions
  // add them too, so that they meet the same basis.
  std::map<SectorId, std::vector<Relation>> relations_in_;
  std::vector<std::string> basis_notes_;
  std::unordered_map<Integral, std::vector<Term>, IntegralHash> rules_;
  std::unordered_map<Integral, std::vector<std::pair<int, u64>>, IntegralHash> composed_;
  LaportaStats stats_;
  // Recordings (record_rows): every traced system in solve order with its sector, where each
  // handed-down relation came from (parallel to relations_in_), and the rows each rule used.
  struct RowRef {
    std::uint32_t system, row;
  };
  bool trace_ = false;
  std::vector<SystemTrace> traces_;
  std::vector<SectorId> trace_sector_;
  std::map<SectorId, std::vector<RowRef>> relation_src_;
  std::unordered_map<Integral, std::pair<std::uint32_t, std::vector<std::uint32_t>>, IntegralHash> rule_src_;
};

}  // namespace sailir
