// The reconstruction's only way to the black box: batched evaluation with the probe budget,
// timing, row checks and the count of bad points in a row.
#pragma once

#include <algorithm>
#include <random>

#include "reconstruct/reconstruct.hpp"

namespace sailir::recon {

// Thrown when a batch would exceed the probe budget (the driver turns it into NotConvergedError
// with a summary of how far it got).
struct BudgetExhausted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown after kMaxBadInARow bad points in a row: the black box fails (almost) everywhere at
// this prime, e.g. a structural zero pivot modulo it. The driver moves on to the next prime.
struct BadPrime : std::runtime_error {
  using std::runtime_error::runtime_error;
};
inline constexpr int kMaxBadInARow = 50;

using Points = std::vector<std::vector<u64>>;

class Prober {
 public:
  Prober(const Blackbox& box, const ReconstructOptions& opt, ReconstructStats& stats)
      : box_(box), opt_(opt), stats_(stats) {}

  int variables() const { return box_.variables; }
  int functions() const { return box_.functions; }
  std::size_t batch_points() const { return std::max<std::size_t>(box_.batch_points, 1); }
  std::size_t probes_left() const { return opt_.max_probes - std::min(opt_.max_probes, stats_.probes); }
  // Throws BudgetExhausted unless n more probes fit the budget.
  void reserve(std::size_t n) const;

  // Starts counting bad points in a row afresh (at a new prime).
  void new_prime() { bad_in_a_row_ = 0; }
  // values[i]: the F values at points[i] modulo p, or empty for a bad point.
  void evaluate(u64 p, const Points& points, Points& values);

  // Like evaluate, but replaces each bad point by redraw(i) until every point has values.
  template <class Redraw>
  void evaluate_all(u64 p, Points& points, Points& values, Redraw&& redraw) {
    evaluate(p, points, values);
    for (;;) {
      std::vector<std::size_t> bad;
      for (std::size_t i = 0; i < points.size(); ++i)
        if (values[i].empty()) bad.push_back(i);
      if (bad.empty()) return;
      Points again, got;
      for (std::size_t i : bad) again.push_back(points[i] = redraw(i));
      evaluate(p, again, got);
      for (std::size_t k = 0; k < bad.size(); ++k) values[bad[k]] = std::move(got[k]);
    }
  }

 private:
  const Blackbox& box_;
  const ReconstructOptions& opt_;
  ReconstructStats& stats_;
  int bad_in_a_row_ = 0;
};

// A uniformly random residue modulo p (the bias of rng() % p is below 2^-63 * p).
inline u64 random_residue(std::mt19937_64& rng, u64 p) { return rng() % p; }
std::vector<u64> random_point(std::mt19937_64& rng, int variables, u64 p);

}  // namespace sailir::recon
