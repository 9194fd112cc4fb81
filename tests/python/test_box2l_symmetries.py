"""The massive double box (tools/benchmark/analytic/box2l.yaml) with sector symmetries.

Its top sector has masters with two numerator powers, beyond the s <= 1 that masters are first
chosen with. A reduction planned on symmetries fixes the basis before it starts, so it must find
those deeper masters itself (it used to fail with "not reduced to masters"). The result is checked
at a second prime, as every Laporta reduction is, and has fewer masters than without symmetries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

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


@pytest.mark.slow  # a reduction of one to three minutes (opt-in: -m slow)
def test_replay_records_again_where_fixed_values_kill_a_pivot(tmp_path: Path) -> None:
    """Recordings are made at random points. At s12=5, s23=7 a pivot of this recording vanishes
    for every d, though the reduction there is fine: the replay records again there from the
    recording's own equations, numerically and exact in d, and both equal a direct reduction."""

    targets = TARGETS[::2]
    rec = tmp_path / "box2l.rec"
    direct = sailir.reduce(targets, str(BOX2L), point="d=3/7,s12=5,s23=7", record=True)
    direct.save_recording(rec)
    numeric = sailir.replay(rec, str(BOX2L), point="d=3/7,s12=5,s23=7")
    assert numeric.reductions == direct.reductions
    reduce_cli = Path(sys.executable).parent / "sailir-reduce"
    args = [
        "--family",
        str(BOX2L),
        "--replay",
        str(rec),
        "--analytic",
        "--point",
        "s12=5,s23=7",
        "--progress",
    ]
    proc = subprocess.run([str(reduce_cli), *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "a pivot of the recording vanishes at s12=5,s23=7" in proc.stderr
    exact = json.loads(proc.stdout)
    p, d = direct.prime, sp.Rational(3, 7)
    for t in targets:
        row = exact["reductions"][t]
        assert set(row) == set(direct.reductions[t]), t
        for m, text in row.items():
            v = sp.Rational(sp.sympify(text.replace("^", "**")).subs(sp.Symbol("d"), d))
            assert int(v.p) * pow(int(v.q), -1, p) % p == direct.reductions[t][m], (t, m)
