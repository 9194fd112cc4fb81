"""Integral families: loading, validating and hashing their definitions.

A family is given to `load_family` as one of

* a built-in name (`python/sailir/data/families/NAME.yaml`, e.g. `trianglebox`);
* the path of a sailir YAML file (format below);
* the path of a Kira config directory holding `integralfamilies.yaml` and `kinematics.yaml`, read
  unchanged, or of the Kira project directory that holds it as `config/`; `DIR:NAME` selects one
  family when `integralfamilies.yaml` lists several.

The sailir YAML format::

    name: trianglebox
    loop_momenta: [k1, k2]
    propagators:          # Kira style [momentum, mass_squared]; D = momentum^2 - mass_squared
      - [k1, 0]
      - [k2, 0]
      - [k1+k2, 0]
      - [k1+p1, 0]
      - [k2+p3, 0]
      - [k2-p1, 0]
      - [k1+p3, 0]
    irreducible: [7]      # optional 1-based indices of irreducible numerators (powers always <= 0)
    kinematics:           # exactly the `kinematics:` block of Kira's kinematics.yaml
      incoming_momenta: [p1, p2]
      outgoing_momenta: [p3]
      momentum_conservation: [p3, p1+p2]      # p3 = p1 + p2; may be omitted
      kinematic_invariants: [[m1, 2], [m2, 2], [m3, 2]]
      scalarproduct_rules:
        - [[p1,p1], m1]
        - [[p2,p2], m2]
        - [[p3,p3], m3]
      symbol_to_replace_by_one: m1            # optional
    point: {d: 41, m1: 1, m2: 31, m3: 47}     # optional default numeric point (ints or "p/q")
    masters: ["I[0,1,1,1,0,0,0]"]             # optional preferred master basis

Expressions use `+ - * / ^` and parentheses with integer or rational constants. A propagator's
momentum is linear in the declared momenta and is squared; a linear (eikonal) propagator is written
as a sum of scalar products, `[2*k1*u1+2*k2*u1, 0]`, or as Kira's `{bilinear: [[k1, p1], m]}`
(D = k1.p1 - m). Masses and scalar-product values are polynomials in the invariants.

Externals are reduced to an independent set modulo momentum conservation, chosen greedily in the
order the momenta first appear in the propagators, then in declaration order. The propagators
(with irreducible numerators) must form a basis of the scalar products involving loop momenta.
Every problem raises `FamilyError` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import keyword
import re
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import sympy
import yaml
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from sailir.errors import FamilyError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_RESERVED = re.compile(r"(d|a[0-9]+)\Z")  # d and the seed powers a1..an name file coefficients
_EXPR_CHARS = re.compile(r"[A-Za-z0-9_+\-*/^() ]*\Z")  # whitelist: parse_expr evaluates its input
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Expressions in family files are small polynomials. Bounds keep a typo or a hostile file
# (`s**(10**10)`) from running until killed: the text, and a degree bound computed on the
# unevaluated tree before sympy expands anything.
_MAX_EXPR_CHARS = 4000
_MAX_DEGREE = 64
_RATIONAL = re.compile(r"\s*(-?[0-9]+)\s*(?:/\s*([0-9]+)\s*)?\Z")
_MASTER = re.compile(r"\s*I\s*\[(.*)\]\s*\Z")
_INT = re.compile(r"\s*-?[0-9]+\s*\Z")
_SAILIR_KEYS = ("name", "loop_momenta", "propagators", "irreducible", "kinematics", "point", "masters")
_KINEMATICS_KEYS = (
    "incoming_momenta",
    "outgoing_momenta",
    "momentum_conservation",
    "kinematic_invariants",
    "scalarproduct_rules",
    "symbol_to_replace_by_one",
)


@dataclass(frozen=True)
class Family:
    """A validated family definition; every expression is kept as a string."""

    name: str
    loop_momenta: tuple[str, ...]
    external_momenta: tuple[str, ...]  # all, in declaration order
    independent_externals: tuple[str, ...]
    momentum_conservation: tuple[tuple[str, str], ...]  # dependent external -> independent combination
    propagators: tuple[tuple[str, str], ...]  # (momentum, mass squared)
    irreducible: tuple[int, ...]  # 1-based
    invariants: tuple[str, ...]
    scalar_products: tuple[tuple[str, str, str], ...]  # (e_i, e_j, value) for independent i <= j
    symbol_to_replace_by_one: str | None
    point: dict[str, Fraction] = field(default_factory=dict, hash=False)
    masters: list[tuple[int, ...]] = field(default_factory=list, hash=False)


@dataclass(frozen=True)
class Algebra:
    """The linear algebra of a family, shared by identities, hashing and the zero-sector test.

    Vectors are coefficient tuples over (loop momenta..., independent externals...). Each
    propagator is `D = x^T form x - mass`, with x that vector of momenta and `form` a symmetric
    rational matrix: `q q^T` for a squared momentum q, anything symmetric for the linear (eikonal)
    and bilinear propagators of Kira's files. The scalar products involving loop momenta are
    `products` (pairs of vector indices); the propagators are `D = matrix * products + constants`.
    """

    loops: tuple[sympy.Symbol, ...]
    externals: tuple[sympy.Symbol, ...]
    invariants: tuple[sympy.Symbol, ...]
    forms: tuple[sympy.Matrix, ...]
    squared: tuple[bool, ...]  # written as a momentum squared (for display)
    masses: tuple[sympy.Expr, ...]
    gram: sympy.Matrix  # scalar products of the independent externals
    products: tuple[tuple[int, int], ...]
    matrix: sympy.Matrix
    constants: tuple[sympy.Expr, ...]

    def express(self, form: sympy.Matrix, mass: sympy.Expr) -> tuple[tuple[sympy.Rational, ...], sympy.Expr]:
        """x^T form x - mass in the propagators: (coefficients over them, constant)."""
        row = sympy.Matrix([_products_of(form, self.products)]) * self.inverse
        external = _external_part(form, len(self.loops), self.gram)
        constant = (
            external - mass - sum((row[k] * self.constants[k] for k in range(len(row))), sympy.Integer(0))
        )
        return tuple(sympy.Rational(v) for v in row), sympy.expand(constant)

    def gradient(self, k: int, i: int) -> tuple[sympy.Rational, ...]:
        """dD_k/dx_i as a vector: 2 * row i of the form (x_i a loop momentum or an external)."""
        return tuple(2 * v for v in self.forms[k].row(i))

    @property
    def product_names(self) -> tuple[str, ...]:
        names = [str(s) for s in self.loops + self.externals]
        return tuple(f"{names[i]}.{names[j]}" for i, j in self.products)

    @functools.cached_property
    def inverse(self) -> sympy.Matrix:
        return self.matrix.inv()

    def dot(self, u: tuple, w: tuple) -> tuple[sympy.Expr, tuple[sympy.Expr, ...]]:
        """u.w as (constant, coefficients over the propagators)."""
        n_loops = len(self.loops)
        index = {pair: k for k, pair in enumerate(self.products)}
        on_products = [sympy.Integer(0)] * len(self.products)
        constant = sympy.Integer(0)
        for a, ua in enumerate(u):
            for b, wb in enumerate(w):
                if ua == 0 or wb == 0:
                    continue
                if a < n_loops or b < n_loops:
                    on_products[index[(min(a, b), max(a, b))]] += ua * wb
                else:
                    constant += ua * wb * self.gram[a - n_loops, b - n_loops]
        # products = inverse * (D - constants)
        row = sympy.Matrix([on_products]) * self.inverse
        constant -= sum((row[k] * self.constants[k] for k in range(len(self.constants))), sympy.Integer(0))
        return sympy.expand(constant), tuple(row)


# ---------------------------------------------------------------- expression parsing


def _parse(text: Any, allowed: dict[str, sympy.Symbol], what: str) -> sympy.Expr:
    """Parse a polynomial with rational coefficients in the `allowed` symbols."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise FamilyError(f"{what} must be an expression, got {text!r}")
    text = str(text)
    if not text.strip() or not _EXPR_CHARS.match(text):
        raise FamilyError(f"cannot parse {what} '{text}'")
    if len(text) > _MAX_EXPR_CHARS:
        raise FamilyError(f"{what} is longer than {_MAX_EXPR_CHARS} characters")
    for name in _IDENT.findall(text):
        if name not in allowed:
            raise FamilyError(f"unknown symbol '{name}' in {what} '{text}'")
    try:
        tree = parse_expr(
            text.replace("^", "**"),
            local_dict=dict(allowed),
            global_dict={
                "Integer": sympy.Integer,
                "Rational": sympy.Rational,
                "Symbol": sympy.Symbol,
                "Add": sympy.Add,
                "Mul": sympy.Mul,
                "Pow": sympy.Pow,
            },
            transformations=standard_transformations,
            evaluate=False,
        )
    except Exception as err:  # noqa: BLE001 - any parser failure is a user input error
        raise FamilyError(f"cannot parse {what} '{text}'") from err
    if _degree_bound(tree) > _MAX_DEGREE:
        raise FamilyError(
            f"{what} '{text}' has degree above {_MAX_DEGREE} (numbers count by their exponents)"
        )
    try:
        expr = sympy.expand(sympy.sympify(tree))
    except Exception as err:  # noqa: BLE001 - any parser failure is a user input error
        raise FamilyError(f"cannot parse {what} '{text}'") from err
    if not _is_polynomial(expr, tuple(allowed.values())):
        raise FamilyError(f"{what} '{text}' is not a polynomial with rational coefficients")
    return expr


def _degree_bound(tree: sympy.Basic) -> int:
    """An upper bound on the degree of an unevaluated expression, counting an integer literal's
    power as its exponent too (so 10**(10**10) is refused before it is computed)."""
    if tree.is_Symbol:
        return 1
    if tree.is_Number:
        return 0
    if tree.is_Pow:
        base, exp = tree.args
        if not exp.is_Integer:  # a computed or symbolic exponent: refused unless a plain number
            return 0 if exp.is_Number else _MAX_DEGREE + 1
        return max(_degree_bound(base), 1) * abs(int(exp))
    if tree.is_Mul:
        return sum(_degree_bound(a) for a in tree.args)
    return max((_degree_bound(a) for a in tree.args), default=0)


def _is_polynomial(expr: sympy.Expr, gens: tuple[sympy.Symbol, ...]) -> bool:
    if expr.is_Rational:
        return True
    if not gens:
        return False
    try:
        poly = sympy.Poly(expr, *gens)
    except sympy.PolynomialError:
        return False
    return poly.domain in (sympy.ZZ, sympy.QQ)


def _combine(coefficients: Any, items: Any) -> sympy.Expr:
    """sum_k coefficients[k] * items[k]."""
    return sum((c * x for c, x in zip(coefficients, items, strict=True)), sympy.Integer(0))


def _symbols(names: tuple[str, ...] | list[str]) -> dict[str, sympy.Symbol]:
    return {n: sympy.Symbol(n) for n in names}


def _linear_coefficients(
    expr: sympy.Expr, symbols: tuple[sympy.Symbol, ...], what: str, text: str
) -> tuple[sympy.Rational, ...]:
    """Coefficients of a homogeneous linear expression (a momentum)."""
    if expr.is_Rational and expr != 0:
        raise FamilyError(f"{what} '{text}' is not a linear combination of momenta")
    poly = sympy.Poly(expr, *symbols) if symbols else None
    if poly is not None and (poly.total_degree() > 1 or poly.coeff_monomial(1) != 0):
        raise FamilyError(f"{what} '{text}' is not a linear combination of momenta")
    if poly is None:
        return ()
    return tuple(sympy.Rational(poly.coeff_monomial(s)) for s in symbols)


def _rational_str(value: sympy.Rational | Fraction) -> str:
    value = Fraction(int(value.p), int(value.q)) if isinstance(value, sympy.Rational) else value
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def poly_terms(expr: sympy.Expr, gens: tuple[sympy.Symbol, ...]) -> list[tuple[tuple[int, ...], str]]:
    """Polynomial terms as (exponents, "p/q"), highest exponents first; shared with the file writer."""
    expr = sympy.expand(expr)
    if expr == 0:
        return []
    if not gens:
        return [((), _rational_str(sympy.Rational(expr)))]
    poly = sympy.Poly(expr, *gens, domain=sympy.QQ)
    terms = [(tuple(int(e) for e in m), _rational_str(sympy.Rational(c))) for m, c in poly.terms()]
    return sorted(terms, reverse=True)


# ---------------------------------------------------------------- YAML helpers


def _read_yaml(path: Path | None, text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        if isinstance(err, yaml.MarkedYAMLError) and err.problem:
            detail = err.problem
            if err.problem_mark is not None:
                detail += f" (line {err.problem_mark.line + 1}, column {err.problem_mark.column + 1})"
        else:
            detail = (str(err).splitlines() or ["unknown error"])[0]
        raise FamilyError(f"family file {source}: malformed YAML: {detail}") from err


def _names(value: Any, what: str, *, allow_empty: bool = True) -> list[str]:
    if value is None and allow_empty:
        return []
    if not isinstance(value, list) or (not value and not allow_empty):
        raise FamilyError(f"{what} must be a {'' if allow_empty else 'non-empty '}list of names")
    for item in value:
        if not isinstance(item, str) or not _NAME.match(item):
            raise FamilyError(f"{what}: {item!r} is not a valid name")
    return list(value)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FamilyError(f"{what} must be a mapping")
    return value


# ---------------------------------------------------------------- loaders


def builtin_names() -> list[str]:
    """Names of the built-in families."""
    folder = _builtin_dir()
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _builtin_dir() -> Any:
    return resources.files("sailir") / "data" / "families"


def builtin_file(name: str, suffix: str = ".yaml") -> Any:
    """The packaged file of a built-in family (a Traversable)."""
    return _builtin_dir() / f"{name}{suffix}"


def load_family(spec: str) -> Family:
    """Load and validate a family from a built-in name, a sailir YAML file or a Kira config dir."""
    names = builtin_names()
    if spec in names:
        text = builtin_file(spec).read_text(encoding="utf-8")
        return _from_sailir(_read_yaml(None, text, f"built-in {spec}"), f"built-in {spec}")
    path = Path(spec)
    if path.is_file():
        return load_sailir_yaml(path)
    if path.is_dir():
        return load_kira(path, None)
    head, sep, tail = spec.rpartition(":")
    if sep and head and Path(head).is_dir():
        return load_kira(Path(head), tail)
    raise FamilyError(
        f"unknown family '{spec}': not a built-in ({', '.join(names)}) nor a file or Kira config directory"
    )


def load_sailir_yaml(path: Path) -> Family:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FamilyError(f"family file {path}: cannot read: {err}") from err
    return _from_sailir(_read_yaml(path, text, str(path)), str(path))


def _from_sailir(data: Any, source: str) -> Family:
    if not isinstance(data, dict):
        raise FamilyError(
            f"family file {source}: expected a mapping with keys {', '.join(_SAILIR_KEYS[:3])}, ..."
        )
    for key in data:
        if key not in _SAILIR_KEYS:
            raise FamilyError(
                f"family file {source}: unknown key '{key}' (expected {', '.join(_SAILIR_KEYS)})"
            )
    for key in ("name", "loop_momenta", "propagators"):
        if key not in data:
            raise FamilyError(f"family file {source}: missing key '{key}'")
    if not isinstance(data["name"], str) or not _NAME.match(data["name"]):
        raise FamilyError(f"family file {source}: name must be a name, got {data['name']!r}")
    irreducible = data.get("irreducible") or []
    if not isinstance(irreducible, list) or not all(_is_int(i) for i in irreducible):
        raise FamilyError(f"family file {source}: irreducible must be a list of propagator indices")
    point = data.get("point") or {}
    masters = data.get("masters") or []
    if not isinstance(masters, list):
        raise FamilyError(f'family file {source}: masters must be a list like ["I[1,1,0]"]')
    return build_family(
        data["name"],
        data["loop_momenta"],
        data["propagators"],
        list(irreducible),
        _mapping(data.get("kinematics") or {}, f"family file {source}: kinematics"),
        _mapping(point, f"family file {source}: point"),
        masters,
    )


def load_kira(directory: Path, selected: str | None) -> Family:
    """Load one family of a Kira config directory (integralfamilies.yaml + kinematics.yaml), or of
    a Kira project directory holding it as ``config/``."""
    if not (directory / "integralfamilies.yaml").exists() and (directory / "config").is_dir():
        directory = directory / "config"
    files = {}
    for base in ("integralfamilies.yaml", "kinematics.yaml"):
        path = directory / base
        if not path.is_file():
            raise FamilyError(f"{directory} is not a Kira config directory: {base} is missing")
        try:
            files[base] = _read_yaml(path, path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as err:
            raise FamilyError(f"family file {path}: cannot read: {err}") from err
    families = files["integralfamilies.yaml"]
    if not isinstance(families, dict) or not isinstance(families.get("integralfamilies"), list):
        raise FamilyError(f"{directory}/integralfamilies.yaml: missing list 'integralfamilies'")
    entries = families["integralfamilies"]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise FamilyError(f"{directory}/integralfamilies.yaml: every integral family needs a name")
    names = [e["name"] for e in entries]
    if selected is not None:
        if selected not in names:
            raise FamilyError(
                f"Kira config {directory} has no integral family '{selected}' (it has: {', '.join(names)})"
            )
        entry = entries[names.index(selected)]
    elif len(entries) == 1:
        entry = entries[0]
    elif not entries:
        raise FamilyError(f"{directory}/integralfamilies.yaml lists no integral family")
    else:
        raise FamilyError(
            f"Kira config {directory} defines several integral families ({', '.join(names)}): "
            f"select one as {directory}:NAME"
        )
    kinematics = files["kinematics.yaml"]
    if not isinstance(kinematics, dict) or not isinstance(kinematics.get("kinematics"), dict):
        raise FamilyError(f"{directory}/kinematics.yaml: missing mapping 'kinematics'")
    return _from_kira_entry(entry, kinematics["kinematics"])


def _from_kira_entry(entry: dict[str, Any], kinematics: dict[str, Any]) -> Family:
    name = entry["name"]
    if entry.get("cut_propagators"):
        raise FamilyError(f"integral family '{name}': cut_propagators are not supported")
    propagators = entry.get("propagators")
    if not isinstance(propagators, list) or not propagators:
        raise FamilyError(f"integral family '{name}': propagators must be a non-empty list")
    for i, prop in enumerate(propagators, 1):
        if not (isinstance(prop, list) and len(prop) == 2) and not _is_bilinear(prop):
            shown = yaml.safe_dump(prop, default_flow_style=True, width=10**6).strip()
            raise FamilyError(
                f"integral family '{name}': propagator {i} {shown} is not supported "
                "(only [momentum, mass_squared] and {bilinear: [[a, b], mass]})"
            )
    irreducible: list[int] = []
    if entry.get("top_level_sectors") is not None:
        tops = entry["top_level_sectors"]
        if not isinstance(tops, list) or not tops:
            raise FamilyError(f"integral family '{name}': top_level_sectors must be a non-empty list")
        covered = 0
        for top in tops:
            covered |= _parse_sector(top, len(propagators), name)
        irreducible = [i for i in range(1, len(propagators) + 1) if not covered >> (i - 1) & 1]
    fam_name = name if _NAME.match(name) else re.sub(r"[^A-Za-z0-9_]", "_", name)
    return build_family(
        fam_name, entry.get("loop_momenta"), propagators, irreducible, kinematics, {}, [], strict=False
    )


def _parse_sector(value: Any, n: int, family: str) -> int:
    """A Kira sector: a number, `bNNN` (first digit = propagator 1) or a list of 0/1."""
    bits: list[Any] | None = None
    if isinstance(value, bool):
        bits = None
    elif isinstance(value, int):
        if 0 <= value < 2**n:
            return value
    elif isinstance(value, list):
        bits = value
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]+", text) and int(text) < 2**n:
            return int(text)
        if re.fullmatch(r"b[01]+", text):
            bits = [int(c) for c in text[1:]]
        elif text.startswith("["):
            try:
                bits = yaml.safe_load(text)
            except yaml.YAMLError:
                bits = None
    if (
        isinstance(bits, list)
        and len(bits) == n
        and all(b in (0, 1) and not isinstance(b, bool) for b in bits)
    ):
        return sum(1 << i for i, b in enumerate(bits) if b)
    raise FamilyError(
        f"integral family '{family}': cannot read top-level sector {value!r} for {n} propagators"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------- validation


def build_family(
    name: str,
    loop_momenta: Any,
    propagators: Any,
    irreducible: list[Any],
    kinematics: dict[str, Any],
    point: dict[str, Any],
    masters: list[Any],
    *,
    strict: bool = True,
) -> Family:
    """Validate a family given as plain data (as read from YAML) and solve its kinematics.

    `strict` rejects unknown kinematics keys (typos in sailir files); Kira's own files may carry
    keys that do not matter here.
    """
    loops = _names(loop_momenta, "loop_momenta", allow_empty=False)
    for key in kinematics if strict else ():
        if key not in _KINEMATICS_KEYS:
            raise FamilyError(f"kinematics: unknown key '{key}' (expected {', '.join(_KINEMATICS_KEYS)})")
    declared = _names(kinematics.get("incoming_momenta"), "incoming_momenta") + _names(
        kinematics.get("outgoing_momenta"), "outgoing_momenta"
    )
    externals = list(dict.fromkeys(declared))  # Kira allows [q] both incoming and outgoing
    invariants = _invariant_names(kinematics.get("kinematic_invariants"))
    _check_distinct(loops, externals, invariants)

    if not isinstance(propagators, list) or not propagators:
        raise FamilyError("propagators must be a non-empty list of [momentum, mass_squared]")
    prop_texts = [_propagator_text(p, i) for i, p in enumerate(propagators, 1)]

    relations = _momentum_relations(kinematics.get("momentum_conservation"), externals)
    preference = _preference(externals, [m for m, _ in prop_texts])
    independent, in_basis = _independent_externals(externals, relations, preference)
    dependent = tuple(
        (e, str(_combine(in_basis[e], [sympy.Symbol(b) for b in independent])))
        for e in externals
        if e not in independent
    )

    irr = _irreducible(irreducible, len(propagators))
    products = _solve_scalar_products(
        kinematics.get("scalarproduct_rules"), externals, independent, in_basis, invariants
    )
    one = kinematics.get("symbol_to_replace_by_one")
    if one is not None and one not in invariants:
        raise FamilyError(f"symbol_to_replace_by_one '{one}' is not a kinematic invariant")

    family = Family(
        name=name,
        loop_momenta=tuple(loops),
        external_momenta=tuple(externals),
        independent_externals=tuple(independent),
        momentum_conservation=dependent,
        propagators=tuple(prop_texts),
        irreducible=irr,
        invariants=tuple(invariants),
        scalar_products=products,
        symbol_to_replace_by_one=one,
    )
    _check_basis(family)  # before point and masters: a wrong basis explains more
    return dataclasses.replace(
        family, point=_point(point, invariants, one), masters=_masters(masters, len(propagators), irr)
    )


def _is_bilinear(prop: Any) -> bool:
    return isinstance(prop, dict) and list(prop) == ["bilinear"]


def _propagator_text(prop: Any, i: int) -> tuple[str, str]:
    """(expression, mass) of `[momentum, mass]` (D = momentum^2 - mass, or the expression itself
    when it is a sum of scalar products such as `2*k1*u1`) or Kira's `{bilinear: [[a, b], mass]}`
    (D = a.b - mass)."""
    if _is_bilinear(prop):
        value = prop["bilinear"]
        if not (
            isinstance(value, list) and len(value) == 2 and isinstance(value[0], list) and len(value[0]) == 2
        ):
            raise FamilyError(f"propagator {i} must be {{bilinear: [[a, b], mass]}}, got {prop!r}")
        a, b = (_compact(v, f"propagator {i} momentum") for v in value[0])
        return f"({a})*({b})", _compact(value[1], f"propagator {i} mass")
    if not (isinstance(prop, list) and len(prop) == 2):
        raise FamilyError(f"propagator {i} must be [momentum, mass_squared], got {prop!r}")
    return _compact(prop[0], f"propagator {i} momentum"), _compact(prop[1], f"propagator {i} mass")


def _compact(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FamilyError(f"{what} must be an expression, got {value!r}")
    return str(value).replace(" ", "")


def _invariant_names(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FamilyError("kinematic_invariants must be a list of [name, mass_dimension]")
    names = []
    for item in value:
        name = item[0] if isinstance(item, list) and len(item) == 2 else item
        if not isinstance(name, str) or not _NAME.match(name):
            raise FamilyError(f"kinematic_invariants: {item!r} is not [name, mass_dimension]")
        names.append(name)
    return names


def _check_distinct(loops: list[str], externals: list[str], invariants: list[str]) -> None:
    seen: set[str] = set()
    for name in loops + externals + invariants:
        if keyword.iskeyword(name):
            raise FamilyError(f"name '{name}' is a reserved word")
        if name in seen:
            raise FamilyError(f"name '{name}' is declared twice")
        seen.add(name)
    for name in invariants:
        if _RESERVED.match(name):
            raise FamilyError(
                f"invariant name '{name}' is reserved (d and a1, a2, ... name coefficient variables)"
            )


def _momentum_relations(value: Any, externals: list[str]) -> list[tuple[sympy.Rational, ...]]:
    """Momentum conservation as vectors over all externals that must vanish."""
    if value is None or value == []:
        return []
    pairs = value if isinstance(value, list) and value and isinstance(value[0], list) else [value]
    symbols = _symbols(externals)
    relations = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise FamilyError(f"momentum_conservation must be [momentum, expression], got {value!r}")
        lhs = _parse(pair[0], symbols, "momentum_conservation")
        rhs = _parse(pair[1], symbols, "momentum_conservation")
        text = f"{pair[0]} = {pair[1]}"
        relations.append(
            _linear_coefficients(lhs - rhs, tuple(symbols.values()), "momentum_conservation", text)
        )
    return relations


def _preference(externals: list[str], momenta: list[str]) -> list[str]:
    order: list[str] = []
    for text in momenta:
        for name in _IDENT.findall(text):
            if name in externals and name not in order:
                order.append(name)
    return order + [e for e in externals if e not in order]


def _independent_externals(
    externals: list[str], relations: list[tuple], preference: list[str]
) -> tuple[list[str], dict[str, tuple[sympy.Rational, ...]]]:
    n = len(externals)

    def unit(name: str) -> list[int]:
        return [1 if e == name else 0 for e in externals]

    rows = [list(r) for r in relations]
    rank = sympy.Matrix(rows).rank() if rows else 0
    chosen: list[str] = []
    for name in preference:
        trial = sympy.Matrix(rows + [unit(name)])
        if trial.rank() > rank:
            rows.append(unit(name))
            rank += 1
            chosen.append(name)
    in_basis: dict[str, tuple[sympy.Rational, ...]] = {}
    columns = [unit(c) for c in chosen] + [list(r) for r in relations]
    for name in externals:
        if name in chosen:
            in_basis[name] = tuple(sympy.Integer(int(c == name)) for c in chosen)
            continue
        system = sympy.Matrix(columns).T if columns else sympy.zeros(n, 0)
        solution, params = system.gauss_jordan_solve(sympy.Matrix(unit(name)))
        solution = solution.subs({p: 0 for p in params})
        in_basis[name] = tuple(sympy.Rational(solution[i]) for i in range(len(chosen)))
    return chosen, in_basis


def _irreducible(values: list[Any], n: int) -> tuple[int, ...]:
    result: list[int] = []
    for value in values:
        if not _is_int(value) or not 1 <= value <= n:
            raise FamilyError(f"irreducible index {value!r} is out of range 1..{n}")
        if value in result:
            raise FamilyError(f"irreducible index {value} is listed twice")
        result.append(value)
    return tuple(sorted(result))


def _solve_scalar_products(
    rules: Any,
    externals: list[str],
    independent: list[str],
    in_basis: dict[str, tuple],
    invariants: list[str],
) -> tuple[tuple[str, str, str], ...]:
    """Solve scalarproduct_rules for the products of the independent externals."""
    unknowns = [(i, j) for i in range(len(independent)) for j in range(i, len(independent))]
    column = {pair: k for k, pair in enumerate(unknowns)}
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        raise FamilyError("scalarproduct_rules must be a list of [[p_i, p_j], value]")
    ext_symbols = _symbols(externals)
    inv_symbols = _symbols(invariants)
    # Reduced rows: pivot column -> (coefficients, value); kept in reduced row echelon form.
    rows: dict[int, tuple[list[Fraction], sympy.Expr]] = {}
    for number, rule in enumerate(rules, 1):
        if not (
            isinstance(rule, list) and len(rule) == 2 and isinstance(rule[0], list) and len(rule[0]) == 2
        ):
            raise FamilyError(f"scalarproduct rule {number} must be [[p_i, p_j], value], got {rule!r}")
        vectors = []
        for side in rule[0]:
            expr = _parse(side, ext_symbols, f"scalarproduct rule {number}")
            coefficients = _linear_coefficients(
                expr, tuple(ext_symbols.values()), f"scalarproduct rule {number}", str(side)
            )
            vectors.append(
                [_combine(coefficients, [in_basis[e][k] for e in externals]) for k in range(len(independent))]
            )
        value = _parse(rule[1], inv_symbols, f"scalarproduct rule {number} value")
        row = [Fraction(0)] * len(unknowns)
        u, w = vectors
        for i in range(len(independent)):
            for j in range(len(independent)):
                c = u[i] * w[j]
                if c != 0:
                    row[column[(min(i, j), max(i, j))]] += Fraction(int(c.p), int(c.q))
        for pivot, (prow, pvalue) in rows.items():
            if row[pivot] != 0:
                factor = row[pivot]
                row = [a - factor * b for a, b in zip(row, prow, strict=True)]
                value = sympy.expand(value - sympy.Rational(factor.numerator, factor.denominator) * pvalue)
        lead = next((k for k, a in enumerate(row) if a != 0), None)
        if lead is None:
            if sympy.expand(value) != 0:
                raise FamilyError(
                    f"inconsistent kinematics: scalarproduct rule {number} ([{rule[0][0]}, {rule[0][1]}] = "
                    f"{rule[1]}) contradicts the momentum conservation and earlier rules (0 = {value})"
                )
            continue
        scale = row[lead]
        row = [a / scale for a in row]
        value = sympy.expand(value / sympy.Rational(scale.numerator, scale.denominator))
        for pivot, (prow, pvalue) in list(rows.items()):
            if prow[lead] != 0:
                factor = prow[lead]
                rows[pivot] = (
                    [a - factor * b for a, b in zip(prow, row, strict=True)],
                    sympy.expand(pvalue - sympy.Rational(factor.numerator, factor.denominator) * value),
                )
        rows[lead] = (row, value)
    result = []
    for k, (i, j) in enumerate(unknowns):
        entry = rows.get(k)
        if entry is None or any(a != 0 for c, a in enumerate(entry[0]) if c != k):
            raise FamilyError(
                f"scalar product {independent[i]}.{independent[j]} is not fixed by scalarproduct_rules"
            )
        result.append((independent[i], independent[j], str(entry[1])))
    return tuple(result)


def _point(point: dict[str, Any], invariants: list[str], one: str | None) -> dict[str, Fraction]:
    if not point:
        return {}
    expected = ["d"] + invariants
    values: dict[str, Fraction] = {}
    for key, raw in point.items():
        if key not in expected:
            raise FamilyError(f"point: unknown symbol '{key}' (expected {', '.join(expected)})")
        match = _RATIONAL.match(raw) if isinstance(raw, str) else None
        if _is_int(raw):
            values[key] = Fraction(raw)
        elif match and int(match.group(2) or 1) != 0:
            values[key] = Fraction(int(match.group(1)), int(match.group(2) or 1))
        else:
            raise FamilyError(f"point: value of {key} is not a rational number: {raw!r}")
    if one is not None:
        if one in values and values[one] != 1:
            raise FamilyError(
                f"point: {one} is symbol_to_replace_by_one, so its value must be 1, not {values[one]}"
            )
        values[one] = Fraction(1)
    missing = [k for k in expected if k not in values]
    if missing:
        raise FamilyError(f"point: no value for {', '.join(missing)}")
    return {k: values[k] for k in expected}


def _masters(values: list[Any], n: int, irreducible: tuple[int, ...]) -> list[tuple[int, ...]]:
    result = []
    for value in values:
        if isinstance(value, str):
            match = _MASTER.match(value)
            parts = match.group(1).split(",") if match else None
            if parts is None or not all(_INT.match(p) for p in parts):
                raise FamilyError(f"preferred master {value!r}: expected I[n1,...,n{n}] with integer powers")
            powers = tuple(int(p) for p in parts)
        elif isinstance(value, list) and all(_is_int(p) for p in value):
            powers = tuple(value)
        else:
            raise FamilyError(f"preferred master {value!r}: expected I[n1,...,n{n}] with integer powers")
        if len(powers) != n:
            raise FamilyError(f"preferred master {value!r} has {len(powers)} powers, expected {n}")
        for i in irreducible:
            if powers[i - 1] > 0:
                raise FamilyError(
                    f"preferred master {value!r} has a positive power on irreducible numerator D{i}"
                )
        result.append(powers)
    return result


def _check_basis(family: Family) -> None:
    algebra = family_algebra(family)
    n, m = algebra.matrix.shape
    names = ", ".join(algebra.product_names)
    if n < m:
        raise FamilyError(
            f"propagator basis is incomplete: {n} propagators (with irreducible numerators) for {m} "
            f"scalar products involving loop momenta ({names})"
        )
    if n > m:
        raise FamilyError(
            f"propagator basis has too many propagators: {n} propagators (with irreducible numerators) "
            f"for {m} scalar products involving loop momenta ({names})"
        )
    for k in range(n):
        if all(v == 0 for v in algebra.matrix.row(k)):
            raise FamilyError(
                f"propagator D{k + 1} ({family.propagators[k][0]}) does not depend on the loop momenta"
            )
    null = algebra.matrix.T.nullspace()
    if null:
        culprit = max(k for k in range(n) if null[0][k] != 0) + 1
        raise FamilyError(
            f"propagator basis is linearly dependent: D{culprit} is a combination of the others"
        )


# ---------------------------------------------------------------- algebra and hash


def _propagator_form(
    expr: sympy.Expr, basis: tuple[sympy.Symbol, ...], what: str, text: str
) -> tuple[sympy.Matrix, bool]:
    """The symmetric form of a propagator: a momentum q (linear) is squared, q q^T; an expression
    quadratic in the momenta (`2*k1*u1+2*k2*u1`, `k1*k3`) is a sum of scalar products as written."""
    size = len(basis)
    poly = sympy.Poly(expr, *basis) if expr != 0 else None
    degrees = {sum(m) for m in poly.monoms()} if poly is not None else set()
    if degrees == {1}:
        q = _linear_coefficients(expr, basis, what, text)
        return sympy.Matrix(size, size, lambda a, b: q[a] * q[b]), True
    if degrees != {2}:
        raise FamilyError(
            f"{what} '{text}' is neither a momentum (squared) nor a sum of scalar products of momenta"
        )
    form = sympy.zeros(size, size)
    for monomial, coefficient in poly.terms():
        pair = [k for k, e in enumerate(monomial) for _ in range(e)]
        a, b = pair
        form[a, b] += sympy.Rational(coefficient) / (1 if a == b else 2)
        if a != b:
            form[b, a] += sympy.Rational(coefficient) / 2
    return form, False


def _products_of(form: sympy.Matrix, products: tuple[tuple[int, int], ...]) -> list[sympy.Rational]:
    """Coefficients of x^T form x on the scalar products l_i.v_j (i <= j)."""
    return [form[i, j] * (1 if i == j else 2) for i, j in products]


def _external_part(form: sympy.Matrix, n_loops: int, gram: sympy.Matrix) -> sympy.Expr:
    e = gram.rows
    return sympy.expand(
        sum(
            (form[n_loops + a, n_loops + b] * gram[a, b] for a in range(e) for b in range(e)),
            sympy.Integer(0),
        )
    )


@functools.lru_cache(maxsize=64)
def family_algebra(family: Family) -> Algebra:
    """The sympy view of a family (its strings were validated when it was built)."""
    loops = tuple(sympy.Symbol(n) for n in family.loop_momenta)
    independent = tuple(sympy.Symbol(n) for n in family.independent_externals)
    invariants = tuple(sympy.Symbol(n) for n in family.invariants)
    all_ext = _symbols(family.external_momenta)
    inv_symbols = _symbols(family.invariants)
    ind_symbols = _symbols(family.independent_externals)
    replace = {all_ext[e]: _parse(expr, ind_symbols, "momentum") for e, expr in family.momentum_conservation}
    momentum_symbols = {**_symbols(family.loop_momenta), **all_ext}
    basis = loops + independent
    forms, squared, masses = [], [], []
    for i, (momentum, mass) in enumerate(family.propagators, 1):
        expr = sympy.expand(_parse(momentum, momentum_symbols, f"propagator {i} momentum").xreplace(replace))
        form, is_square = _propagator_form(expr, basis, f"propagator {i} momentum", momentum)
        forms.append(form)
        squared.append(is_square)
        masses.append(_parse(mass, inv_symbols, f"propagator {i} mass"))
    e = len(independent)
    gram = sympy.zeros(e, e)
    position = {n: k for k, n in enumerate(family.independent_externals)}
    for a, b, value in family.scalar_products:
        v = _parse(value, inv_symbols, "scalar product")
        gram[position[a], position[b]] = v
        gram[position[b], position[a]] = v
    n_loops = len(loops)
    products = tuple((i, j) for i in range(n_loops) for j in range(i, n_loops)) + tuple(
        (i, n_loops + j) for i in range(n_loops) for j in range(e)
    )
    matrix = sympy.Matrix([_products_of(form, products) for form in forms])
    constants = [
        sympy.expand(_external_part(form, n_loops, gram) - mass)
        for form, mass in zip(forms, masses, strict=True)
    ]
    return Algebra(
        loops,
        independent,
        invariants,
        tuple(forms),
        tuple(squared),
        tuple(masses),
        gram,
        products,
        matrix,
        tuple(constants),
    )


def external_coordinates(family: Family) -> dict[str, tuple[sympy.Rational, ...]]:
    """Every external momentum, in declaration order, over the independent externals."""
    independent = _symbols(family.independent_externals)
    dependent = dict(family.momentum_conservation)
    result = {}
    for name in family.external_momenta:
        expr = independent[name] if name in independent else _parse(dependent[name], independent, "momentum")
        result[name] = tuple(sympy.Rational(expr.coeff(independent[e])) for e in family.independent_externals)
    return result


def family_hash(family: Family) -> str:
    """sha256 of the canonical definition: independent of the name, the point and the masters."""
    from sailir.identities import IDENTITIES_VERSION  # identities imports this module

    algebra = family_algebra(family)
    invariants = algebra.invariants
    n_loops = len(algebra.loops)
    ext_pairs = [(a, b) for a in range(len(algebra.externals)) for b in range(a, len(algebra.externals))]
    propagators = []
    for k, form in enumerate(algebra.forms):
        ext = form[n_loops:, n_loops:]
        propagators.append(
            {
                "loop": [_rational_str(v) for v in algebra.matrix.row(k)],
                "external": [_rational_str(ext[a, b] * (1 if a == b else 2)) for a, b in ext_pairs],
                "mass": poly_terms(algebra.masses[k], invariants),
            }
        )
    definition = {
        "identities_version": IDENTITIES_VERSION,
        "loop_momenta": list(family.loop_momenta),
        "independent_externals": list(family.independent_externals),
        "scalar_products": list(algebra.product_names),
        "propagators": propagators,
        "irreducible": list(family.irreducible),
        "invariants": list(family.invariants),
        "external_products": [
            [a, b, poly_terms(_parse(v, _symbols(family.invariants), "scalar product"), invariants)]
            for a, b, v in family.scalar_products
        ],
        "one": family.symbol_to_replace_by_one,
    }
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
