// Big-integer steps of the reconstruction (GMP): Chinese remaindering of residues modulo
// word-size primes and rational reconstruction of a residue modulo their product.
#pragma once

#include "reconstruct/reconstruct.hpp"

namespace sailir::recon {

// One CRT step for many residues modulo the same m: x := the residue modulo m*p that is x mod m
// and r mod p. Prepare once per (m, p), then call update() per residue; m itself is not changed.
class CrtStep {
 public:
  CrtStep(const Integer& m, u64 p);
  void update(Integer& x, u64 r) const;

 private:
  const Integer& m_;
  nmod_t mod_;
  u64 m_inv_;  // (m mod p)^-1
};

// Wang's rational reconstruction: a/b with a = b*x (mod m), |a| and 0 < b at most sqrt(m/2),
// gcd(a, b) = 1. Returns false when no such fraction exists.
bool rational_reconstruct(Integer& a, Integer& b, const Integer& x, const Integer& m);

// a/b modulo p; false when p divides b.
bool rational_mod(const Integer& a, const Integer& b, nmod_t mod, u64& out);

}  // namespace sailir::recon
