// Arithmetic modulo a word-size prime p < 2^63 (FLINT-style names: nmod_*, n_*).
// Values are canonical residues in [0, p). Products go through unsigned __int128; the hot
// elimination loop uses Shoup's precomputed quotient so that a multiply-subtract costs two
// 64-bit multiplications and no division.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sailir {

using u64 = std::uint64_t;
using u128 = unsigned __int128;

// The fixed 63-bit default prime: the largest prime below 2^63.
inline constexpr u64 kDefaultPrime = 9223372036854775783ULL;      // 2^63 - 25
// Second and third primes, used to re-check a reduction (accidental zeros, rank drops).
inline constexpr u64 kCheckPrimes[] = {9223372036854775643ULL, 9223372036854775549ULL,
                                       9223372036854775507ULL, 9223372036854775433ULL};

struct nmod_t {
  u64 n = kDefaultPrime;
};

inline u64 nmod_add(u64 a, u64 b, nmod_t m) {
  u64 s = a + b;  // no overflow: a, b < 2^63
  return s >= m.n ? s - m.n : s;
}
inline u64 nmod_sub(u64 a, u64 b, nmod_t m) { return a >= b ? a - b : a + m.n - b; }
inline u64 nmod_neg(u64 a, nmod_t m) { return a == 0 ? 0 : m.n - a; }
inline u64 nmod_mul(u64 a, u64 b, nmod_t m) {
  return static_cast<u64>(static_cast<u128>(a) * b % m.n);
}

u64 nmod_pow(u64 a, u64 e, nmod_t m);
// Inverse of a != 0 modulo the prime; throws std::domain_error on 0.
u64 nmod_inv(u64 a, nmod_t m);

// Shoup: for fixed w, w_pre = floor(w * 2^64 / p); then w*x mod p needs no division.
inline u64 nmod_mul_precomp(u64 w, nmod_t m) {
  return static_cast<u64>((static_cast<u128>(w) << 64) / m.n);
}
inline u64 nmod_mul_shoup(u64 w, u64 w_pre, u64 x, nmod_t m) {
  u64 q = static_cast<u64>((static_cast<u128>(w_pre) * x) >> 64);
  u64 r = w * x - q * m.n;  // exact modulo 2^64, lies in [0, 2p)
  return r >= m.n ? r - m.n : r;
}

// Maps a signed integer into the field.
inline u64 nmod_set_si(std::int64_t v, nmod_t m) {
  if (v >= 0) return static_cast<u64>(v) % m.n;
  u64 r = static_cast<u64>(-(v + 1)) % m.n;  // avoids overflow at INT64_MIN
  return nmod_sub(m.n - 1, r, m);
}
// Maps a decimal rational "[-]digits[/digits]" of any size into the field; throws
// std::invalid_argument on malformed text and std::domain_error when the denominator is 0 mod p.
u64 nmod_set_str(std::string_view text, nmod_t m);

// Deterministic Miller-Rabin for all 64-bit n.
bool n_is_prime(u64 n);

// Parses a modulus given on a command line: decimal, prime, 2^16 <= p < 2^63.
// Throws std::invalid_argument with a one-line message otherwise.
u64 n_parse_prime(std::string_view text);
// p itself when 2^16 <= p < 2^63 is prime; otherwise std::invalid_argument naming the problem.
u64 n_check_prime(u64 p);

}  // namespace sailir
