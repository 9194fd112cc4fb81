// Seeds of a sector bounded by r and s, as in Kira: every integral of the sector with
// t <= r <= rmax dots-and-lines and 0 <= s <= smax numerator powers on the other propagators.
#pragma once

#include <vector>

#include "algebra/integral.hpp"

namespace sailir {

std::vector<Integral> sector_seeds(SectorId sector, int n, int rmax, int smax);

// How many seeds sector_seeds() returns, counted in closed form (no enumeration): for bounds in
// the hundreds the count exceeds any integer type, hence a double.
double sector_seed_count(SectorId sector, int n, int rmax, int smax);

}  // namespace sailir
