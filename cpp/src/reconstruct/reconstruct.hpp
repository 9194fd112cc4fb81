// Rational-function reconstruction: recovers exact rational functions over Q (in a few variables,
// integer coefficients) from a black box that evaluates them modulo 63-bit primes.
//
// Per prime the functions are interpolated along lines through a random shift (Thiele continued
// fractions find the degrees, then Cauchy interpolation on each line and dense Newton
// interpolation of the line coefficients), and the normalized coefficients of all primes are
// combined by Chinese remaindering and rational reconstruction (GMP). The result is accepted once
// one more prime leaves it unchanged and it agrees with the black box modulo a fresh prime.
#pragma once

#include <gmp.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ff/nmod.hpp"

namespace sailir {

// F functions of V variables, evaluated modulo `prime` at a batch of points (each point has V
// field values). values[i] gets the F values at points[i], or stays EMPTY when the point is bad
// for the black box (a zero pivot there); reconstruction then uses another random point (bad
// points count as probes). After 50 bad points in a row the prime is given up for the next one,
// and when that happens at 2 primes in a row reconstruction throws NotConvergedError.
// `evaluate` may evaluate the points of one call in parallel; calls never overlap, and values
// need not be reduced. Batches hold up to a few thousand points (many lines at once).
struct Blackbox {
  int variables = 0;  // V >= 0 (0: constants)
  int functions = 0;  // F >= 1
  std::function<void(u64 prime, const std::vector<std::vector<u64>>& points,
                     std::vector<std::vector<u64>>& values)>
      evaluate;
  // Points per call the box works best with once the degrees are known (a GPU: two launches'
  // worth); interpolation asks for whole lines up to about this many.
  std::size_t batch_points = 2048;
};

struct ReconstructOptions {
  std::size_t max_probes = 1000000;  // total points evaluated over all primes (budget)
  int max_primes = 12;
  std::uint64_t seed = 1;  // random points are reproducible
  std::function<void(const std::string&)> progress;  // may be empty: one line per stage/prime
};

struct ReconstructStats {
  std::size_t probes = 0;    // points passed to `evaluate`, bad ones included
  int primes = 0;            // primes used, the final check prime included
  double probe_seconds = 0;  // time inside `evaluate`
  double seconds = 0;        // whole reconstruction
};

struct NotConvergedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An integer of any size: a small RAII owner of a GMP mpz_t.
class Integer {
 public:
  Integer() { mpz_init(v_); }
  explicit Integer(long v) { mpz_init_set_si(v_, v); }
  // Decimal digits with an optional '-'; throws std::invalid_argument otherwise.
  explicit Integer(std::string_view decimal);
  Integer(const Integer& o) { mpz_init_set(v_, o.v_); }
  Integer(Integer&& o) noexcept {
    mpz_init(v_);
    mpz_swap(v_, o.v_);
  }
  Integer& operator=(const Integer& o) {
    if (this != &o) mpz_set(v_, o.v_);
    return *this;
  }
  Integer& operator=(Integer&& o) noexcept {
    mpz_swap(v_, o.v_);
    return *this;
  }
  ~Integer() { mpz_clear(v_); }

  mpz_ptr get() { return v_; }
  mpz_srcptr get() const { return v_; }
  int sign() const { return mpz_sgn(v_); }
  std::string str() const;  // decimal
  friend bool operator==(const Integer& a, const Integer& b) { return mpz_cmp(a.v_, b.v_) == 0; }

 private:
  mpz_t v_;
};

// A polynomial in `variables` variables with integer coefficients, as terms in the canonical
// order: descending total degree, then descending exponent vectors (lexicographic, first
// variable most significant). No zero coefficients; the zero polynomial has no terms.
struct Polynomial {
  int variables = 0;
  std::vector<int> exponents;         // term i: exponents[i*variables .. (i+1)*variables)
  std::vector<Integer> coefficients;  // one per term, nonzero

  std::size_t size() const { return coefficients.size(); }
  bool is_zero() const { return coefficients.empty(); }
  std::span<const int> exponent(std::size_t i) const {
    return {exponents.data() + i * static_cast<std::size_t>(variables),
            static_cast<std::size_t>(variables)};
  }
  int degree() const;  // total degree; -1 for 0
  friend bool operator==(const Polynomial&, const Polynomial&) = default;
};

// A rational function over Q: numerator / denominator, polynomials in the same variables with
// integer coefficients, coprime, gcd of all coefficients 1, the denominator's leading term (first
// in canonical order) positive; 0 is 0/1. reconstruct() returns this form.
struct RationalFunction {
  Polynomial numerator, denominator;
  int variables() const { return numerator.variables; }
  friend bool operator==(const RationalFunction&, const RationalFunction&) = default;
};

// Builds a polynomial from terms in any order: sorts them canonically, adds like terms and drops
// zero ones. Throws std::invalid_argument on an exponent vector of the wrong length or negative.
Polynomial make_polynomial(int variables, std::vector<std::pair<std::vector<int>, Integer>> terms);

// Brings num/den to the form above, assuming they are coprime polynomials: divides out the
// integer content and fixes the sign. Throws std::domain_error when the denominator is 0.
RationalFunction make_rational_function(Polynomial numerator, Polynomial denominator);

// Reconstructs every function exactly. Throws NotConvergedError (message names the budget and how
// far it got) when the budget or max_primes is exhausted before the result is confirmed, and
// std::invalid_argument on a malformed black box (or std::runtime_error when it returns rows of
// the wrong length). Exceptions from `evaluate` pass through. The work between black-box calls
// (per-function interpolation) runs on all cores.
std::vector<RationalFunction> reconstruct(const Blackbox& box, const ReconstructOptions& opt,
                                          ReconstructStats& stats);

// "(2*d-7)/(d^2-8*d+16)": integers, names, + - * / ^ and parentheses, no spaces; readable by
// Mathematica, FORM and sympy (after ^ -> **). Terms in canonical order; the numerator is
// parenthesized when it has several terms, the denominator unless it is an integer or a single
// power: "0", "3/4", "d-4", "-d/2", "(d-4)/(2*d)", "1/d^2". Throws std::invalid_argument when
// there are fewer names than variables.
std::string format_rational_function(const RationalFunction& f, const std::vector<std::string>& names);

// Evaluates f modulo p at a point (for checks); throws std::domain_error if the denominator
// vanishes there and std::invalid_argument when the point has the wrong size.
u64 evaluate_mod(const RationalFunction& f, const std::vector<u64>& point, nmod_t mod);

}  // namespace sailir
