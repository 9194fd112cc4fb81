"""IBP/LI templates: shape for the triangle-box, hand-derived one-loop cases, and a pointwise check.

The pointwise check is independent of the derivation: a template evaluated at a seed equals, as a
function of explicit 4-component momenta, the derivative of the integrand it comes from
(divergence for IBP with d = 4, Lorentz generator on the externals for LI).
"""

from __future__ import annotations

import random

import pytest
import sympy

from sailir.errors import FamilyError
from sailir.family import Family, family_algebra, load_family
from sailir.identities import DIMENSION, Template, coefficient_symbols, derive_identities, seed_symbols

COMPONENTS = 4


@pytest.fixture(scope="module")
def trianglebox() -> tuple[Family, list[Template]]:
    family = load_family("trianglebox")
    return family, derive_identities(family)


def test_trianglebox_template_shape(trianglebox: tuple[Family, list[Template]]) -> None:
    family, templates = trianglebox
    assert [t.kind for t in templates] == ["IBP"] * 8 + ["LI"]
    assert [t.labels for t in templates] == [
        ("k1", "k1"), ("k1", "k2"), ("k1", "p1"), ("k1", "p2"),
        ("k2", "k1"), ("k2", "k2"), ("k2", "p1"), ("k2", "p2"),
        ("p1", "p3"),
    ]  # fmt: skip
    assert sum(len(t.terms) for t in templates) == 109
    seeds = seed_symbols(7)
    m1 = sympy.Symbol("m1")
    for template in templates:
        shifts = [shift for shift, _ in template.terms]
        assert shifts == sorted(set(shifts))
        for shift, coefficient in template.terms:
            assert len(shift) == 7 and set(shift) <= {-1, 0, 1}
            assert coefficient != 0 and m1 not in coefficient.free_symbols
            assert sympy.Poly(coefficient, *seeds).total_degree() <= 1  # affine in the a_i
            assert coefficient.free_symbols <= set(coefficient_symbols(family))


def test_tadpole_by_hand() -> None:
    (template,) = derive_identities(load_family("tadpole"))
    a1, d, msq = sympy.symbols("a1 d msq")
    assert template.kind == "IBP" and template.labels == ("k", "k")
    assert template.terms == [((0,), d - 2 * a1), ((1,), -2 * a1 * msq)]


def test_bubble_by_hand() -> None:
    ibp_k, ibp_p = derive_identities(load_family("bubble"))
    a1, a2, d, s = sympy.symbols("a1 a2 d s")
    # d/dk.k: (d - 2a1 - a2) I - a2 I(a1-1, a2+1) + a2 s I(a2+1)
    assert ibp_k.terms == [((-1, 1), -a2), ((0, 0), d - 2 * a1 - a2), ((0, 1), a2 * s)]
    # d/dk.p: -a1 (2 k.p)/D1 - a2 (2 p.(k+p))/D2 with 2 k.p = D2 - D1 - s, 2 p.(k+p) = D2 - D1 + s
    assert dict(ibp_p.terms) == {
        (1, -1): -a1, (1, 0): a1 * s, (0, 0): a1 - a2, (-1, 1): a2, (0, 1): -a2 * s,
    }  # fmt: skip


def _dot(u: list, w: list) -> sympy.Expr:
    return sum((x * y for x, y in zip(u, w, strict=True)), sympy.Integer(0))


def _pointwise_check(
    family: Family,
    templates: list[Template],
    externals: dict[str, list[int]],
    invariants: dict[str, sympy.Rational],
    seeds: list[tuple[int, ...]],
) -> None:
    """Evaluate each template against the derivative of the integrand at random momenta."""
    rng = random.Random(7)
    algebra = family_algebra(family)
    names = [str(s) for s in algebra.loops + algebra.externals]
    comps = {n: [sympy.Symbol(f"{n}_{mu}") for mu in range(COMPONENTS)] for n in names}
    values = {n: [sympy.Integer(rng.randint(-9, 9)) for _ in range(COMPONENTS)] for n in algebra.loops}
    values = {str(k): v for k, v in values.items()} | {
        e: [sympy.sympify(c) for c in externals[e]] for e in family.independent_externals
    }
    numeric = {s: v for n in names for s, v in zip(comps[n], values[n], strict=True)}
    inv = {sympy.Symbol(k): v for k, v in invariants.items()}
    # The invariants must describe the chosen external vectors.
    for i, a in enumerate(family.independent_externals):
        for j, b in enumerate(family.independent_externals):
            assert algebra.gram[i, j].subs(inv) == _dot(values[a], values[b])
    props = []
    for form, mass in zip(algebra.forms, algebra.masses, strict=True):
        quadratic = sum(
            (form[a, b] * _dot(comps[x], comps[y]) for a, x in enumerate(names) for b, y in enumerate(names)),
            sympy.Integer(0),
        )
        props.append(quadratic - mass.subs(inv))
    prop_values = [p.subs(numeric) for p in props]
    assert all(v != 0 for v in prop_values)
    vectors = {n: comps[n] for n in names} | {e: [sympy.sympify(c) for c in externals[e]] for e in externals}
    for seed in seeds:
        integrand = sympy.Mul(*[p ** (-a) for p, a in zip(props, seed, strict=True)])
        at_seed = dict(zip(seed_symbols(len(seed)), seed, strict=True)) | {DIMENSION: COMPONENTS} | inv
        grad = {n: [sympy.diff(integrand, c).subs(numeric) for c in comps[n]] for n in names}
        value = integrand.subs(numeric)
        for template in templates:
            lhs = sum(
                (
                    c.subs(at_seed)
                    * sympy.Mul(*[v ** (-(a + s)) for v, a, s in zip(prop_values, seed, shift, strict=True)])
                    for shift, c in template.terms
                ),
                sympy.Integer(0),
            )
            if template.kind == "IBP":
                loop, vector = template.labels
                v = [x.subs(numeric) for x in vectors[vector]]
                rhs = _dot(v, grad[loop]) + (COMPONENTS * value if vector == loop else 0)
            else:
                pi, pj = ([x for x in vectors[n]] for n in template.labels)
                rhs = sympy.Integer(0)
                for m in family.independent_externals:
                    pm = vectors[m]
                    rhs += _dot(pj, pm) * _dot(pi, grad[m]) - _dot(pi, pm) * _dot(pj, grad[m])
            assert sympy.nsimplify(lhs - rhs) == 0, (template.kind, template.labels, seed)


def test_trianglebox_templates_pointwise(trianglebox: tuple[Family, list[Template]]) -> None:
    family, templates = trianglebox
    p1, p3 = [1, 0, 0, 0], [3, -2, 5, 1]  # p1^2 = m1 = 1 (symbol_to_replace_by_one)
    p2 = [b - a for a, b in zip(p1, p3, strict=True)]
    m3 = sum(x * x for x in p3)
    m2 = sum(x * x for x in p2)
    externals = {"p1": p1, "p2": p2, "p3": p3}
    invariants = {"m1": sympy.Integer(1), "m2": sympy.Integer(m2), "m3": sympy.Integer(m3)}
    _pointwise_check(
        family, templates, externals, invariants, [(1, 2, 1, 1, 1, 1, -1), (2, 0, 1, -1, 1, 2, -2)]
    )


def test_prop2l_templates_pointwise() -> None:
    family = load_family("prop2l")
    p = [2, 1, -3, 1]
    _pointwise_check(
        family,
        derive_identities(family),
        {"p": p},
        {"s": sympy.Integer(sum(x * x for x in p))},
        [(1, 1, 2, 1, 1), (2, 1, 1, -1, 1)],
    )


def test_linear_propagators_pointwise(tmp_path) -> None:
    """Eikonal (linear) and bilinear propagators as Kira writes them: the derivation treats them as
    the scalar products they are (a two-loop family with velocities u1, u2 and a mass)."""
    spec = tmp_path / "eikonal.yaml"
    spec.write_text(
        """name: eikonal
loop_momenta: [k1, k2]
propagators:
  - [k1, 0]
  - [k2, msq]
  - [k1-k2+q, 0]
  - ["2*k1*u1", 0]
  - ["-2*k2*u2+2*k1*u2", w]
  - [k1*k2, 0]
  - [k1*q, 0]
  - {bilinear: [[2*k2, u2], 0]}
  - [k2*u1, 0]
kinematics:
  incoming_momenta: [q, u1, u2]
  kinematic_invariants: [[msq, 2], [w, 1], [y, 0], [qq, 2]]
  scalarproduct_rules:
    - [[u1,u1], 1]
    - [[u2,u2], 1]
    - [[u1,u2], y]
    - [[q,q], qq]
    - [[q,u1], 0]
    - [[q,u2], 0]
""",
        encoding="utf-8",
    )
    family = load_family(str(spec))
    algebra = family_algebra(family)
    assert algebra.squared == (True, True, True, False, False, False, False, False, False)
    half = sympy.Rational(1, 2)
    u1, u2, q = [1, 0, 0, 0], [6 * half / 5, 8 * half / 5, 0, 0], [0, 0, 2, -1]
    assert _dot(u1, u1) == 1 and _dot(u2, u2) == 1 and _dot(q, u1) == 0 and _dot(q, u2) == 0
    invariants = {
        "msq": sympy.Integer(5),
        "w": sympy.Rational(7, 3),
        "y": sympy.Rational(3, 5),
        "qq": sympy.Integer(5),
    }
    _pointwise_check(
        family,
        derive_identities(family),
        {"q": q, "u1": u1, "u2": u2},
        invariants,
        [(1, 2, 1, 1, 1, -1, 0, -1, 0), (2, 1, 1, 2, 1, 0, -1, 0, -2)],
    )


@pytest.mark.parametrize(
    "propagator",
    ["[k1*k1*k2, 0]", "[k1+1, 0]", "[k1*k2+k1, 0]"],
)
def test_propagator_neither_quadratic_nor_linear(tmp_path, propagator: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        f"name: bad\nloop_momenta: [k1, k2]\npropagators: [[k1, 0], [k2, 0], {propagator}]\n",
        encoding="utf-8",
    )
    with pytest.raises(FamilyError, match="neither a momentum"):
        load_family(str(spec))
