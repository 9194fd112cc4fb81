// Batched black-box evaluation with budget, timing and sanity checks.
#include "reconstruct/probe.hpp"

#include <chrono>

namespace sailir::recon {

void Prober::reserve(std::size_t n) const {
  if (n > probes_left())
    throw BudgetExhausted("the next step needs " + std::to_string(n) + " probes but only " +
                          std::to_string(probes_left()) + " of the budget of " + std::to_string(opt_.max_probes) +
                          " are left");
}

void Prober::evaluate(u64 p, const Points& points, Points& values) {
  reserve(points.size());
  values.assign(points.size(), {});
  const auto t0 = std::chrono::steady_clock::now();
  box_.evaluate(p, points, values);
  stats_.probe_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats_.probes += points.size();
  if (values.size() != points.size())
    throw std::runtime_error("black box returned " + std::to_string(values.size()) + " rows for " +
                             std::to_string(points.size()) + " points");
  const auto f = static_cast<std::size_t>(box_.functions);
  for (auto& row : values) {
    if (row.empty()) {
      if (++bad_in_a_row_ >= kMaxBadInARow)
        throw BadPrime("the black box failed at " + std::to_string(kMaxBadInARow) + " random points in a row");
      continue;
    }
    bad_in_a_row_ = 0;
    if (row.size() != f)
      throw std::runtime_error("black box returned " + std::to_string(row.size()) + " values for a point, expected " +
                               std::to_string(f));
    for (u64& v : row) v %= p;
  }
}

std::vector<u64> random_point(std::mt19937_64& rng, int variables, u64 p) {
  std::vector<u64> x(static_cast<std::size_t>(variables));
  for (u64& v : x) v = random_residue(rng, p);
  return x;
}

}  // namespace sailir::recon
