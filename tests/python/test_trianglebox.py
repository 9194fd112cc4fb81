"""The triangle-box family through the Python API: sectors, masters and reductions.

The strongest check here does not rely on the reducer's own equations: IBP/LI templates from
`derive_identities` are evaluated by hand with exact fractions at a seed, every integral of such an
equation is reduced with `sailir.reduce`, and the reductions must satisfy the equation modulo p.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import sympy
import yaml

import sailir
from sailir.family import Family, load_family
from sailir.identities import Template, coefficient_symbols, derive_identities
from sailir.zero_sectors import zero_sectors

FAMILY_YAML = Path(__file__).resolve().parents[2] / "python/sailir/data/families/trianglebox.yaml"
YAML_MASTERS: list[str] = yaml.safe_load(FAMILY_YAML.read_text())["masters"]
SECOND_PRIME = 9223372036854775643

TRIANGLEBOX_NONZERO = [
    14, 15, 21, 23, 27, 28, 29, 30, 31, 37, 39, 43, 45, 46, 47, 53, 55, 57, 59, 60, 61, 62, 63,
]  # fmt: skip

EASY = ["I[1,1,2,1,1,1,-4]", "I[2,1,1,1,1,2,-4]", "I[1,1,2,2,1,2,-4]"]

POINT = {"d": Fraction(41), "m1": Fraction(1), "m2": Fraction(31), "m3": Fraction(47)}
OTHER_POINT = {"d": Fraction(37, 3), "m1": Fraction(1), "m2": Fraction(5, 7), "m3": Fraction(-11)}


def fmt(powers: tuple[int, ...] | list[int]) -> str:
    return "I[" + ",".join(map(str, powers)) + "]"


def point_text(point: dict[str, Fraction]) -> str:
    return ",".join(f"{k}={v}" for k, v in point.items())


def sector_of(powers: tuple[int, ...] | list[int], family: Family) -> int:
    return sum(1 << i for i, a in enumerate(powers) if a > 0 and i + 1 not in family.irreducible)


def test_yaml_masters_are_sixteen_distinct_integrals() -> None:
    assert len(YAML_MASTERS) == 16 and len(set(YAML_MASTERS)) == 16


# --- sectors -----------------------------------------------------------------------------------


def test_trianglebox_nonzero_sectors() -> None:
    info = sailir.sectors("trianglebox")
    assert info["nonzero_sectors"] == TRIANGLEBOX_NONZERO


@pytest.mark.parametrize("name", ["trianglebox", "tadpole", "bubble", "prop2l"])
def test_nonzero_sectors_agree_with_lee_pomeransky(name: str) -> None:
    family = load_family(name)
    reducible = [i for i in range(len(family.propagators)) if i + 1 not in family.irreducible]
    all_sectors = {
        sum(1 << reducible[b] for b in range(len(reducible)) if mask >> b & 1)
        for mask in range(1 << len(reducible))
    }
    expected = sorted(all_sectors - zero_sectors(family))
    assert sailir.sectors(name)["nonzero_sectors"] == expected
    assert expected  # every built-in has at least one nonzero sector


# --- masters -----------------------------------------------------------------------------------


def test_automatic_masters() -> None:
    family = load_family("trianglebox")
    info = sailir.sectors("trianglebox", symmetries=False)  # no preferred basis: the engine chooses
    masters = info["masters"]
    assert len(masters) == 16 and len({tuple(m) for m in masters}) == 16
    assert all(len(m) == 7 and m[6] <= 0 for m in masters)
    sectors = [sector_of(m, family) for m in masters]
    assert set(sectors) <= set(TRIANGLEBOX_NONZERO)
    assert len(set(sectors)) == 13  # 16 masters in 13 sectors (shared/benchmark/README.md)


def test_preferred_masters_are_the_yaml_basis() -> None:
    info = sailir.sectors("trianglebox", masters=YAML_MASTERS, symmetries=False)
    assert sorted(fmt(m) for m in info["masters"]) == sorted(YAML_MASTERS)
    assert info["notes"] == []
    # reduce() uses the family's own basis by default
    result = sailir.reduce(["I[1,1,1,1,1,0,0]"], "trianglebox", check=False, symmetries=False)
    assert sorted(fmt(m) for m in result["masters"]) == sorted(YAML_MASTERS)
    assert result["reductions"]["I[1,1,1,1,1,0,0]"] == {"I[1,1,1,1,1,0,0]": 1}


# --- the easy benchmark integrals --------------------------------------------------------------


@pytest.fixture(scope="module")
def easy() -> dict:
    return sailir.reduce(EASY, "trianglebox", check=True, symmetries=False)  # the published basis


def test_easy_integrals_reduce_onto_the_sixteen_masters(easy: dict) -> None:
    assert easy["warnings"] == []
    assert easy["check_prime"] == SECOND_PRIME
    assert easy["prime"] == sailir.DEFAULT_PRIME
    assert sorted(fmt(m) for m in easy["masters"]) == sorted(YAML_MASTERS)
    for integral in EASY:
        coefficients = easy["reductions"][integral]
        assert set(coefficients) <= set(YAML_MASTERS)
        assert len(coefficients) == 16  # generic top-sector integrals need every master
        assert all(0 < c < easy["prime"] for c in coefficients.values())


def test_easy_integrals_do_not_depend_on_seed_bounds(easy: dict) -> None:
    wider = sailir.reduce(EASY, "trianglebox", check=True, r_extra=1, s_extra=1, symmetries=False)
    assert wider["warnings"] == []
    assert wider["stats"]["seeds"] > easy["stats"]["seeds"]
    assert wider["reductions"] == easy["reductions"]


def test_second_point_and_prime_keep_the_zero_pattern(easy: dict) -> None:
    other = sailir.reduce(
        EASY, "trianglebox", prime=SECOND_PRIME, point=point_text(OTHER_POINT), check=True, symmetries=False
    )
    assert other["warnings"] == []
    assert other["prime"] == SECOND_PRIME
    assert other["point"] == {"d": "37/3", "m1": 1, "m2": "5/7", "m3": -11}
    for integral in EASY:
        assert set(other["reductions"][integral]) == set(easy["reductions"][integral])
        assert other["reductions"][integral] != easy["reductions"][integral]


# --- reductions satisfy hand-evaluated IBP/LI equations ----------------------------------------


@pytest.fixture(scope="module")
def templates() -> tuple[Family, list[Template]]:
    family = load_family("trianglebox")
    return family, derive_identities(family)


def modular(value: Fraction, prime: int) -> int:
    return value.numerator * pow(value.denominator, -1, prime) % prime


def equation_at(
    family: Family, template: Template, seed: tuple[int, ...], point: dict[str, Fraction]
) -> dict[tuple[int, ...], Fraction]:
    """{integral powers: exact coefficient} of `template` at `seed`, zero terms dropped."""
    symbols = coefficient_symbols(family)
    names = [f"a{k}" for k in range(1, len(seed) + 1)] + ["d", *family.invariants]
    assert [str(s) for s in symbols] == names
    values = [Fraction(a) for a in seed] + [point[name] for name in names[len(seed) :]]
    subs = {s: sympy.Rational(v.numerator, v.denominator) for s, v in zip(symbols, values, strict=True)}
    out: dict[tuple[int, ...], Fraction] = {}
    for shift, coefficient in template.terms:
        value = sympy.Rational(coefficient.subs(subs))
        if value != 0:
            powers = tuple(a + s for a, s in zip(seed, shift, strict=True))
            out[powers] = Fraction(int(value.p), int(value.q))
    return out


@pytest.mark.parametrize(
    ("seed", "prime", "point"),
    [
        ((1, 1, 1, 1, 1, 1, -1), sailir.DEFAULT_PRIME, POINT),
        ((2, 1, 1, 2, 1, 1, -2), sailir.DEFAULT_PRIME, POINT),
        ((1, 2, 1, 1, 1, 2, -1), SECOND_PRIME, OTHER_POINT),
    ],
)
def test_reductions_satisfy_the_identities(
    templates: tuple[Family, list[Template]],
    seed: tuple[int, ...],
    prime: int,
    point: dict[str, Fraction],
) -> None:
    family, all_templates = templates
    assert len(all_templates) == 9
    equations = [equation_at(family, t, seed, point) for t in all_templates]
    integrals = sorted({powers for eq in equations for powers in eq})
    assert all(p[6] <= 0 for p in integrals)
    result = sailir.reduce(
        [fmt(p) for p in integrals], "trianglebox", prime=prime, point=point_text(point), check=False
    )
    assert result["warnings"] == []
    reductions = result["reductions"]
    masters = [fmt(m) for m in result["masters"]]
    top = fmt(seed)
    for template, equation in zip(all_templates, equations, strict=True):
        assert equation, f"{template.labels}: empty equation"
        total = dict.fromkeys(masters, 0)
        for powers, coefficient in equation.items():
            for master, value in reductions[fmt(powers)].items():
                total[master] = (total[master] + modular(coefficient, prime) * value) % prime
        assert total == dict.fromkeys(masters, 0), f"{template.kind} {template.labels} at {top}"
        # The check is not vacuous: changing one coefficient that multiplies a nonzero reduction
        # breaks the equation.
        powers = next(p for p in equation if reductions[fmt(p)])
        for master, value in reductions[fmt(powers)].items():
            total[master] = (total[master] + modular(equation[powers], prime) * value) % prime
        assert any(total.values())
