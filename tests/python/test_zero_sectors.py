"""The Lee–Pomeransky zero-sector criterion on the built-in families."""

from __future__ import annotations

import sympy

from sailir.family import load_family
from sailir.zero_sectors import symanzik_polynomials, zero_sectors

TRIANGLEBOX_NONZERO = {
    14, 15, 21, 23, 27, 28, 29, 30, 31, 37, 39, 43, 45, 46, 47, 53, 55, 57, 59, 60, 61, 62, 63,
}  # fmt: skip


def _nonzero(name: str) -> set[int]:
    family = load_family(name)
    reducible = len(family.propagators) - len(family.irreducible)
    return set(range(1 << reducible)) - zero_sectors(family)


def test_trianglebox() -> None:
    nonzero = _nonzero("trianglebox")
    assert nonzero == TRIANGLEBOX_NONZERO
    assert 64 - len(nonzero) == 41


def test_tadpole() -> None:
    assert _nonzero("tadpole") == {1}


def test_bubble() -> None:
    u, f, (x1, x2) = symanzik_polynomials(load_family("bubble"))
    assert u == x1 + x2 and f == sympy.Symbol("s") * x1 * x2
    assert _nonzero("bubble") == {3}


def test_prop2l() -> None:
    # 15: a product of two one-loop bubbles (D1..D4); 22 = {D2, D3, D5} and 25 = {D1, D4, D5}: the
    # two sunrise routings; 23, 27, 29, 30, 31: the sectors above them. Every other sector has a
    # loop momentum in a single propagator or is a massless vacuum graph, hence scaleless.
    assert _nonzero("prop2l") == {15, 22, 23, 25, 27, 29, 30, 31}
