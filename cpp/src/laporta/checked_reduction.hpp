// A reduction that is not trusted at one prime: it is repeated at a second prime and the two
// must agree on the master basis and on which coefficients vanish. A disagreement (an accidental
// zero or a rank drop at one prime) is settled by a third prime and reported, never ignored.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "family/family_file.hpp"
#include "family/point.hpp"
#include "laporta/laporta.hpp"

namespace sailir {

struct ReductionRequest {
  NumericPoint point;
  u64 prime = kDefaultPrime;
  std::vector<Integral> preferred;
  std::vector<Integral> targets;
  LaportaOptions options;
  bool check = true;
  int threads = 1;  // 2 or more: the check prime runs concurrently with the first prime
};

struct ReductionResult {
  u64 prime = 0;
  NumericPoint point;
  std::vector<Integral> masters;
  std::vector<Integral> targets;
  std::vector<std::vector<std::pair<int, u64>>> coefficients;  // per target, over masters
  std::vector<std::string> warnings;
  u64 check_prime = 0;  // 0 when not checked
  LaportaStats stats;
  double seconds = 0;
  // Other methods: their own figures, written instead of the Laporta stats, and whether the
  // result was compared with the Laporta reducer (empty: not compared).
  std::vector<std::pair<std::string, double>> method_stats;
  std::optional<bool> verified;
  double peak_rss_mb = 0;  // the process's own peak resident memory, when the caller measured it (0: not)
};

// Laporta at request.prime, repeated at a check prime unless request.check is false.
ReductionResult reduce_checked(const FamilyDef& family, const ReductionRequest& request);

// Throws std::invalid_argument when the identities degenerate at `point` (e.g. d = 4).
void require_generic_point(const FamilyDef& family, const NumericPoint& point);
// A 63-bit check prime other than the two given.
u64 next_check_prime(u64 avoid1, u64 avoid2);
// One line per coefficient that is nonzero in b but zero in a (same targets and masters): the
// accidental zeros of a.
std::vector<std::string> zeros_missing(const ReductionResult& a, const ReductionResult& b, int n);

}  // namespace sailir
