"""Lifting finite-field results back to rationals: Chinese remaindering over several primes and
rational reconstruction (Wang's algorithm). Used to check reductions against closed forms."""

from __future__ import annotations

from fractions import Fraction
from math import isqrt


def crt(residues: list[int], moduli: list[int]) -> tuple[int, int]:
    """The residue modulo the product of pairwise coprime `moduli`, and that product."""
    value, modulus = 0, 1
    for r, m in zip(residues, moduli, strict=True):
        # value + modulus * t = r (mod m)
        t = (r - value) * pow(modulus, -1, m) % m
        value, modulus = value + modulus * t, modulus * m
    return value % modulus, modulus


def rational_reconstruct(a: int, m: int) -> Fraction | None:
    """The fraction n/d with |n|, d <= sqrt(m/2) and n = a*d (mod m), or None if there is none
    (then more primes are needed)."""
    bound = isqrt(m // 2)
    r0, r1 = m, a % m
    t0, t1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        t0, t1 = t1, t0 - q * t1
    if t1 == 0 or abs(t1) > bound:
        return None
    frac = Fraction(r1, t1)
    return frac if (frac.numerator - a * frac.denominator) % m == 0 else None


def lift(residues: list[int], primes: list[int]) -> Fraction | None:
    """Rational number from its images modulo several primes."""
    value, modulus = crt(residues, primes)
    return rational_reconstruct(value, modulus)
