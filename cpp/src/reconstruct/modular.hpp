// Reconstruction of the functions modulo one prime.
//
// With a random shift s, g(t) = f(s + t z), z_lead = 1, is a univariate rational function whose
// numerator and denominator, normalized to g's denominator being 1 at t = 0, have as coefficient
// of t^k the polynomial N_k(z)/D(s) (D_k(z)/D(s)), where N_k is the degree-k homogeneous part of
// N(x + s) with x_lead set to 1. So each line (one z) gives, by Cauchy interpolation in t, one
// value of every N_k and D_k; dense Newton interpolation over a grid of z values recovers them,
// homogenizing again gives N(x + s) and D(x + s), and a Taylor shift gives N and D (up to the
// common factor 1/D(s), removed later by normalization).
//
// The grid needed is bounded by the degrees, found first by Thiele interpolation along random
// lines: the total degree (the t-degree), the degree in each variable, and the joint degree in all
// variables but one, so the z-support of N_k is {a : a_i <= deg_i N, |a| <= min(k, joint)}.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <span>

#include "reconstruct/multivariate.hpp"
#include "reconstruct/probe.hpp"

namespace sailir::recon {

// Degrees of one function's numerator and denominator (generic values: a line can only lower them).
struct Degrees {
  bool known = false;
  int num = 0, den = 0;                 // total degrees (0 for the zero numerator)
  std::vector<int> num_var, den_var;    // in each variable
  std::vector<int> num_rest, den_rest;  // [l]: joint degree in all variables but l
};

struct PrimeContext {
  nmod_t mod;
  std::mt19937_64& rng;
  Prober& prober;
  std::function<void(const std::string&)> report = {};  // one progress line about this prime, may be empty
};

// Finds degrees[id] for each id in `which` by Thiele interpolation along random lines.
void discover_degrees(PrimeContext& ctx, std::span<const int> which, std::vector<Degrees>& degrees);

// d := the componentwise maximum of d and `other` (when `other` was ever found).
void raise_degrees(Degrees& d, const Degrees& other);

// The lines of one prime: grid multi-indices a (one per variable but the lead) and the number of
// t-values on each, enough for every function whose z-support contains a.
struct LinePlan {
  int lead = 0;
  std::vector<int> others;                 // the variables of the grid dimensions
  std::vector<int> grid_size;              // nodes per grid dimension
  std::vector<std::vector<int>> lines;     // grid multi-indices
  std::vector<int> line_nodes;             // t-values per line
  std::vector<std::ptrdiff_t> line_of;     // dense grid index -> line number, or -1
  std::vector<std::size_t> grid_stride;
  std::size_t probes() const;
  std::size_t grid_index(std::span<const int> a) const;
};

// z-supports of one function's numerator and denominator line coefficients under a lead.
LowerSet num_support(const Degrees& d, const LinePlan& plan);
LowerSet den_support(const Degrees& d, const LinePlan& plan);

// Picks the lead variable that needs the fewest probes and lays out its lines.
LinePlan plan_lines(int variables, std::span<const int> active, const std::vector<Degrees>& degrees);

// One function modulo one prime: numerator and denominator up to a common nonzero factor, or
// ok = false when a line failed or the result disagrees with the black box at check points.
struct ModularFunction {
  bool ok = false;
  SparsePoly num, den;
};

struct ModularSummary {
  std::size_t lines = 0, probes = 0;
  int lead = 0;
};

// Reconstructs the functions in `active` (ids; their degrees known) modulo ctx's prime; out[j]
// belongs to active[j].
ModularSummary reconstruct_modular(PrimeContext& ctx, std::span<const int> active, const std::vector<Degrees>& degrees,
                                   std::vector<ModularFunction>& out);

}  // namespace sailir::recon
