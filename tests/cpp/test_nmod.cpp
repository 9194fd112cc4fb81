// Finite-field arithmetic against 128-bit reference computations.
#include <random>

#include "check.hpp"
#include "ff/nmod.hpp"

using namespace sailir;

int main() {
  std::mt19937_64 rng(42);
  for (u64 p : {kDefaultPrime, kCheckPrimes[0], u64{65537}, u64{2305843009213693951ULL}}) {
    nmod_t m{p};
    CHECK(n_is_prime(p));
    for (int i = 0; i < 2000; ++i) {
      u64 a = rng() % p, b = rng() % p;
      CHECK(nmod_add(a, b, m) == static_cast<u64>((static_cast<u128>(a) + b) % p));
      CHECK(nmod_sub(a, b, m) == static_cast<u64>((static_cast<u128>(a) + p - b) % p));
      CHECK(nmod_mul_shoup(a, nmod_mul_precomp(a, m), b, m) == nmod_mul(a, b, m));
      if (a) CHECK(nmod_mul(a, nmod_inv(a, m), m) == 1);
    }
    CHECK(nmod_set_si(-1, m) == p - 1);
    CHECK(nmod_set_str("-1/2", m) == nmod_neg(nmod_inv(2, m), m));
    // A 40-digit numerator reduces the same as its value computed by Horner in 128 bits.
    CHECK(nmod_set_str("1234567890123456789012345678901234567890", m) ==
          nmod_add(nmod_mul(nmod_set_str("12345678901234567890", m), nmod_pow(10, 20, m), m),
                   nmod_set_str("12345678901234567890", m), m));
    CHECK_THROWS(nmod_inv(0, m));
    CHECK_THROWS(nmod_set_str("3/0", m));
    CHECK_THROWS(nmod_set_str("12a", m));
  }
  // Primality: Carmichael numbers, squares of primes and large semiprimes are rejected.
  CHECK(!n_is_prime(561));
  CHECK(!n_is_prime(3215031751ULL));
  CHECK(!n_is_prime(4294967291ULL * 4294967279ULL));
  CHECK(!n_is_prime(kDefaultPrime - 2));
  CHECK(n_is_prime(4294967291ULL));
  CHECK(n_parse_prime("9223372036854775783") == kDefaultPrime);
  CHECK_THROWS(n_parse_prime("9223372036854775781"));  // composite
  CHECK_THROWS(n_parse_prime("9223372036854775837"));  // prime but >= 2^63
  CHECK_THROWS(n_parse_prime("101"));                  // too small
  CHECK_THROWS(n_parse_prime("12x"));
  TEST_MAIN_END();
}
