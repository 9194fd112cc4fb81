"""Reductions of the small built-in families against their closed forms.

Each coefficient is computed modulo two 63-bit primes, lifted to a rational number and compared
with the analytic result at several numeric points. The closed forms follow from the one-loop
G-functions: with J = integral of prod 1/(-D_i)^a_i,
  bubble(x, y) = (-p^2)^(d/2-x-y) G(x, y),
  G(x, y) = Gamma(x+y-d/2) Gamma(d/2-x) Gamma(d/2-y) / (Gamma(x) Gamma(y) Gamma(d-x-y)),
and our integrals use D = q^2 - m^2, so I(a) = (-1)^(sum a) J(a).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import sailir
from sailir.rational import lift

PRIMES = [sailir.DEFAULT_PRIME, 9223372036854775643]


def gamma_ratio(x: Fraction, k: int) -> Fraction:
    """Gamma(x + k) / Gamma(x) for integer k."""
    out = Fraction(1)
    for j in range(k):
        out *= x + j
    for j in range(1, -k + 1):
        out /= x - j
    return out


def g_ratio(x: Fraction, y: Fraction, x0: Fraction, y0: Fraction, d: Fraction) -> Fraction:
    """G(x, y) / G(x0, y0) when x - x0 and y - y0 are integers."""
    dx, dy = int(x - x0), int(y - y0)
    assert dx == x - x0 and dy == y - y0
    h = d / 2
    return (
        gamma_ratio(x0 + y0 - h, dx + dy)
        * gamma_ratio(h - x0, -dx)
        * gamma_ratio(h - y0, -dy)
        / gamma_ratio(x0, dx)
        / gamma_ratio(y0, dy)
        / gamma_ratio(d - x0 - y0, -dx - dy)
    )


def lifted(family: str, integrals: list[str], point: dict[str, Fraction]) -> tuple[list, dict]:
    """Reductions at two primes, lifted to rationals: (masters, {integral: {master: Fraction}})."""
    results = [
        sailir.reduce(integrals, family, prime=p, point={k: str(v) for k, v in point.items()}, check=False)
        for p in PRIMES
    ]
    assert results[0]["masters"] == results[1]["masters"]
    out = {}
    for name in integrals:
        coeffs = [r["reductions"][name] for r in results]
        assert coeffs[0].keys() == coeffs[1].keys(), f"different zero pattern for {name}"
        out[name] = {}
        for master in coeffs[0]:
            value = lift([c[master] for c in coeffs], PRIMES)
            assert value is not None, f"{name}: coefficient of {master} did not lift to a rational"
            out[name][master] = value
    return results[0]["masters"], out


POINTS = [
    {"d": Fraction(41), "x": Fraction(7)},
    {"d": Fraction(37, 3), "x": Fraction(-5, 11)},
    {"d": Fraction(-9, 7), "x": Fraction(3, 2)},
]


def fmt(powers: tuple[int, ...]) -> str:
    return "I[" + ",".join(map(str, powers)) + "]"


@pytest.mark.parametrize("pt", POINTS)
def test_tadpole(pt):
    d, msq = pt["d"], pt["x"]
    integrals = [fmt((a,)) for a in range(1, 7)] + [fmt((0,)), fmt((-2,))]
    masters, red = lifted("tadpole", integrals, {"d": d, "msq": msq})
    assert masters == [[1]]
    expect = Fraction(1)
    for a in range(1, 7):
        assert red[fmt((a,))] == {"I[1]": expect}
        expect *= (d - 2 * a) / (2 * a * msq)
    assert red["I[0]"] == {} and red["I[-2]"] == {}  # scaleless


@pytest.mark.parametrize("pt", POINTS)
def test_bubble(pt):
    d, s = pt["d"], pt["x"]
    powers = [(a1, a2) for a1 in range(1, 4) for a2 in range(1, 4)] + [(2, 0), (3, -1), (-1, 2)]
    masters, red = lifted("bubble", [fmt(p) for p in powers], {"d": d, "s": s})
    assert masters == [[1, 1]]
    one = Fraction(1)
    for a1, a2 in powers:
        got = red[fmt((a1, a2))]
        if a1 <= 0 or a2 <= 0:
            assert got == {}  # massless tadpoles vanish
            continue
        expect = s ** (2 - a1 - a2) * g_ratio(Fraction(a1), Fraction(a2), one, one, d)
        assert got == {"I[1,1]": expect}


@pytest.mark.parametrize("pt", POINTS[:2])
def test_prop2l(pt):
    """Two-loop massless propagators: D1..D5 = k1^2, k2^2, (k1+p)^2, (k2+p)^2, (k1-k2)^2."""
    d, s = pt["d"], pt["x"]
    h, one = d / 2, Fraction(1)
    product = [(1, 1, 1, 1, 0), (2, 1, 1, 1, 0), (1, 2, 3, 1, 0), (2, 2, 1, 2, 0)]
    nested = [
        (0, 1, 1, 0, 1),
        (0, 2, 1, 0, 1),
        (0, 1, 2, 0, 2),
        (0, 1, 1, 1, 1),
        (0, 2, 1, 1, 2),
        (0, 1, 1, -1, 1),
        (0, 1, 2, -2, 1),
    ]
    masters, red = lifted("prop2l", [fmt(p) for p in product + nested], {"d": d, "s": s})
    assert [1, 1, 1, 1, 0] in masters and [0, 1, 1, 0, 1] in masters
    for a in product:  # a bubble in k1 times a bubble in k2
        expect = (
            s ** (2 - a[0] - a[2])
            * g_ratio(Fraction(a[0]), Fraction(a[2]), one, one, d)
            * s ** (2 - a[1] - a[3])
            * g_ratio(Fraction(a[1]), Fraction(a[3]), one, one, d)
        )
        assert red[fmt(a)] == {"I[1,1,1,1,0]": expect}
    for a in nested:  # the k1 bubble (D3, D5) inserted into the k2 bubble (D2, D4)
        _, a2, a3, a4, a5 = (Fraction(x) for x in a)
        total = sum(a)
        expect = (
            s ** (3 - total) * g_ratio(a3, a5, one, one, d) * g_ratio(a2, a3 + a4 + a5 - h, one, 2 - h, d)
        )
        assert red[fmt(a)] == {"I[0,1,1,0,1]": expect}


def test_rational_reconstruction_roundtrip():
    for value in [Fraction(0), Fraction(-3, 7), Fraction(123456789, 987654321), Fraction(-(2**40), 3**20)]:
        residues = [value.numerator * pow(value.denominator, -1, p) % p for p in PRIMES]
        assert lift(residues, PRIMES) == value
