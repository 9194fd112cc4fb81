#include "laporta/checked_reduction.hpp"

#include <chrono>
#include <map>
#include <future>
#include <stdexcept>

namespace sailir {

namespace {

// `check_basis`: also check by one system over all sectors that no master reduces to the others
// (the run at the check prime does it, beside the first prime's run).
ReductionResult run_at(const FamilyDef& family, const ReductionRequest& req, u64 prime, bool check_basis) {
  auto t0 = std::chrono::steady_clock::now();
  LaportaReducer reducer(family, req.point, prime, req.preferred);
  ReductionResult r;
  r.prime = prime;
  r.point = req.point;
  r.targets = req.targets;
  r.coefficients = reducer.reduce(req.targets, req.options);
  r.masters = reducer.masters();  // a failed first attempt may have found them again, deeper
  if (check_basis) reducer.check_basis();
  r.warnings = reducer.basis_notes();
  r.stats = reducer.stats();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

bool same_basis(const ReductionResult& a, const ReductionResult& b) { return a.masters == b.masters; }

// Nonzero sectors and the number of masters in each, found automatically.
std::map<SectorId, std::size_t> structure(const FamilyDef& family, const NumericPoint& point, u64 prime) {
  LaportaReducer r(family, point, prime, {});
  std::map<SectorId, std::size_t> out;
  for (SectorId s : r.nonzero_sectors()) out[s] = 0;
  for (const Integral& m : r.masters()) ++out[sector_of(m, family.n)];
  return out;
}

std::size_t count_masters(const std::map<SectorId, std::size_t>& s) {
  std::size_t n = 0;
  for (auto& [sec, k] : s) n += k;
  return n;
}

}  // namespace

std::vector<std::string> zeros_missing(const ReductionResult& a, const ReductionResult& b, int n) {
  std::vector<std::string> out;
  for (std::size_t t = 0; t < a.targets.size(); ++t) {
    for (auto [k, v] : b.coefficients[t]) {
      bool found = false;
      for (auto [k2, v2] : a.coefficients[t]) found |= k2 == k;
      if (!found)
        out.push_back("coefficient of " + format_integral(b.masters[k], n) + " in " + format_integral(a.targets[t], n) +
                      " vanishes modulo " + std::to_string(a.prime) + " but not modulo " + std::to_string(b.prime) +
                      " (accidental zero)");
    }
  }
  return out;
}

u64 next_check_prime(u64 avoid1, u64 avoid2) {
  for (u64 p : kCheckPrimes)
    if (p != avoid1 && p != avoid2) return p;
  throw std::logic_error("no check prime left");
}

// At special values (d = 4, a vanishing invariant) identity coefficients vanish and the system
// changes: its reductions are then not the generic ones evaluated there. Compared at a 63-bit
// check prime, so that an unlucky user prime is not mistaken for a degenerate point.
void require_generic_point(const FamilyDef& family, const NumericPoint& point) {
  const u64 p = kCheckPrimes[1];
  auto here = structure(family, point, p), generic = structure(family, generic_point(family), p);
  if (here != generic)
    throw std::invalid_argument("point " + format_point(point) + " is degenerate: the identities give " +
                                std::to_string(here.size()) + " nonzero sectors and " +
                                std::to_string(count_masters(here)) + " masters there, " +
                                std::to_string(generic.size()) + " and " + std::to_string(count_masters(generic)) +
                                " at a generic point; choose another point or write such kinematics into the family");
}

ReductionResult reduce_checked(const FamilyDef& family, const ReductionRequest& req) {
  const int n = family.n;
  require_generic_point(family, req.point);
  if (!req.check) return run_at(family, req, req.prime, false);
  const u64 p2 = next_check_prime(req.prime, 0);
  ReductionRequest quiet = req;  // progress lines come from the first prime only
  quiet.options.progress = nullptr;
  std::future<ReductionResult> pending =
      std::async(req.threads >= 2 ? std::launch::async : std::launch::deferred, run_at, std::cref(family),
                 std::cref(quiet), p2, true);
  ReductionResult first = run_at(family, req, req.prime, false);
  ReductionResult second = pending.get();
  auto finish = [&](ReductionResult& r, const ReductionResult& other) {
    r.check_prime = other.prime;
    auto acc = zeros_missing(r, other, n);
    r.warnings.insert(r.warnings.end(), acc.begin(), acc.end());
    r.seconds += other.seconds;
    return std::move(r);
  };
  if (same_basis(first, second) && zeros_missing(second, first, n).empty()) return finish(first, second);
  // The primes disagree: a rank drop, or accidental zeros at the check prime. A third prime decides.
  ReductionResult third = run_at(family, quiet, next_check_prime(req.prime, p2), false);
  if (same_basis(first, third)) {
    if (!same_basis(first, second))
      first.warnings.push_back("check prime " + std::to_string(p2) + " was unlucky (rank drop); confirmed at " +
                               std::to_string(third.prime));
    return finish(first, third);
  }
  if (same_basis(second, third)) {
    second.warnings.push_back("prime " + std::to_string(req.prime) +
                              " is unlucky for this reduction (rank drop: " + std::to_string(first.masters.size()) +
                              " instead of " + std::to_string(second.masters.size()) +
                              " masters); the result is given modulo " + std::to_string(p2));
    return finish(second, third);
  }
  throw UnreducedError("reductions at three primes disagree on the master basis; try another numeric point");
}

}  // namespace sailir
