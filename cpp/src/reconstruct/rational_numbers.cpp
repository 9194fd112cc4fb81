// Chinese remaindering and rational reconstruction with GMP.
#include "reconstruct/rational_numbers.hpp"

namespace sailir::recon {

CrtStep::CrtStep(const Integer& m, u64 p) : m_(m), mod_{p}, m_inv_(nmod_inv(mpz_fdiv_ui(m.get(), p), mod_)) {}

void CrtStep::update(Integer& x, u64 r) const {
  // x + m * ((r - x) / m mod p) keeps x mod m and becomes r mod p; it stays in [0, m*p).
  const u64 xp = mpz_fdiv_ui(x.get(), mod_.n);
  const u64 delta = nmod_mul(nmod_sub(r % mod_.n, xp, mod_), m_inv_, mod_);
  mpz_addmul_ui(x.get(), m_.get(), delta);
}

bool rational_reconstruct(Integer& a, Integer& b, const Integer& x, const Integer& m) {
  Integer bound, r0(m), r1, t0(0), t1(1), q, tmp;
  mpz_fdiv_q_2exp(bound.get(), m.get(), 1);
  mpz_sqrt(bound.get(), bound.get());
  mpz_mod(r1.get(), x.get(), m.get());
  // Extended Euclid on (m, x), stopped at the first remainder within the bound: r_i = t_i x mod m.
  while (mpz_cmp(r1.get(), bound.get()) > 0) {
    mpz_fdiv_qr(q.get(), tmp.get(), r0.get(), r1.get());
    mpz_swap(r0.get(), r1.get());
    mpz_swap(r1.get(), tmp.get());
    mpz_submul(t0.get(), q.get(), t1.get());
    mpz_swap(t0.get(), t1.get());
  }
  if (mpz_cmpabs(t1.get(), bound.get()) > 0 || t1.sign() == 0) return false;
  mpz_gcd(tmp.get(), r1.get(), t1.get());
  if (mpz_cmp_ui(tmp.get(), 1) != 0) return false;
  mpz_set(a.get(), r1.get());
  mpz_set(b.get(), t1.get());
  if (b.sign() < 0) {
    mpz_neg(a.get(), a.get());
    mpz_neg(b.get(), b.get());
  }
  return true;
}

bool rational_mod(const Integer& a, const Integer& b, nmod_t mod, u64& out) {
  const u64 bp = mpz_fdiv_ui(b.get(), mod.n);
  if (bp == 0) return false;
  out = nmod_mul(mpz_fdiv_ui(a.get(), mod.n), nmod_inv(bp, mod), mod);
  return true;
}

}  // namespace sailir::recon
