"""Sector symmetries: loop-momentum relabellings that map one sector's propagators onto another's.

A relabelling `l -> A l + B p` (|det A| = 1, so the measure is unchanged; externals fixed) maps
sector S onto S' when every propagator of S becomes a propagator of S' with the same mass, as
Kira and LiteRed find them. Sectors are visited by increasing id and each is mapped onto the
first unique sector it matches, so the representative of a class is its lowest id. The image of
every propagator D_j (numerators included) is then a combination of the family's propagators,
`D_j(l') = sum_m M_jm D_m(l) + c_j`, which rewrites any integral of S through integrals of S' and
its subsectors.

The relabelling is solved from L propagators of S whose loop momenta are independent (L = number
of loops), matched with signs against L quadratic propagators of S', then checked on the rest,
linear (eikonal) propagators included: they transform as the forms they are.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import sympy

from sailir.family import Algebra, Family, family_algebra
from sailir.zero_sectors import P as _P  # candidates are tested modulo it, matches confirmed exactly
from sailir.zero_sectors import modular_rank as _rank
from sailir.zero_sectors import symanzik_polynomials


@dataclass(frozen=True)
class Mapping:
    """Sector `source` onto sector `target` by `transform` (l -> A l + B p on the momentum vector)."""

    source: int
    target: int
    permutation: tuple[tuple[int, int], ...]  # (k, pi(k)), 0-based, for the propagators of source
    transform: sympy.Matrix

    def images(self, family: Family) -> list[tuple[tuple[sympy.Rational, ...], sympy.Expr]]:
        """For every propagator D_j: (M_j, c_j) with D_j(transformed) = sum_m M_jm D_m + c_j."""
        algebra = family_algebra(family)
        return [algebra.express(self.transform.T * form * self.transform, mass)
                for form, mass in zip(algebra.forms, algebra.masses, strict=True)]  # fmt: skip


@dataclass(frozen=True)
class Symmetries:
    unique: tuple[int, ...]  # nonzero sectors that no lower sector's class contains
    mappings: tuple[Mapping, ...]  # one per mapped nonzero sector
    automorphisms: dict[int, tuple[Mapping, ...]]  # unique sector -> its non-trivial self-maps


def _members(sector: int, n: int) -> list[int]:
    return [k for k in range(n) if sector >> k & 1]


Matrix = list[list[int]]


def _mod(v: sympy.Rational | Fraction) -> int:
    return int(v.numerator) * pow(int(v.denominator), -1, _P) % _P


def _modular(m: sympy.Matrix) -> Matrix:
    return [[_mod(sympy.Rational(v)) for v in m.row(i)] for i in range(m.rows)]


def _congruent(t: Matrix, q: Matrix) -> Matrix:
    """t^T q t modulo _P."""
    size = len(t)
    columns = [[(k, t[k][j]) for k in range(size) if t[k][j]] for j in range(size)]
    qt = [[sum(q[i][k] * c for k, c in columns[j]) % _P for j in range(size)] for i in range(size)]
    return [[sum(c * qt[k][j] for k, c in columns[i]) % _P for j in range(size)] for i in range(size)]


def _inverse(m: Matrix) -> Matrix | None:
    n = len(m)
    rows = [row[:] + [int(i == j) for j in range(n)] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if rows[r][col]), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        scale = pow(rows[col][col], -1, _P)
        rows[col] = [v * scale % _P for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col]:
                f = rows[r][col]
                rows[r] = [(v - f * w) % _P for v, w in zip(rows[r], rows[col], strict=True)]
    return [row[n:] for row in rows]


def _det(m: Matrix) -> int:
    if len(m) == 1:
        return m[0][0] % _P
    return (
        sum((-1) ** j * m[0][j] * _det([row[:j] + row[j + 1 :] for row in m[1:]]) for j in range(len(m))) % _P
    )


def _rational(v: int) -> sympy.Rational:
    """The small rational that v is modulo _P (relabellings have small coefficients)."""
    for q in range(1, 13):
        x = v * q % _P
        for num in (x, x - _P):
            if abs(num) <= 12:
                return sympy.Rational(num, q)
    return sympy.Rational(10**9)  # no small rational: not confirmed below


def _term(c: sympy.Rational, symbols: tuple[sympy.Symbol, ...], exponents: tuple, at: dict) -> int:
    """c * prod(symbol^e) modulo _P at the values `at`."""
    term = _mod(sympy.Rational(c))
    for symbol, e in zip(symbols, exponents, strict=True):
        term = term * pow(at[symbol], int(e), _P) % _P
    return term


def _value(expr: sympy.Expr, symbols: tuple[sympy.Symbol, ...], at: dict) -> int:
    """A polynomial in `symbols` with rational coefficients, modulo _P at the values `at`."""
    expr = sympy.sympify(expr)
    if not symbols:
        return _mod(sympy.Rational(expr))
    return sum(_term(c, symbols, m, at) for m, c in sympy.Poly(expr, *symbols).terms()) % _P


class _Numeric:
    """The family's forms and propagator algebra modulo a prime, with the invariants at one random
    point: a candidate relabelling is tested with integer arithmetic only, and a match is then
    confirmed exactly (`Algebra.express`)."""

    def __init__(self, algebra: Algebra) -> None:
        rng = random.Random(20261201)
        at = {s: rng.randrange(2, _P) for s in algebra.invariants}

        def value(expr: sympy.Expr) -> int:
            return _value(expr, algebra.invariants, at)

        self.algebra = algebra
        self.n_loops = len(algebra.loops)
        self.forms = [_modular(f) for f in algebra.forms]
        self.inverse = _modular(algebra.inverse)
        self.gram = [
            [value(algebra.gram[a, b]) for b in range(algebra.gram.cols)] for a in range(algebra.gram.rows)
        ]
        self.masses = [value(m) for m in algebra.masses]
        self.constants = [value(c) for c in algebra.constants]
        self.loop_parts = [self._loop_part(k) for k in range(len(self.forms))]
        self.externals = [_modular(p) for p in external_maps(algebra)]

    def _loop_part(self, k: int) -> list[int] | None:
        """q of a squared propagator (form = q q^T), up to its sign; None for a linear one."""
        if not self.algebra.squared[k]:
            return None
        form = self.algebra.forms[k]
        pivot = next(j for j in range(form.rows) if form[j, j] != 0)
        root = sympy.sqrt(form[pivot, pivot])
        return [_mod(sympy.Rational(v / root)) for v in form.row(pivot)]

    def image(self, transform: Matrix, k: int) -> int | None:
        """j when D_k(transformed momenta) = D_j, else None."""
        form = _congruent(transform, self.forms[k])
        nl = self.n_loops
        products = [form[i][j] * (1 if i == j else 2) for i, j in self.algebra.products]
        row = [
            sum(p * self.inverse[r][c] for r, p in enumerate(products)) % _P for c in range(len(self.inverse))
        ]
        unit = [j for j, c in enumerate(row) if c]
        if len(unit) != 1 or row[unit[0]] != 1:
            return None
        e = len(self.gram)
        external = sum(form[nl + a][nl + b] * self.gram[a][b] for a in range(e) for b in range(e))
        j = unit[0]
        return j if (external - self.masses[k] - self.constants[j]) % _P == 0 else None


class _Shapes:
    """What a relabelling cannot change, read off the Symanzik polynomials U and F (modulo _P, the
    invariants at a random point): mapping sector S onto T permutes their variables, so line k of
    S can only go to a line j of T with the same profile, `U` and `F` with x_k = t and the other
    lines of the sector at 1, as polynomials in t. A sector's sorted profiles are its fingerprint:
    sectors with different fingerprints are never tried against each other, and a candidate
    relabelling is only built from lines with equal profiles. Both only skip what would fail."""

    def __init__(self, family: Family) -> None:
        u, f, xs = symanzik_polynomials(family)
        symbols = tuple(sorted((u + f).free_symbols - set(xs), key=str))
        rng = random.Random(20261202)
        at = {s: rng.randrange(2, _P) for s in symbols}
        self.polys = []  # per polynomial: (support bitmask, exponents, value) of each monomial
        for poly in (u, f):
            terms = sympy.Poly(poly, *xs, *symbols).terms() if poly != 0 else []
            merged: dict[tuple[int, ...], int] = {}
            for monomial, c in terms:
                term = _term(c, symbols, monomial[len(xs) :], at)
                key = tuple(int(e) for e in monomial[: len(xs)])
                merged[key] = (merged.get(key, 0) + term) % _P
            self.polys.append(
                [(sum(1 << k for k, e in enumerate(m) if e), m, c) for m, c in merged.items() if c]
            )

        self.known: dict[int, dict[int, tuple]] = {}

    def profiles(self, sector: int) -> dict[int, tuple]:
        """Line k of `sector` -> its profile."""
        if sector not in self.known:
            self.known[sector] = self._profiles(sector)
        return self.known[sector]

    def _profiles(self, sector: int) -> dict[int, tuple]:
        members = [k for k in range(sector.bit_length()) if sector >> k & 1]
        out: dict[int, list] = {k: [] for k in members}
        for terms in self.polys:
            sums: dict[int, dict[int, int]] = {k: {} for k in members}
            for support, m, c in terms:
                if support & ~sector:
                    continue
                for k in members:
                    sums[k][m[k]] = (sums[k].get(m[k], 0) + c) % _P
            for k in members:
                out[k].append(tuple(sorted((e, v) for e, v in sums[k].items() if v)))
        return {k: tuple(v) for k, v in out.items()}

    def fingerprint(self, sector: int) -> tuple:
        return tuple(sorted(self.profiles(sector).values()))


def _signature(algebra: Algebra, members: list[int]) -> tuple:
    """What any relabelling preserves: the masses and the number of squared propagators."""
    return (
        tuple(sorted(str(algebra.masses[k]) for k in members)),
        sum(algebra.squared[k] for k in members),
    )


def _basis(num: _Numeric, members: list[int]) -> list[int] | None:
    """L squared propagators of the sector whose loop parts are independent."""
    nl = num.n_loops
    chosen: list[int] = []
    for k in members:
        q = num.loop_parts[k]
        if q is None:
            continue
        trial = [num.loop_parts[c][:nl] for c in chosen] + [q[:nl]]
        if _rank(trial) == len(trial):
            chosen.append(k)
            if len(chosen) == nl:
                return chosen
    return None


def external_maps(algebra: Algebra) -> list[sympy.Matrix]:
    """Linear maps p -> P p of the independent externals that keep every scalar product among
    them (P G P^T = G exactly), the identity first: the signed permutations of the externals and
    the one that momentum conservation closes them with, -(p_1 + ... + p_E). A scalar integral
    depends on the externals through G alone, so each such P may join a loop relabelling."""
    e = len(algebra.externals)
    if e == 0 or e + 1 > _MAX_PERMUTED_EXTERNALS:
        return [sympy.eye(e)]
    vectors = [[int(i == j) for j in range(e)] for i in range(e)] + [[-1] * e]
    rng = random.Random(20261203)
    at = {s: rng.randrange(2, _P) for s in algebra.invariants}
    gram = [[_value(algebra.gram[a, b], algebra.invariants, at) for b in range(e)] for a in range(e)]
    found = [sympy.eye(e)]
    for order in itertools.permutations(range(e + 1)):
        for sign in (1, -1):
            rows = [[sign * v for v in vectors[order[a]]] for a in range(e)]
            if rows == vectors[:e]:
                continue  # the identity, already first
            modular = [
                [
                    sum(rows[a][c] * gram[c][k] * rows[b][k] for c in range(e) for k in range(e)) % _P
                    for b in range(e)
                ]
                for a in range(e)
            ]
            if modular != gram:
                continue
            p = sympy.Matrix(rows)
            if (p * algebra.gram * p.T - algebra.gram).expand() == sympy.zeros(e, e) and p not in found:
                found.append(p)
    return found


# Externals permuted at most (with the closing momentum): 7! x 2 trial maps, each a few products.
_MAX_PERMUTED_EXTERNALS = 7


def _candidates(
    num: _Numeric, basis: list[int], allowed: dict[int, list[int]], external: Matrix
) -> Iterator[Matrix]:
    """Transforms sending each basis propagator's momentum to +- a squared one it may go to
    (`allowed`), with the externals mapped by `external` (P): with K the basis' loop parts and
    Q their external parts, K A = K' fixes A and K B = R - Q P the shifts B."""
    nl, size = num.n_loops, len(num.forms[0])
    source = [num.loop_parts[k] for k in basis]
    k_inverse = _inverse([q[:nl] for q in source])
    e = size - nl
    moved = [[sum(q[nl + c] * external[c][j] for c in range(e)) % _P for j in range(e)] for q in source]
    choices = [[j for j in allowed[k] if num.loop_parts[j] is not None] for k in basis]
    for images in itertools.product(*choices):
        if len(set(images)) < nl:
            continue
        parts = [num.loop_parts[j] for j in images]
        for signs in itertools.product((1, -1), repeat=nl):
            rows = [[s * v % _P for v in p] for s, p in zip(signs, parts, strict=True)]
            a = [
                [sum(k_inverse[i][m] * rows[m][j] for m in range(nl)) % _P for j in range(nl)]
                for i in range(nl)
            ]
            if _det(a) not in (1, _P - 1):
                continue
            rhs = [[rows[m][nl + j] - moved[m][j] for j in range(e)] for m in range(nl)]
            b = [
                [sum(k_inverse[i][m] * rhs[m][j] for m in range(nl)) % _P for j in range(e)]
                for i in range(nl)
            ]
            yield [a[i] + b[i] for i in range(nl)] + [[0] * nl + list(external[i]) for i in range(e)]


def _match(num: _Numeric, transform: Matrix, allowed: dict[int, list[int]]) -> tuple | None:
    """The propagator permutation if `transform` maps every member onto a distinct target member."""
    used: dict[int, int] = {}
    for k, goal in allowed.items():
        j = num.image(transform, k)
        if j is None or j not in goal or j in used.values():
            return None
        used[k] = j
    return tuple(sorted(used.items()))


def _confirmed(algebra: Algebra, transform: sympy.Matrix, permutation: tuple) -> bool:
    for k, j in permutation:
        row, constant = algebra.express(transform.T * algebra.forms[k] * transform, algebra.masses[k])
        if any(c != (1 if m == j else 0) for m, c in enumerate(row)) or constant != 0:
            return False
    return True


def _maps(num: _Numeric, shapes: _Shapes, source: int, target: int, n: int, limit: int) -> list[Mapping]:
    """Up to `limit` relabellings of `source` onto `target` with distinct propagator permutations
    (the identity left out of a sector's self-maps)."""
    members, goal = _members(source, n), _members(target, n)
    basis = _basis(num, members)
    if basis is None:
        return []
    ours, theirs = shapes.profiles(source), shapes.profiles(target)
    allowed = {k: [j for j in goal if theirs[j] == ours[k]] for k in members}
    found: list[Mapping] = []
    seen = {tuple((k, k) for k in members)} if source == target else set()
    for external in num.externals:
        for transform in _candidates(num, basis, allowed, external):
            permutation = _match(num, transform, allowed)
            if permutation is None or permutation in seen:
                continue
            exact = sympy.Matrix([[_rational(v) for v in row] for row in transform])
            if _confirmed(num.algebra, exact, permutation):
                seen.add(permutation)
                found.append(Mapping(source, target, permutation, exact))
                if len(found) == limit:
                    return found
    return found


# Self-maps kept per unique sector: they give relations among that sector's masters (a
# generating set suffices; larger groups only repeat relations).
MAX_AUTOMORPHISMS = 8


@functools.lru_cache(maxsize=16)
def find_symmetries(family: Family, nonzero: tuple[int, ...]) -> Symmetries:
    """Map every nonzero sector onto the lowest sector of its class (`nonzero`: sector ids)."""
    algebra = family_algebra(family)
    num = _Numeric(algebra)
    shapes = _Shapes(family)
    n = len(family.propagators)
    unique: list[int] = []
    mappings: list[Mapping] = []
    automorphisms: dict[int, tuple[Mapping, ...]] = {}
    for sector in sorted(nonzero):
        members = _members(sector, n)
        signature = (_signature(algebra, members), shapes.fingerprint(sector))
        mapping: list[Mapping] = []
        for rep in unique:
            if signature == (_signature(algebra, _members(rep, n)), shapes.fingerprint(rep)):
                mapping = _maps(num, shapes, sector, rep, n, 1)
                if mapping:
                    break
        if mapping:
            mappings.append(mapping[0])
            continue
        unique.append(sector)
        own = _maps(num, shapes, sector, sector, n, MAX_AUTOMORPHISMS)
        if own:
            automorphisms[sector] = tuple(own)
    return Symmetries(tuple(unique), tuple(mappings), automorphisms)


def all_maps(symmetries: Symmetries) -> list[Mapping]:
    """The sector mappings, then every unique sector's self-maps: the order of the family file."""
    return list(symmetries.mappings) + [
        m for s in sorted(symmetries.automorphisms) for m in symmetries.automorphisms[s]
    ]
