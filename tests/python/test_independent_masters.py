"""Masters must be independent when IBP identities relate integrals across sectors.

On the equal-mass one-loop box the identities of sector [1,1,0,0] leave I[2,0,0,0] = I[0,2,0,0]
once its own integrals cancel. A reducer that pivots only on a sector's own integrals drops that
equation and keeps all four tadpoles as "masters" (11 in all). Here the relation is handed down,
so the tadpoles are one master, and every tadpole integral reduces onto it by the tadpole's
closed form: I(a+1) = (d - 2a) / (2 a m2) I(a)."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import sailir
from sailir.rational import lift

REDUCE = str(Path(sys.executable).parent / "sailir-reduce")
BOX = str(Path(__file__).parent / "data" / "box1l_equal_mass.yaml")
PRIMES = [sailir.DEFAULT_PRIME, 9223372036854775643]
POINTS = [
    {"d": Fraction(41), "m2": Fraction(7), "s12": Fraction(31), "s23": Fraction(47)},
    {"d": Fraction(37, 3), "m2": Fraction(-5, 11), "s12": Fraction(3, 2), "s23": Fraction(19, 5)},
]


def point_text(pt: dict[str, Fraction]) -> dict[str, str]:
    return {k: str(v) for k, v in pt.items()}


def test_box_has_eight_independent_masters():
    info = sailir.sectors(BOX, symmetries=False)
    assert len(info["masters"]) == 8
    assert info["basis_checked"]
    tadpoles = [m for m in info["masters"] if sum(a > 0 for a in m) == 1]
    assert tadpoles == [[1, 0, 0, 0]]
    # Reversing the box (legs permuted, s12 and s23 kept) pairs the triangles: 6 with symmetries.
    assert len(sailir.sectors(BOX)["masters"]) == 6


@pytest.mark.parametrize("pt", POINTS)
def test_tadpoles_reduce_to_one_master_by_their_closed_form(pt):
    d, m2 = pt["d"], pt["m2"]
    integrals = []
    for line in range(4):
        for a in (1, 2, 3):
            powers = [0, 0, 0, 0]
            powers[line] = a
            integrals.append("I[" + ",".join(map(str, powers)) + "]")
    results = [sailir.reduce(integrals, BOX, prime=p, point=point_text(pt), check=False) for p in PRIMES]
    for name in integrals:
        coeffs = [r["reductions"][name] for r in results]
        assert list(coeffs[0]) == ["I[1,0,0,0]"] == list(coeffs[1]), name
        a = max(int(x) for x in name[2:-1].split(","))
        expect = Fraction(1)
        for b in range(1, a):
            expect *= (d - 2 * b) / (2 * b * m2)
        assert lift([c["I[1,0,0,0]"] for c in coeffs], PRIMES) == expect, name


def test_dependent_preferred_basis_is_refused(tmp_path):
    masters = tmp_path / "masters.txt"
    masters.write_text("I[1,0,0,0]\nI[0,1,0,0]\n")
    proc = subprocess.run(
        [REDUCE, "--family", BOX, "--masters", str(masters), "I[0,2,0,0]"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "preferred master I[0,1,0,0] is not independent" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_reduction_uses_the_checked_basis():
    """Reductions end on the same 8 masters as the summary, and both primes agree."""
    info = sailir.sectors(BOX)
    out = sailir.reduce(["I[2,1,1,1]", "I[0,2,1,0]"], BOX)
    assert out["masters"] == info["masters"]
    assert out["warnings"] == []
    names = {sailir_name(m) for m in info["masters"]}
    assert all(master in names for r in out["reductions"].values() for master in r)


def sailir_name(powers: list[int]) -> str:
    return "I[" + ",".join(map(str, powers)) + "]"
