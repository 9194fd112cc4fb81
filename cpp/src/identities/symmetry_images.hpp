// The family's sector symmetries (FamilyDef::symmetries) compiled at one prime and point: the
// image of an integral under a loop-momentum relabelling, as integrals of the target sector and
// its subsectors. A relabelling leaves the integral unchanged, so `x - image(x) = 0` is an
// identity like IBP's, and it is exact at every point (docs/symmetries.md).
#pragma once

#include <vector>

#include "family/family_file.hpp"
#include "identities/identity_set.hpp"

namespace sailir {

class SymmetryImages {
 public:
  SymmetryImages(const FamilyDef& family, const std::vector<u64>& symbol_values, nmod_t mod);

  int size() const { return static_cast<int>(maps_.size()); }
  SectorId source(int m) const { return maps_[m].source; }
  SectorId target(int m) const { return maps_[m].target; }
  // Appends the image of x (an integral of sector source(m)) under map m, like terms summed.
  void image(int m, const Integral& x, std::vector<Term>& out) const;

 private:
  struct Map {
    SectorId source, target;
    std::vector<int> lines;                // per propagator of the source sector: its image propagator
    std::vector<std::vector<u64>> coefs;   // per propagator j: coefficients over the propagators
    std::vector<u64> constant;             // per propagator j
  };
  int n_;
  nmod_t mod_;
  std::vector<Map> maps_;
};

}  // namespace sailir
