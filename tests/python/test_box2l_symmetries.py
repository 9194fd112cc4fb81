"""The massive double box (tools/benchmark/analytic/box2l.yaml) with sector symmetries.

Its top sector has masters with two numerator powers, beyond the s <= 1 that masters are first
chosen with. A reduction planned on symmetries fixes the basis before it starts, so it must find
those deeper masters itself (it used to fail with "not reduced to masters"). The result is checked
at a second prime, as every Laporta reduction is, and has fewer masters than without symmetries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sailir

BOX2L = Path(__file__).resolve().parents[2] / "tools" / "benchmark" / "analytic" / "box2l.yaml"
TARGETS = ["I[3,1,1,1,1,1,1,-2,0]", "I[1,1,1,1,1,1,1,-1,-1]", "I[2,1,1,1,1,1,1,0,-1]"]


@pytest.mark.slow  # three reductions of about a minute each (opt-in: -m slow)
def test_box2l_with_symmetries_finds_deeper_masters() -> None:
    point = "d=41,s12=31,s23=47"
    sym = sailir.reduce(TARGETS, str(BOX2L), point=point)
    plain = sailir.reduce(TARGETS, str(BOX2L), point=point, symmetries=False)
    assert sym["check_prime"] and plain["check_prime"]  # both checked at a second prime
    assert any("two numerator powers" in w for w in sym.warnings)
    assert len(sym.masters) < len(plain.masters)
    assert all(sym.reductions[t] for t in TARGETS)
    # Leg permutations (s12 and s23 kept) join the loop relabellings: the plain reduction, each
    # mapped master replaced by its own symmetric reduction, is the symmetric one.
    names = ["I[" + ",".join(map(str, m)) + "]" for m in plain.masters]
    gone = [n for n in names if [int(x) for x in n[2:-1].split(",")] not in sym.masters]
    images = sailir.reduce(gone, str(BOX2L), point=point)
    assert images.masters == sym.masters
    p = sym.prime
    for t in TARGETS:
        combined: dict[str, int] = {}
        for master, c in plain.reductions[t].items():
            for m, v in (images.reductions[master] if master in gone else {master: 1}).items():
                combined[m] = (combined.get(m, 0) + c * v) % p
        assert sym.reductions[t] == {k: v for k, v in combined.items() if v}, t
