"""`sailir-reduce --method learned`: results checked against the Laporta reducer, reduction paths
replayed at another prime and point, and the exit codes of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")

BIN = Path(sys.executable).parent
REDUCE = BIN / "sailir-reduce"
SAILIR = BIN / "sailir"
# One job for the shipped policy (no fallback), so the test stays fast.
INTEGRAL = "I[1,1,0,1,1,1,-1]"
POLICY = Path(__file__).resolve().parents[2] / "python/sailir/data/policies/trianglebox.onnx"
OTHER_PRIME = "9223372036854775549"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "SAILIR_CACHE": str(tmp_path_factory.mktemp("cache") / "families")}


def run(args: list[str], env: dict[str, str], program: Path = REDUCE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program), "--quiet", *args] if program == REDUCE else [str(program), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def reduce(args: list[str], env: dict[str, str], program: Path = REDUCE) -> dict[str, Any]:
    proc = run(args, env, program)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_learned_agrees_with_laporta_and_verifies(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "path.txt"
    learned = reduce(["--method", "learned", "--verify", "--save-path", str(path), INTEGRAL], env)
    laporta = reduce(["--method", "laporta", INTEGRAL], env)
    assert learned["method"] == "learned" and learned["verified"] is True
    assert learned["masters"] == laporta["masters"] and len(learned["masters"]) == 15
    assert learned["reductions"] == laporta["reductions"]
    assert learned["reductions"][INTEGRAL], "a nonzero reduction"
    stats = learned["stats"]
    assert stats["jobs"] >= 1 and stats["fallbacks"] == 0 and stats["failed_jobs"] == 0
    assert stats["beam_steps"] >= stats["path_steps"] >= 1 and stats["policy_calls"] >= 1
    assert learned["check_prime"] is not None and learned["warnings"] == []
    # The saved recording: the path's equations that the result needs (docs/recording.md).
    text = path.read_text().splitlines()
    assert text[0] == "sailir-recording 2" and text[2] == "method learned"
    rows = int(next(line for line in text if line.startswith("rows ")).split()[1])
    assert 1 <= rows <= stats["path_steps"]


def test_path_replays_at_another_prime_and_point(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "path.txt"
    reduce(["--method", "learned", "--no-check", "--save-path", str(path), INTEGRAL], env)
    for extra in (["--prime", OTHER_PRIME], ["--point", "d=37,m2=29,m3=53"]):
        replayed = reduce(["--replay", str(path), *extra], env)
        reference = reduce(["--method", "laporta", "--no-check", *extra, INTEGRAL], env)
        assert replayed["method"] == "replay"
        assert replayed["reductions"] == reference["reductions"]
        assert replayed["prime"] == reference["prime"] and replayed["point"] == reference["point"]


def test_python_front_end_runs_the_native_learned_reduction(env: dict[str, str]) -> None:
    native = reduce(["--method", "learned", "--no-check", INTEGRAL], env)
    proc = run(["reduce", "--method", "learned", "--no-check", "--quiet", INTEGRAL], env, program=SAILIR)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["reductions"] == native["reductions"]


def bad(args: list[str], env: dict[str, str], code: int, *expected: str) -> None:
    proc = run(args, env)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stdout == "" and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("sailir-reduce: error: ")
    for piece in expected:
        assert piece in proc.stderr, proc.stderr


def test_policy_for_another_family(env: dict[str, str], tmp_path: Path) -> None:
    model = onnx.load(str(POLICY))
    for prop in model.metadata_props:
        if prop.key == "sailir.family_hash":
            prop.value = "0" * len(prop.value)
    other = tmp_path / "other.onnx"
    onnx.save(model, str(other))
    bad(["--method", "learned", "--policy", str(other), INTEGRAL], env, 9, "family")


def test_corrupt_policy_file(env: dict[str, str], tmp_path: Path) -> None:
    data = POLICY.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 3])
    bad(["--method", "learned", "--policy", str(cut), INTEGRAL], env, 8, "cut.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all\n" * 10)
    bad(["--method", "learned", "--policy", str(junk), INTEGRAL], env, 8, "junk.onnx")


def test_bad_input_codes_with_the_learned_method(env: dict[str, str], tmp_path: Path) -> None:
    learned = ["--method", "learned"]
    bad([*learned, "J(1,1,0,1,1,1,-1)"], env, 5, "J(1,1,0,1,1,1,-1)")
    bad([*learned, "I[1,1,0,1,1,1]"], env, 5, "6 powers")
    bad([*learned, "--prime", "9223372036854775781", INTEGRAL], env, 6, "not a prime")
    bad([*learned, "--masters", str(tmp_path / "none.txt"), INTEGRAL], env, 7, "none.txt")
    bad([*learned, "--replay", str(tmp_path / "none.path")], env, 7, "none.path")
    garbage = tmp_path / "garbage.path"
    garbage.write_text("sailir-path 2\nfamily trianglebox 0123\n")
    bad(["--replay", str(garbage)], env, 2, "line 2", "family")


def test_python_api_learned_reduction() -> None:
    import sailir

    learned = sailir.reduce([INTEGRAL], "trianglebox", method="learned", verify=True, threads=1)
    laporta = sailir.reduce([INTEGRAL], "trianglebox")
    assert learned["method"] == "learned" and learned["verified"] is True
    assert learned["reductions"] == laporta["reductions"]
    with pytest.raises(ValueError, match="family"):
        sailir.reduce(["I[1,1]"], "bubble", method="learned", policy=POLICY)
