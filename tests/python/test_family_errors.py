"""Every invalid family is rejected with a one-line FamilyError naming the problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sailir.errors import FamilyError
from sailir.family import load_family

BUILTIN = Path(__file__).resolve().parents[2] / "python/sailir/data/families/trianglebox.yaml"
BASE: dict[str, Any] = yaml.safe_load(BUILTIN.read_text())


def _error(
    tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None, text: str | None = None
) -> str:
    data = copy.deepcopy(BASE)
    if change is not None:
        change(data)
    path = tmp_path / "family.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(data))
    with pytest.raises(FamilyError) as info:
        load_family(str(path))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_malformed_yaml(tmp_path: Path) -> None:
    message = _error(tmp_path, text="name: trianglebox\nloop_momenta: [k1, k2\npropagators: []\n")
    assert message.startswith(f"family file {tmp_path / 'family.yaml'}: malformed YAML: ")
    assert "line" in message


def test_incomplete_basis(tmp_path: Path) -> None:
    def drop_isp(d: dict[str, Any]) -> None:
        d["propagators"].pop()
        del d["irreducible"]
        d["masters"] = []

    assert _error(tmp_path, drop_isp) == (
        "propagator basis is incomplete: 6 propagators (with irreducible numerators) for 7 scalar products "
        "involving loop momenta (k1.k1, k1.k2, k2.k2, k1.p1, k1.p3, k2.p1, k2.p3)"
    )


def test_too_many_propagators(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["propagators"].append(["k1-p1", 0]))
    assert message.startswith("propagator basis has too many propagators: 8 propagators")


def test_dependent_basis(tmp_path: Path) -> None:
    # (k1-k2)^2 = 2 D1 + 2 D2 - D3
    message = _error(tmp_path, lambda d: d["propagators"].__setitem__(6, ["k1-k2", 0]))
    assert message == "propagator basis is linearly dependent: D7 is a combination of the others"


def test_inconsistent_kinematics(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["kinematics"]["scalarproduct_rules"].append([["p1", "p3"], "m2"]))
    assert message.startswith("inconsistent kinematics: scalarproduct rule 4 ([p1, p3] = m2)")


def test_undetermined_scalar_product(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["kinematics"]["scalarproduct_rules"].pop(1))
    assert message == "scalar product p1.p3 is not fixed by scalarproduct_rules"


def test_unknown_family() -> None:
    with pytest.raises(FamilyError) as info:
        load_family("xyz")
    assert str(info.value) == (
        "unknown family 'xyz': not a built-in (bubble, prop2l, tadpole, trianglebox) "
        "nor a file or Kira config directory"
    )


def test_unknown_symbol_in_momentum(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["propagators"].__setitem__(3, ["k1+q", 0]))
    assert message == "unknown symbol 'q' in propagator 4 momentum 'k1+q'"


def test_unknown_symbol_in_mass(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["propagators"].__setitem__(0, ["k1", "mt^2"]))
    assert message == "unknown symbol 'mt' in propagator 1 mass 'mt^2'"


def test_propagator_neither_squared_nor_linear(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["propagators"].__setitem__(0, ["k1*k2*k1", 0]))
    assert message == (
        "propagator 1 momentum 'k1*k2*k1' is neither a momentum (squared) "
        "nor a sum of scalar products of momenta"
    )


def test_bad_point_value(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["point"].__setitem__("m2", 0.5))
    assert message == "point: value of m2 is not a rational number: 0.5"


def test_bad_point_symbol(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["point"].__setitem__("s", 3))
    assert message == "point: unknown symbol 's' (expected d, m1, m2, m3)"


def test_point_one_symbol_not_one(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["point"].__setitem__("m1", 2))
    assert message == "point: m1 is symbol_to_replace_by_one, so its value must be 1, not 2"


def test_point_missing_value(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["point"].pop("m3"))
    assert message == "point: no value for m3"


def test_irreducible_out_of_range(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d.__setitem__("irreducible", [8]))
    assert message == "irreducible index 8 is out of range 1..7"


def test_one_symbol_not_an_invariant(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["kinematics"].__setitem__("symbol_to_replace_by_one", "s"))
    assert message == "symbol_to_replace_by_one 's' is not a kinematic invariant"


def test_missing_key(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d.pop("loop_momenta"))
    assert message.endswith("missing key 'loop_momenta'")


def test_unknown_key(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d.__setitem__("propagator", []))
    assert "unknown key 'propagator'" in message


def test_master_wrong_length(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["masters"].append("I[1,1,1]"))
    assert message == "preferred master 'I[1,1,1]' has 3 powers, expected 7"


def test_master_not_integer(tmp_path: Path) -> None:
    message = _error(tmp_path, lambda d: d["masters"].append("I[1,1,1,1,1,1,x]"))
    assert message.startswith("preferred master 'I[1,1,1,1,1,1,x]': expected I[n1,...,n7]")


def test_kira_unknown_propagator_form(tmp_path: Path) -> None:
    (tmp_path / "integralfamilies.yaml").write_text(
        "integralfamilies:\n  - name: f\n    loop_momenta: [k]\n    propagators:\n"
        "      - [k, 0]\n      - {linear: [[k, p], 0]}\n"
    )
    (tmp_path / "kinematics.yaml").write_text("kinematics:\n  incoming_momenta: [p]\n")
    with pytest.raises(FamilyError) as info:
        load_family(str(tmp_path))
    assert str(info.value) == (
        "integral family 'f': propagator 2 {linear: [[k, p], 0]} is not supported "
        "(only [momentum, mass_squared] and {bilinear: [[a, b], mass]})"
    )


def test_kira_bilinear_propagator_loads(tmp_path: Path) -> None:
    (tmp_path / "integralfamilies.yaml").write_text(
        "integralfamilies:\n  - name: f\n    loop_momenta: [k]\n    propagators:\n"
        "      - [k, 0]\n      - {bilinear: [[2*k, p], w]}\n"
    )
    (tmp_path / "kinematics.yaml").write_text(
        "kinematics:\n  incoming_momenta: [p]\n  kinematic_invariants: [[w, 1]]\n"
        "  scalarproduct_rules: [[[p, p], 1]]\n"
    )
    family = load_family(str(tmp_path))
    assert family.propagators[1] == ("(2*k)*(p)", "w")


def test_kira_several_families_need_a_selection(tmp_path: Path) -> None:
    (tmp_path / "integralfamilies.yaml").write_text(
        "integralfamilies:\n  - {name: a, loop_momenta: [k], propagators: [[k, m]]}\n"
        "  - {name: b, loop_momenta: [k], propagators: [[k, m]]}\n"
    )
    (tmp_path / "kinematics.yaml").write_text("kinematics:\n  kinematic_invariants: [[m, 2]]\n")
    with pytest.raises(FamilyError, match=r"defines several integral families \(a, b\)"):
        load_family(str(tmp_path))
    with pytest.raises(FamilyError, match=r"has no integral family 'c' \(it has: a, b\)"):
        load_family(f"{tmp_path}:c")
    assert load_family(f"{tmp_path}:b").name == "b"


def test_kira_cut_propagators_unsupported(tmp_path: Path) -> None:
    (tmp_path / "integralfamilies.yaml").write_text(
        "integralfamilies:\n  - {name: a, loop_momenta: [k], propagators: [[k, m]], cut_propagators: [1]}\n"
    )
    (tmp_path / "kinematics.yaml").write_text("kinematics:\n  kinematic_invariants: [[m, 2]]\n")
    with pytest.raises(FamilyError, match="cut_propagators are not supported"):
        load_family(str(tmp_path))


@pytest.mark.parametrize("rule", ["m2**(10**10)", "((m2+m3)**32)**32", "10**10**10"])
def test_expression_degree_is_bounded(tmp_path: Path, rule: str) -> None:
    # Refused before sympy computes anything: these used to run until killed.
    message = _error(tmp_path, lambda d: d["kinematics"]["scalarproduct_rules"][1].__setitem__(1, rule))
    expected = f"scalarproduct rule 2 value '{rule}' has degree above 64 (numbers count by their exponents)"
    assert message == expected


def test_expression_length_is_bounded(tmp_path: Path) -> None:
    long_rule = "+".join(["m2"] * 2000)
    message = _error(tmp_path, lambda d: d["kinematics"]["scalarproduct_rules"][1].__setitem__(1, long_rule))
    assert message.endswith("is longer than 4000 characters")
