"""IBP and LI identity templates of a family, derived symbolically with sympy.

A template is a list of terms (shift, coefficient): at a seed `a` it states
`sum_t c_t(a, d, invariants) * I(a + shift_t) = 0`, where `I(a) = int 1 / prod_k D_k^a_k`.
Multiplying the integrand by `D_j` lowers `a_j` (shift -1), dividing by `D_k` raises `a_k` (+1).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from sailir.family import Algebra, Family, external_coordinates, family_algebra

# Bump when the derivation changes: it enters the family hash, so caches are rebuilt.
IDENTITIES_VERSION = 1

DIMENSION = sympy.Symbol("d")


@dataclass
class Template:
    kind: str  # "IBP" or "LI"
    labels: tuple[str, str]  # IBP: (loop momentum, vector); LI: (p_i, p_j)
    terms: list[tuple[tuple[int, ...], sympy.Expr]]


def seed_symbols(n: int) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(f"a{k}") for k in range(1, n + 1))


def coefficient_symbols(family: Family) -> tuple[sympy.Symbol, ...]:
    """The variables of template coefficients, in file order: a1..an, d, invariants."""
    return seed_symbols(len(family.propagators)) + (DIMENSION,) + family_algebra(family).invariants


def ibp_vectors(family: Family) -> list[tuple[str, tuple[sympy.Rational, ...]]]:
    """The IBP vectors with their coefficients over (loop momenta..., independent externals...).

    The loop momenta, then a basis of the externals taken in declaration order (incoming first),
    as Kira does when `momentum_conservation: [p3, p1+p2]` eliminates p3. For the triangle-box this
    gives k1, k2, p1, p2 and the 109 terms of DESIGN §2; p1, p3 span the same identities (v = p2 is
    v = p3 minus v = p1 at the same seed) but collect into 105 terms.
    """
    algebra = family_algebra(family)
    n_loops, n_ext = len(algebra.loops), len(algebra.externals)
    vectors = [
        (str(loop), tuple(sympy.Integer(int(k == i)) for k in range(n_loops + n_ext)))
        for i, loop in enumerate(algebra.loops)
    ]
    chosen: list[list[sympy.Rational]] = []
    for name, coordinates in external_coordinates(family).items():
        row = list(coordinates)
        if sympy.Matrix(chosen + [row]).rank() > len(chosen):
            chosen.append(row)
            vectors.append((name, (sympy.Integer(0),) * n_loops + tuple(row)))
    return vectors


def derive_identities(family: Family) -> list[Template]:
    """All IBP templates (loop momentum x vector), then the LI templates (pairs of externals)."""
    algebra = family_algebra(family)
    one = {sympy.Symbol(family.symbol_to_replace_by_one): 1} if family.symbol_to_replace_by_one else {}
    templates = []
    vectors = ibp_vectors(family)
    for i, loop in enumerate(algebra.loops):
        for label, vector in vectors:
            terms = _ibp(algebra, i, vector)
            templates.append(Template("IBP", (str(loop), label), _collect(terms, one)))
    externals = algebra.externals
    for i in range(len(externals)):
        for j in range(i + 1, len(externals)):
            terms = _li(algebra, i, j)
            templates.append(Template("LI", (str(externals[i]), str(externals[j])), _collect(terms, one)))
    return templates


Terms = list[tuple[tuple[int, ...], sympy.Expr]]


def _unit(size: int, index: int) -> tuple[int, ...]:
    return tuple(1 if k == index else 0 for k in range(size))


def _divided_by(algebra: Algebra, k: int, factor: sympy.Expr, vector: tuple, other: tuple) -> Terms:
    """Terms of -a_k * factor * (vector . other) / D_k, with the product written in propagators."""
    n = len(algebra.forms)
    a_k = sympy.Symbol(f"a{k + 1}")
    constant, on_props = algebra.dot(vector, other)
    raise_k = _unit(n, k)
    terms: Terms = [(raise_k, -a_k * factor * constant)]
    for j, c in enumerate(on_props):
        if c != 0:
            shift = tuple(r - (1 if m == j else 0) for m, r in enumerate(raise_k))
            terms.append((shift, -a_k * factor * c))
    return terms


def _ibp(algebra: Algebra, i: int, vector: tuple) -> Terms:
    """d/dl_i . (v / prod D^a): d (dv/dl_i) I(a) - sum_k a_k (v . dD_k/dl_i) / D_k."""
    n = len(algebra.forms)
    terms: Terms = [((0,) * n, DIMENSION * vector[i])]
    for k in range(n):
        gradient = algebra.gradient(k, i)  # dD_k/dl_i
        if any(gradient):
            terms += _divided_by(algebra, k, sympy.Integer(1), vector, gradient)
    return terms


def _li(algebra: Algebra, i: int, j: int) -> Terms:
    """sum_m [(p_j.p_m) p_i.d/dp_m - (p_i.p_m) p_j.d/dp_m] acting on prod D^-a."""
    n_loops = len(algebra.loops)
    size = n_loops + len(algebra.externals)
    p_i, p_j = _unit(size, n_loops + i), _unit(size, n_loops + j)
    terms: Terms = []
    for k in range(len(algebra.forms)):
        for m in range(len(algebra.externals)):
            gradient = algebra.gradient(k, n_loops + m)  # dD_k/dp_m
            if not any(gradient):
                continue
            terms += _divided_by(algebra, k, algebra.gram[j, m], p_i, gradient)
            terms += _divided_by(algebra, k, -algebra.gram[i, m], p_j, gradient)
    return terms


def _collect(terms: Terms, one: dict[sympy.Symbol, int]) -> Terms:
    """Sum like shifts, set symbol_to_replace_by_one to 1, drop zeros, sort by shift."""
    total: dict[tuple[int, ...], sympy.Expr] = {}
    for shift, coefficient in terms:
        total[shift] = total.get(shift, sympy.Integer(0)) + coefficient
    result = []
    for shift in sorted(total):
        coefficient = sympy.expand(total[shift].subs(one))
        if coefficient != 0:
            result.append((shift, coefficient))
    return result
