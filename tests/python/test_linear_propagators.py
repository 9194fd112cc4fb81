"""Linear (eikonal) and bilinear propagators against closed forms and Kira's own result table.

The one-loop HQET integral with J = integral of 1/((-2(k.v+w))^n1 (-k^2)^n2) is
  J = i pi^(d/2) (-2w)^(d-2 n2-n1) Gamma(n1+2 n2-d) Gamma(d/2-n2) / (Gamma(n1) Gamma(n2)),
and our integrals use D1 = k^2, D2 = 2 k.v + 2 w, so I(a1, a2) = (-1)^(a1+a2) J(n1=a2, n2=a1).
Every I(a1, a2) reduces to I(1, 1) with the ratio of these, a rational function of d and w.
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp

import sailir

HQET = str(Path(__file__).parent / "data" / "hqet1l.yaml")
d, w = sp.symbols("d w")


def hqet(a1: int, a2: int) -> sp.Expr:
    """I(a1, a2) without the common factor i pi^(d/2) (-2w)^d."""
    if a1 <= 0 or a2 <= 0:
        return sp.Integer(0)  # scaleless
    return (
        (-1) ** (a1 + a2)
        * (-2 * w) ** (-2 * a1 - a2)
        * sp.gamma(a2 + 2 * a1 - d)
        * sp.gamma(d / 2 - a1)
        / (sp.gamma(a1) * sp.gamma(a2))
    )


POWERS = [(1, 2), (2, 1), (2, 2), (3, 1), (1, 4), (3, 2), (2, -1), (0, 3), (-1, 2)]


def test_hqet_closed_form() -> None:
    r = sailir.reduce([f"I[{a1},{a2}]" for a1, a2 in POWERS], HQET, analytic=True)
    assert r.symbols == ["d", "w"] and r.masters == [[1, 1]]
    for a1, a2 in POWERS:
        row = r.reductions[f"I[{a1},{a2}]"]
        expected = sp.simplify(sp.gammasimp(hqet(a1, a2) / hqet(1, 1))) if a1 > 0 and a2 > 0 else 0
        got = sp.sympify(row.get("I[1,1]", "0").replace("^", "**"), locals={"d": d, "w": w})
        assert sp.simplify(got - expected) == 0, (a1, a2, got, expected)
