"""Zero (scaleless) sectors by the Lee–Pomeransky criterion, independent of any IBP reduction.

With `sum_k x_k D_k = sum_ij A_ij l_i.l_j + 2 sum_i B_i.l_i + C`, the Symanzik polynomials are
`U = det A` and `F = U (C - B^T A^-1 B)` (the overall sign of F does not matter here), and
`G = U + F`. A sector (the propagators with positive power; irreducible numerators never are)
is zero iff constants k_i exist with `sum_i k_i x_i dG/dx_i = G` for G restricted to the
sector's x_i. Since `x_i d/dx_i` multiplies a monomial x^e by e_i, that is: the linear system
`k . e = 1` over the exponent vectors e of G's monomials is solvable.
"""

from __future__ import annotations

import functools

import sympy

from sailir.family import Family, family_algebra


@functools.lru_cache(maxsize=16)  # the zero-sector test and the symmetry search both need them
def symanzik_polynomials(family: Family) -> tuple[sympy.Expr, sympy.Expr, tuple[sympy.Symbol, ...]]:
    """(U, F, (x1..xn)) with generic invariants (symbol_to_replace_by_one is kept symbolic)."""
    algebra = family_algebra(family)
    n_loops = len(algebra.loops)
    xs = tuple(sympy.Symbol(f"x{k}") for k in range(1, len(algebra.forms) + 1))
    a = sympy.zeros(n_loops, n_loops)
    for x, form in zip(xs, algebra.forms, strict=True):
        a += x * form[:n_loops, :n_loops]
    # B_i as vectors over the independent externals; their products use the Gram matrix.
    b = []
    for i in range(n_loops):
        components = [sympy.Integer(0)] * len(algebra.externals)
        for x, form in zip(xs, algebra.forms, strict=True):
            for e in range(len(algebra.externals)):
                components[e] += x * form[i, n_loops + e]
        b.append(sympy.Matrix(components))
    c = sympy.Integer(0)
    for x, constant in zip(xs, algebra.constants, strict=True):
        c += x * constant
    u = sympy.expand(a.det())
    adjugate = a.adjugate() if n_loops > 1 else sympy.Matrix([[1]])
    bab = sympy.Integer(0)
    for i in range(n_loops):
        for j in range(n_loops):
            if b[i].rows:
                bab += adjugate[i, j] * (b[i].T * algebra.gram * b[j])[0, 0]
    f = sympy.expand(c * u - bab)
    return u, f, xs


P = (1 << 61) - 1  # ranks of small integer matrices are computed modulo this prime


def modular_rank(rows: list[list[int]]) -> int:
    """The rank of an integer matrix modulo P (forward elimination on a copy). Its entries are
    small, so no minor of theirs is a multiple of P and this is the rank over Q."""
    rows = [[v % P for v in r] for r in rows]
    rank = 0
    for col in range(len(rows[0]) if rows else 0):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        inverse = pow(rows[rank][col], -1, P)
        for r in range(rank + 1, len(rows)):
            if rows[r][col]:
                factor = rows[r][col] * inverse % P
                rows[r] = [(v - factor * w) % P for v, w in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def _solvable(exponents: list[tuple[int, ...]]) -> bool:
    """Whether k . e = 1 has a solution for every e: rank [E | 1] equals rank E (over the
    distinct exponent vectors)."""
    distinct = [list(e) for e in set(exponents)]
    return modular_rank([e + [1] for e in distinct]) == modular_rank(distinct)


def zero_sectors(family: Family) -> set[int]:
    """Ids (sum of 2^(i-1) over the sector's propagators) of all zero sectors."""
    u, f, xs = symanzik_polynomials(family)
    monomials = [tuple(int(e) for e in m) for m in sympy.Poly(u + f, *xs).monoms()] if u + f != 0 else []
    reducible = [i for i in range(len(xs)) if i + 1 not in family.irreducible]
    zero = set()
    for mask in range(1 << len(reducible)):
        members = [reducible[b] for b in range(len(reducible)) if mask >> b & 1]
        outside = [i for i in range(len(xs)) if i not in members]
        kept = [tuple(m[i] for i in members) for m in monomials if all(m[i] == 0 for i in outside)]
        if _solvable(kept):
            zero.add(sum(1 << i for i in members))
    return zero
