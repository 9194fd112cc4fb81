"""The command line: `sailir-reduce` (native) and `sailir reduce`, run as subprocesses.

Every subprocess gets SAILIR_CACHE in a temporary folder, so compiled families never land in the
user's cache.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kira_trianglebox import KIRA_FAMILIES, KIRA_KINEMATICS

BIN = Path(sys.executable).parent
REDUCE = BIN / "sailir-reduce"
SAILIR = BIN / "sailir"
FAMILIES = Path(__file__).resolve().parents[2] / "python/sailir/data/families"
FAMILY_YAML = FAMILIES / "trianglebox.yaml"
FAMILY_DATA: dict[str, Any] = yaml.safe_load(FAMILY_YAML.read_text())
YAML_MASTERS: list[str] = FAMILY_DATA["masters"]

DEFAULT_PRIME = 9223372036854775783
OTHER_PRIME = 9223372036854775643
POINT = "d=41,m1=1,m2=31,m3=47"
INTEGRAL = "I[1,1,2,1,1,1,-4]"
BASE_ARGS = ["--family", "trianglebox", "--point", POINT]
MAPPED = "I[1,0,1,0,0,1,0]"  # the published basis' master that a sector symmetry relates to another


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "SAILIR_CACHE": str(tmp_path_factory.mktemp("cache") / "families")}


def run(
    args: list[str], env: dict[str, str], cwd: Path | None = None, program: Path = REDUCE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def ok(args: list[str], env: dict[str, str], program: Path = REDUCE) -> str:
    proc = run(args, env, program=program)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def reduce_json(args: list[str], env: dict[str, str], program: Path = REDUCE) -> dict[str, Any]:
    return json.loads(ok(args, env, program))


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """The result without its timing and memory figures."""
    out = copy.deepcopy(result)
    del out["stats"]["seconds"]
    del out["stats"]["peak_rss_mb"]
    return out


def write_masters(path: Path, masters: list[str]) -> Path:
    path.write_text("".join(m + "\n" for m in masters))
    return path


def fmt(powers: list[int]) -> str:
    return "I[" + ",".join(map(str, powers)) + "]"


@pytest.fixture(scope="module")
def base(env: dict[str, str]) -> dict[str, Any]:
    return reduce_json([*BASE_ARGS, INTEGRAL], env)


# --- the output contract ------------------------------------------------------------------------


def test_help(env: dict[str, str]) -> None:
    proc = run(["--help"], env)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: sailir-reduce") and proc.stderr == ""


def test_json_contract(base: dict[str, Any]) -> None:
    assert {"family", "prime", "point", "masters", "reductions"} <= set(base)
    assert base["family"] == "trianglebox"
    assert base["prime"] == DEFAULT_PRIME
    assert base["check_prime"] == OTHER_PRIME
    assert base["point"] == {"d": 41, "m1": 1, "m2": 31, "m3": 47}
    assert base["warnings"] == []
    masters = base["masters"]
    assert len(masters) == 15 and all(isinstance(m, list) and len(m) == 7 for m in masters)
    assert all(isinstance(a, int) for m in masters for a in m)
    # The YAML's basis but one: I[1,0,1,0,0,1,0] is the image of I[0,1,1,1,0,0,0] under the
    # relabelling k1 -> -k2, k2 -> -k1 (sector symmetries); the engine lists them in its own order.
    assert set(YAML_MASTERS) - {fmt(m) for m in masters} == {MAPPED}
    assert {fmt(m) for m in masters} < set(YAML_MASTERS)
    assert list(base["reductions"]) == [INTEGRAL]
    coefficients = base["reductions"][INTEGRAL]
    assert set(coefficients) == set(YAML_MASTERS) - {MAPPED}
    for value in coefficients.values():
        assert isinstance(value, int) and 0 <= value < base["prime"]


_MMA_RULE = re.compile(r"^\s*(\w+)\[([-\d,]+)\] -> (.*?),?$")
_FORM_RULE = re.compile(r"^id (\w+)\(([-\d,]+)\) = (.*);$")
_MMA_TERM = re.compile(r"^(\d+)\*(\w+)\[([-\d,]+)\]$")
_FORM_TERM = re.compile(r"^(\d+)\*(\w+)\(([-\d,]+)\)$")


def parse_symbolic(text: str, form: bool) -> tuple[str, dict[str, dict[str, int]]]:
    """(header comment, {integral: {master: coefficient}}) of Mathematica or FORM output."""
    lines = text.splitlines()
    header, body = lines[0], lines[1:]
    if not form:
        assert body[0] == "{" and body[-1] == "}"
        body = body[1:-1]
    rule, term = (_FORM_RULE, _FORM_TERM) if form else (_MMA_RULE, _MMA_TERM)
    out: dict[str, dict[str, int]] = {}
    for line in body:
        match = rule.match(line)
        assert match, line
        head, powers, rhs = match.groups()
        assert head == "trianglebox"
        coefficients: dict[str, int] = {}
        if rhs != "0":
            for piece in rhs.split(" + "):
                found = term.match(piece)
                assert found, piece
                value, name, master = found.groups()
                assert name == "trianglebox"
                coefficients[f"I[{master}]"] = int(value)
        out[f"I[{powers}]"] = coefficients
    return header, out


@pytest.mark.parametrize("form", [False, True], ids=["mathematica", "form"])
def test_symbolic_formats_match_json(env: dict[str, str], form: bool) -> None:
    integrals = [INTEGRAL, "I[1,1,0,0,0,0,0]", "I[0,1,1,1,0,0,0]"]
    expected = reduce_json([*BASE_ARGS, "--no-check", *integrals], env)
    text = ok([*BASE_ARGS, "--no-check", "--format", "form" if form else "mathematica", *integrals], env)
    header, parsed = parse_symbolic(text, form)
    assert header.startswith("* " if form else "(* ")
    assert str(DEFAULT_PRIME) in header and expected["family_hash"] in header
    assert parsed == expected["reductions"]
    assert parsed["I[1,1,0,0,0,0,0]"] == {}  # a zero sector
    assert parsed["I[0,1,1,1,0,0,0]"] == {"I[0,1,1,1,0,0,0]": 1}  # a master


def test_output_file(env: dict[str, str], base: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    proc = run([*BASE_ARGS, "--output", str(target), INTEGRAL], env)
    assert proc.returncode == 0 and proc.stdout == ""
    assert comparable(json.loads(target.read_text())) == comparable(base)
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_masters_file(env: dict[str, str], base: dict[str, Any], tmp_path: Path) -> None:
    masters = write_masters(tmp_path / "masters.txt", YAML_MASTERS)
    result = reduce_json([*BASE_ARGS, "--masters", str(masters), INTEGRAL], env)
    # A basis the user chose that holds a master symmetries relate: expressed through the others.
    (warning,) = result["warnings"]
    assert MAPPED in warning and "--no-symmetries" in warning
    assert comparable({**result, "warnings": []}) == comparable(base)


def test_integrals_file(env: dict[str, str], tmp_path: Path) -> None:
    integrals = tmp_path / "integrals.txt"
    integrals.write_text(f"# a comment\n\n  {INTEGRAL}  \nI[0,1,1,1,0,0,0]\n")
    result = reduce_json([*BASE_ARGS, "--no-check", "--integrals", str(integrals)], env)
    direct = reduce_json([*BASE_ARGS, "--no-check", INTEGRAL, "I[0,1,1,1,0,0,0]"], env)
    assert list(result["reductions"]) == [INTEGRAL, "I[0,1,1,1,0,0,0]"]
    assert result["reductions"] == direct["reductions"]


def test_other_prime(env: dict[str, str], base: dict[str, Any]) -> None:
    result = reduce_json([*BASE_ARGS, "--prime", str(OTHER_PRIME), INTEGRAL], env)
    assert result["prime"] == OTHER_PRIME and result["check_prime"] not in (None, OTHER_PRIME)
    ours, theirs = result["reductions"][INTEGRAL], base["reductions"][INTEGRAL]
    assert set(ours) == set(theirs)
    assert all(0 <= v < OTHER_PRIME for v in ours.values())
    assert all(ours[m] != theirs[m] for m in ours)


def test_sailir_reduce_is_the_native_command(env: dict[str, str], base: dict[str, Any]) -> None:
    result = reduce_json(["reduce", *BASE_ARGS, INTEGRAL], env, program=SAILIR)
    assert comparable(result) == comparable(base)


def test_no_check(env: dict[str, str], base: dict[str, Any]) -> None:
    result = reduce_json([*BASE_ARGS, "--no-check", INTEGRAL], env)
    assert result["check_prime"] is None
    assert result["reductions"] == base["reductions"]


def test_incomplete_masters_file_gets_a_master_added(
    env: dict[str, str], base: dict[str, Any], tmp_path: Path
) -> None:
    dropped = YAML_MASTERS[7]
    masters = write_masters(tmp_path / "masters.txt", YAML_MASTERS[:7] + YAML_MASTERS[8:])
    proc = run([*BASE_ARGS, "--no-symmetries", "--masters", str(masters), INTEGRAL], env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result["warnings"]) == 1
    (warning,) = result["warnings"]
    assert "added" in warning and re.search(r"I\[[-\d,]+\]", warning)
    assert proc.stderr == f"sailir-reduce: warning: {warning}\n"
    assert len(result["masters"]) == 16
    # The engine happens to add back the very master that was left out.
    assert dropped in warning
    assert sorted(fmt(m) for m in result["masters"]) == sorted(YAML_MASTERS)
    plain = reduce_json([*BASE_ARGS, "--no-symmetries", INTEGRAL], env)
    assert result["reductions"] == plain["reductions"]


# --- bad input: exit status 2 (or the code of its kind), nothing on stdout, one line on stderr ---

BAD_INTEGRAL, BAD_PRIME, MISSING_FILE = 5, 6, 7


def bad(
    args: list[str],
    env: dict[str, str],
    *expected: str,
    cwd: Path | None = None,
    program: Path = REDUCE,
    code: int = 2,
) -> str:
    proc = run(args, env, cwd=cwd, program=program)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    prefix = "sailir-reduce: error: "
    assert proc.stderr.startswith(prefix) and proc.stderr.endswith("\n")
    assert proc.stderr.count("\n") == 1, proc.stderr
    message = proc.stderr[len(prefix) : -1]
    for piece in expected:
        assert piece in message, message
    return message


def family_file(tmp_path: Path, change: Any) -> Path:
    data = copy.deepcopy(FAMILY_DATA)
    change(data)
    path = tmp_path / "family.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_malformed_yaml(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nloop_momenta: [k1, k2\npropagators: []\n")
    bad(["--family", str(path), INTEGRAL], env, "malformed YAML", "broken.yaml")


def test_incomplete_basis(env: dict[str, str], tmp_path: Path) -> None:
    def drop(d: dict[str, Any]) -> None:
        del d["propagators"][5]  # (k2-p1)^2; the numerator becomes propagator 6
        d["irreducible"] = [6]
        d["masters"] = []

    path = family_file(tmp_path, drop)
    bad(["--family", str(path), "I[1,1,1,1,1,0]"], env, "propagator basis is incomplete")


def test_dependent_basis(env: dict[str, str], tmp_path: Path) -> None:
    def duplicate(d: dict[str, Any]) -> None:
        d["propagators"][5] = d["propagators"][4]
        del d["masters"]

    path = family_file(tmp_path, duplicate)
    bad(["--family", str(path), INTEGRAL], env, "linearly dependent", "D6")


def test_inconsistent_kinematics(env: dict[str, str], tmp_path: Path) -> None:
    def contradict(d: dict[str, Any]) -> None:
        d["kinematics"]["scalarproduct_rules"].append([["p1", "p1"], "m2"])
        del d["masters"]

    path = family_file(tmp_path, contradict)
    bad(["--family", str(path), INTEGRAL], env, "inconsistent kinematics", "contradicts")


def test_integral_of_wrong_length(env: dict[str, str]) -> None:
    bad([*BASE_ARGS, "I[1,1,1,1,1,1]"], env, "I[1,1,1,1,1,1]", "6 powers", "7 propagators", code=BAD_INTEGRAL)


def test_integral_with_non_integer_power(env: dict[str, str]) -> None:
    bad(
        [*BASE_ARGS, "I[2,1,2,1,2,2,1.5]"],
        env,
        "I[2,1,2,1,2,2,1.5]",
        "'1.5' is not an integer",
        code=BAD_INTEGRAL,
    )


def test_positive_power_on_irreducible_numerator(env: dict[str, str]) -> None:
    bad(
        [*BASE_ARGS, "I[1,1,1,1,1,1,1]"],
        env,
        "I[1,1,1,1,1,1,1]",
        "propagator 7",
        "irreducible",
        code=BAD_INTEGRAL,
    )


def test_unknown_family(env: dict[str, str], tmp_path: Path) -> None:
    bad(["--family", "nosuchfamily", INTEGRAL], env, "unknown family 'nosuchfamily'", cwd=tmp_path)


def test_composite_modulus(env: dict[str, str]) -> None:
    assert 9223372036854775781 % 773 == 0  # 773 * 2713 * 19993 * 219979633
    bad(
        [*BASE_ARGS, "--prime", "9223372036854775781", INTEGRAL],
        env,
        "9223372036854775781",
        "not a prime",
        code=BAD_PRIME,
    )


def test_modulus_out_of_range(env: dict[str, str]) -> None:
    bad([*BASE_ARGS, "--prime", "101", INTEGRAL], env, "101", "2^16", code=BAD_PRIME)


def test_unknown_point_symbol(env: dict[str, str]) -> None:
    bad(["--point", "d=41,x=3", INTEGRAL], env, "unknown symbol 'x'")


def test_point_with_zero_denominator(env: dict[str, str]) -> None:
    bad(["--point", "d=41,m2=1/0", INTEGRAL], env, "'1/0'", "m2")


def test_point_given_twice(env: dict[str, str]) -> None:
    bad(["--point", "d=41,d=43", INTEGRAL], env, "d is given twice")


def test_point_with_empty_entry(env: dict[str, str]) -> None:
    bad(["--point", "d=41,,m2=3", INTEGRAL], env, "empty entry")


@pytest.mark.parametrize("point", ["d=4", "d=6", "m3=0"])
def test_degenerate_point(env: dict[str, str], point: str) -> None:
    """Where identity coefficients vanish the basis changes; reducing there would be wrong."""
    bad(["--point", point, INTEGRAL], env, "is degenerate", "23 and 16 at a generic point")


def test_preferred_master_with_positive_numerator_power(env: dict[str, str], tmp_path: Path) -> None:
    masters = write_masters(tmp_path / "m.txt", ["I[1,0,1,1,1,1,1]"])
    bad(["--masters", str(masters), INTEGRAL], env, "irreducible numerator", code=BAD_INTEGRAL)


def test_missing_masters_file(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nothere.txt"
    bad([*BASE_ARGS, "--masters", str(missing), INTEGRAL], env, "masters", str(missing), code=MISSING_FILE)


def test_masters_file_with_wrong_length_integral(env: dict[str, str], tmp_path: Path) -> None:
    masters = write_masters(tmp_path / "masters.txt", [*YAML_MASTERS[:15], "I[1,0,1,1,1,1]"])
    bad(
        [*BASE_ARGS, "--masters", str(masters), INTEGRAL],
        env,
        "I[1,0,1,1,1,1]",
        "6 powers",
        code=BAD_INTEGRAL,
    )


def test_reducible_preferred_master(env: dict[str, str], tmp_path: Path) -> None:
    masters = write_masters(tmp_path / "masters.txt", [*YAML_MASTERS, "I[2,1,1,1,1,1,0]"])
    bad([*BASE_ARGS, "--masters", str(masters), INTEGRAL], env, "I[2,1,1,1,1,1,0]", "not independent")


def test_preferred_master_in_zero_sector(env: dict[str, str], tmp_path: Path) -> None:
    masters = write_masters(tmp_path / "masters.txt", [*YAML_MASTERS, "I[1,1,0,0,0,0,0]"])
    bad([*BASE_ARGS, "--masters", str(masters), INTEGRAL], env, "I[1,1,0,0,0,0,0]", "zero sector")


def test_unknown_option(env: dict[str, str]) -> None:
    bad([*BASE_ARGS, "--frobnicate", INTEGRAL], env, "unknown option --frobnicate")


def test_unknown_method(env: dict[str, str]) -> None:
    bad([*BASE_ARGS, "--method", "foo", INTEGRAL], env, "unknown method 'foo'")


def test_unknown_format(env: dict[str, str]) -> None:
    bad([*BASE_ARGS, "--format", "latex", INTEGRAL], env, "unknown output format 'latex'")


def test_sailir_reduce_reports_bad_input_the_same_way(env: dict[str, str]) -> None:
    bad(["reduce", *BASE_ARGS, "--method", "foo", INTEGRAL], env, "unknown method 'foo'", program=SAILIR)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_family_file(env: dict[str, str], tmp_path: Path, fraction: float) -> None:
    text = (FAMILIES / "trianglebox.sfam").read_bytes()
    path = tmp_path / "truncated.sfam"
    path.write_bytes(text[: int(len(text) * fraction)])
    bad(["--family", str(path), "--point", POINT, INTEGRAL], env, "truncated.sfam")


# --- a Kira config directory --------------------------------------------------------------------


def test_kira_directory_matches_builtin(env: dict[str, str], base: dict[str, Any], tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "integralfamilies.yaml").write_text(KIRA_FAMILIES)
    (config / "kinematics.yaml").write_text(KIRA_KINEMATICS)
    masters = write_masters(tmp_path / "masters.txt", YAML_MASTERS)
    result = reduce_json(
        ["--family", str(config), "--point", POINT, "--masters", str(masters), INTEGRAL], env
    )
    assert result["family_hash"] == base["family_hash"]
    assert result["reductions"] == base["reductions"]
    assert len(result["masters"]) == len(base["masters"])
    assert len(result["warnings"]) == 1 and MAPPED in result["warnings"][0]
    # The compiled family went to SAILIR_CACHE, named by its hash.
    cache = Path(env["SAILIR_CACHE"])
    assert (cache / f"{base['family_hash']}.sfam").is_file()
    # A Kira directory has no numeric point: without --point the engine takes a random one and
    # records it; the project directory above config/ works too.
    result = reduce_json(["--family", str(tmp_path), "--no-check", INTEGRAL], env)
    assert set(result["point"]) == {"d", "m1", "m2", "m3"}
    assert result["point"]["m1"] == 1  # the symbol replaced by one
    assert all(isinstance(result["point"][s], str) and "/" in result["point"][s] for s in ("d", "m2", "m3"))
    assert len(result["masters"]) == len(base["masters"])


def test_reports_its_own_peak_memory(env: dict[str, str]) -> None:
    # The process's own high-water mark: positive, and never above what wait4 sees (which also
    # holds the spawning Python's, folded in at exec).
    proc = subprocess.Popen(
        [str(REDUCE), *BASE_ARGS, "--no-check", INTEGRAL], env=env, stdout=subprocess.PIPE, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    peak = json.loads(out)["stats"]["peak_rss_mb"]
    assert 0 < peak <= usage.ru_maxrss / 1024 + 0.1
