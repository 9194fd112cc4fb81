// A reduction that is not trusted at one prime: it is repeated at a second prime and the two
// must agree on the master basis and on which coefficients vanish. A disagreement (an accidental
// zero or a rank drop at one prime) is settled by a third prime and reported, never ignored.
#pragma once

#include <string>
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
};

ReductionResult reduce_checked(const FamilyDef& family, const ReductionRequest& request);

}  // namespace sailir
