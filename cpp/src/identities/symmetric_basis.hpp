// Masters related by the family's sector symmetries, eliminated after a reduction (learn once,
// apply at every probe). A reduction onto masters M is made as usual, with the images of the
// masters under the relabellings ("extras") reduced beside the targets. Each relabelling gives
// a relation among M: a master of a mapped sector equals its image in the unique sector, and a
// sector's self-map relates its own masters. Eliminating them leaves masters in unique sectors
// only, as Kira's and LiteRed's bases have them; the targets' rows are rewritten onto those.
#pragma once

#include <vector>

#include "family/family_file.hpp"
#include "identities/symmetry_images.hpp"

namespace sailir {

class SymmetricBasis {
 public:
  // `masters`: the basis the reduction ends on (in its order).
  SymmetricBasis(const FamilyDef& family, std::vector<Integral> masters);

  bool empty() const { return relations_.empty(); }
  // The integrals the relations need beyond the masters, at a generic point (symbol values
  // modulo `mod`): reduce them beside the targets, after them, in this order.
  std::vector<Integral> extras(const std::vector<u64>& symbol_values, nmod_t mod) const;
  // The extras the rows of apply() hold, after the targets (before the first apply).
  void set_extras(std::vector<Integral> extras) { extras_ = std::move(extras); }
  const std::vector<Integral>& extra_integrals() const { return extras_; }

  // Rewrites `rows` (targets then extras, each dense over the masters, row-major) into the
  // targets' rows over kept() (`targets` of them). plan() runs once, at a generic point, and
  // fixes which masters the relations eliminate; apply() follows it at other primes and points
  // and returns false where a pivot vanishes or a relation changes shape (a degenerate probe).
  bool plan(const std::vector<u64>& symbol_values, nmod_t mod, std::size_t targets, const std::vector<u64>& rows,
            std::vector<u64>& out);
  bool apply(const std::vector<u64>& symbol_values, nmod_t mod, std::size_t targets, const std::vector<u64>& rows,
             std::vector<u64>& out) const;
  bool planned() const { return planned_; }
  // For a count only: the extras' rows hold their own sector's masters alone (a reduction modulo
  // subsectors), so each relation keeps only its parts in sectors with as many lines as its
  // master's. It may then keep a master that a full relation would eliminate through its
  // subsector part alone: an upper bound, equal where no relation vanishes in its own sectors.
  void set_modulo_subsectors() { modulo_subsectors_ = true; }
  // After plan(): the masters left, and those the relations eliminated.
  const std::vector<Integral>& kept() const { return kept_; }
  const std::vector<Integral>& eliminated() const { return eliminated_; }

 private:
  struct Relation {
    int master;  // index into masters_
    int map;     // index into FamilyDef::symmetries
  };
  std::vector<u64> relation_row(const SymmetryImages& images, const Relation& r, const std::vector<u64>& rows,
                                std::size_t targets, nmod_t mod) const;
  // `choose`: planning, the pivots chosen are appended there; else pivots_ is followed.
  bool eliminate(std::vector<std::vector<u64>>& relations, nmod_t mod, std::vector<std::vector<u64>>& solved,
                 std::vector<int>* choose) const;
  bool rewrite(const std::vector<u64>& symbol_values, nmod_t mod, std::size_t targets, const std::vector<u64>& rows,
               std::vector<u64>& out, std::vector<int>* choose, std::vector<std::vector<u64>>& solved) const;

  const FamilyDef& family_;
  std::vector<Integral> masters_;
  std::vector<Relation> relations_;  // in elimination order
  std::vector<Integral> extras_;     // filled by extras()
  bool planned_ = false;
  bool modulo_subsectors_ = false;
  std::vector<int> pivots_;  // per relation: the master it eliminates, -1 when it is trivial
  std::vector<Integral> kept_;
  std::vector<Integral> eliminated_;
};

}  // namespace sailir
