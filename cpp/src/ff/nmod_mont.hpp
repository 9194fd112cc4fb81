// Montgomery arithmetic modulo a word-size odd prime p < 2^63, for code that runs both on the CPU
// and in CUDA kernels (one probe per lane, each lane with its own prime). A value x is held as
// x * 2^64 mod p; a product then needs three 64-bit multiplications and no division, and the high
// halves are __umul64hi on the GPU, unsigned __int128 on the host. Shoup's method (nmod.hpp) needs
// a precomputed quotient per multiplier and prime, which a lane-parallel replay cannot share.
#pragma once

#include <cstdint>

#include "ff/host_device.hpp"

namespace sailir {

struct nmod_mont_t {
  std::uint64_t n = 0;     // the prime
  std::uint64_t ninv = 0;  // -n^-1 mod 2^64
  std::uint64_t r2 = 0;    // 2^128 mod n: converts into Montgomery form
};

SAILIR_HD std::uint64_t nmod_mont_mulhi(std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
#endif
}

// a * b / 2^64 mod n for a, b < n: t = a b; m = t * ninv mod 2^64 makes t + m n divisible by
// 2^64, and the low words cancel, so their carry is 1 exactly when a b's low word is nonzero.
SAILIR_HD std::uint64_t nmod_mont_mul(std::uint64_t a, std::uint64_t b, const nmod_mont_t& m) {
  const std::uint64_t lo = a * b, hi = nmod_mont_mulhi(a, b);
  const std::uint64_t q = lo * m.ninv;
  const std::uint64_t u = hi + nmod_mont_mulhi(q, m.n) + (lo != 0);  // < 2n < 2^64
  return u >= m.n ? u - m.n : u;
}
SAILIR_HD std::uint64_t nmod_mont_add(std::uint64_t a, std::uint64_t b, const nmod_mont_t& m) {
  const std::uint64_t s = a + b;
  return s >= m.n ? s - m.n : s;
}
SAILIR_HD std::uint64_t nmod_mont_neg(std::uint64_t a, const nmod_mont_t& m) { return a == 0 ? 0 : m.n - a; }
// Into and out of Montgomery form (x < n).
SAILIR_HD std::uint64_t nmod_mont_from(std::uint64_t x, const nmod_mont_t& m) { return nmod_mont_mul(x, m.r2, m); }
SAILIR_HD std::uint64_t nmod_mont_to(std::uint64_t x, const nmod_mont_t& m) { return nmod_mont_mul(x, 1, m); }
// x^e in Montgomery form; with e = n - 2 the inverse (Fermat), the same instruction stream for
// every lane, where Euclid's steps would diverge.
SAILIR_HD std::uint64_t nmod_mont_pow(std::uint64_t x, std::uint64_t e, const nmod_mont_t& m) {
  std::uint64_t r = nmod_mont_from(1, m);
  for (; e; e >>= 1) {
    if (e & 1) r = nmod_mont_mul(r, x, m);
    x = nmod_mont_mul(x, x, m);
  }
  return r;
}
SAILIR_HD std::uint64_t nmod_mont_inv(std::uint64_t x, const nmod_mont_t& m) { return nmod_mont_pow(x, m.n - 2, m); }

// The constants of an odd prime n < 2^63 (host side: the 128-bit remainder is costly on a GPU).
inline nmod_mont_t nmod_mont_init(std::uint64_t n) {
  nmod_mont_t m;
  m.n = n;
  std::uint64_t inv = n;  // correct to 3 bits (n * n = 1 mod 8); each Newton step doubles them
  for (int i = 0; i < 5; ++i) inv *= 2 - n * inv;
  m.ninv = 0 - inv;
  const std::uint64_t r1 = static_cast<std::uint64_t>((static_cast<unsigned __int128>(1) << 64) % n);
  m.r2 = static_cast<std::uint64_t>(static_cast<unsigned __int128>(r1) * r1 % n);
  return m;
}

}  // namespace sailir
