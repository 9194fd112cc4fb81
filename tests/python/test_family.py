"""Loading families: built-ins, sailir YAML files and Kira config directories."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import sympy
import yaml
from kira_trianglebox import KIRA_FAMILIES, KIRA_KINEMATICS

from sailir.family import Family, builtin_names, family_hash, load_family
from sailir.identities import derive_identities

# The project's copy of shared/benchmark/masters.txt.
BENCHMARK_MASTERS = Path(__file__).resolve().parents[2] / "tools" / "benchmark" / "masters.txt"


@pytest.fixture(scope="module")
def trianglebox() -> Family:
    return load_family("trianglebox")


def _kira_dir(path: Path, families: str = KIRA_FAMILIES, kinematics: str = KIRA_KINEMATICS) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "integralfamilies.yaml").write_text(families)
    (path / "kinematics.yaml").write_text(kinematics)
    return path


def test_builtin_names() -> None:
    assert builtin_names() == ["bubble", "prop2l", "tadpole", "trianglebox"]


def test_trianglebox_kinematics(trianglebox: Family) -> None:
    assert trianglebox.loop_momenta == ("k1", "k2")
    assert trianglebox.external_momenta == ("p1", "p2", "p3")
    assert trianglebox.independent_externals == ("p1", "p3")
    assert trianglebox.momentum_conservation == (("p2", "-p1 + p3"),)
    m1, m2, m3 = sympy.symbols("m1 m2 m3")
    values = {
        (a, b): sympy.sympify(v, locals={"m1": m1, "m2": m2, "m3": m3})
        for a, b, v in trianglebox.scalar_products
    }
    assert values == {("p1", "p1"): m1, ("p1", "p3"): (m1 + m3 - m2) / 2, ("p3", "p3"): m3}
    assert trianglebox.invariants == ("m1", "m2", "m3")
    assert trianglebox.symbol_to_replace_by_one == "m1"
    assert trianglebox.irreducible == (7,)
    assert len(trianglebox.propagators) == 7
    assert trianglebox.propagators[6] == ("k1+p3", "0")


def test_trianglebox_point_and_masters(trianglebox: Family) -> None:
    assert trianglebox.point == {"d": Fraction(41), "m1": Fraction(1), "m2": Fraction(31), "m3": Fraction(47)}
    assert len(trianglebox.masters) == 16
    assert trianglebox.masters[0] == (0, 1, 1, 1, 0, 0, 0)
    assert all(len(m) == 7 and m[6] <= 0 for m in trianglebox.masters)


def test_trianglebox_masters_are_the_benchmark_basis(trianglebox: Family) -> None:
    lines = [ln.strip() for ln in BENCHMARK_MASTERS.read_text().splitlines() if ln.strip()]
    assert ["I[" + ",".join(map(str, m)) + "]" for m in trianglebox.masters] == lines


def test_small_builtins() -> None:
    tadpole = load_family("tadpole")
    assert tadpole.independent_externals == () and tadpole.point == {"d": 41, "msq": 7}
    bubble = load_family("bubble")
    assert bubble.independent_externals == ("p",) and bubble.scalar_products == (("p", "p", "s"),)
    prop2l = load_family("prop2l")
    assert len(prop2l.propagators) == 5 and prop2l.irreducible == () and prop2l.point["s"] == 13


def test_hash_ignores_name_point_and_masters(tmp_path: Path, trianglebox: Family) -> None:
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "python/sailir/data/families/trianglebox.yaml").read_text()
    )
    data.update(name="renamed", point={"d": "7/3", "m2": 5, "m3": -2})
    del data["masters"]
    path = tmp_path / "renamed.yaml"
    path.write_text(yaml.safe_dump(data))
    other = load_family(str(path))
    assert other.name == "renamed" and other.point["d"] == Fraction(7, 3) and other.point["m1"] == 1
    assert family_hash(other) == family_hash(trianglebox)
    assert len(family_hash(trianglebox)) == 64


def test_hash_changes_with_the_definition(tmp_path: Path, trianglebox: Family) -> None:
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "python/sailir/data/families/trianglebox.yaml").read_text()
    )
    data["propagators"][0] = ["k1", "m2"]
    path = tmp_path / "massive.yaml"
    path.write_text(yaml.safe_dump(data))
    assert family_hash(load_family(str(path))) != family_hash(trianglebox)


def test_independent_externals_follow_propagator_order(tmp_path: Path) -> None:
    # Same family written with p2 in the propagators: p1, p2 become the independent pair.
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "python/sailir/data/families/trianglebox.yaml").read_text()
    )
    data["propagators"][4] = ["k2+p1+p2", 0]
    data["propagators"][6] = ["k1+p1+p2", 0]
    path = tmp_path / "tb12.yaml"
    path.write_text(yaml.safe_dump(data))
    family = load_family(str(path))
    assert family.independent_externals == ("p1", "p2")
    assert family.momentum_conservation == (("p3", "p1 + p2"),)


def test_kira_directory_matches_builtin(tmp_path: Path, trianglebox: Family) -> None:
    kira = load_family(str(_kira_dir(tmp_path / "config")))
    assert kira.name == "trianglebox"
    assert kira.irreducible == (7,)
    assert kira.point == {} and kira.masters == []
    assert family_hash(kira) == family_hash(trianglebox)
    ours = derive_identities(trianglebox)
    theirs = derive_identities(kira)
    assert [(t.kind, t.labels, t.terms) for t in theirs] == [(t.kind, t.labels, t.terms) for t in ours]


@pytest.mark.parametrize("sector", ['"b1111110"', "[[1,1,1,1,1,1,0]]", '"[1,1,1,1,1,1,0]"'])
def test_kira_top_level_sector_notations(tmp_path: Path, sector: str) -> None:
    families = KIRA_FAMILIES.replace("top_level_sectors: [63]", f"top_level_sectors: [{sector}]")
    if sector.startswith("[["):
        families = KIRA_FAMILIES.replace("top_level_sectors: [63]", f"top_level_sectors: {sector}")
    assert load_family(str(_kira_dir(tmp_path / "c", families))).irreducible == (7,)


def test_kira_without_top_level_sectors_has_no_irreducible(tmp_path: Path) -> None:
    families = KIRA_FAMILIES.replace("    top_level_sectors: [63]\n", "")
    assert load_family(str(_kira_dir(tmp_path / "c", families))).irreducible == ()


def test_kira_selects_one_of_several_families(tmp_path: Path) -> None:
    second = KIRA_FAMILIES.split("\n", 1)[1].replace('"trianglebox"', '"other"')
    directory = _kira_dir(tmp_path / "c", KIRA_FAMILIES + second)
    assert load_family(f"{directory}:other").name == "other"
    assert load_family(f"{directory}:trianglebox").name == "trianglebox"
