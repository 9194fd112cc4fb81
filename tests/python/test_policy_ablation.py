"""Ablation switches: ``--policy uniform`` and ``--policy random --seed S`` reduce like any policy
(the coefficients of the Laporta reducer), a seed repeats its run exactly, and the switches are
refused where they make no sense (random without a seed, a seed without random)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sailir

BIN = Path(sys.executable).parent
REDUCE = BIN / "sailir-reduce"
INTEGRAL = "I[1,1,1,1,1,1,0]"  # 60-odd one-step jobs: under a second with any policy
EXIT_BAD_INPUT = 2


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "SAILIR_CACHE": str(tmp_path_factory.mktemp("cache") / "families")}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REDUCE), "--quiet", "--threads", "1", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def reduce(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = run(args, env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def laporta(env: dict[str, str]) -> dict[str, Any]:
    return reduce(["--method", "laporta", INTEGRAL], env)


@pytest.mark.parametrize("policy", [["--policy", "uniform"], ["--policy", "random", "--seed", "5"]])
def test_baselines_give_the_laporta_coefficients(
    policy: list[str], env: dict[str, str], laporta: dict[str, Any]
) -> None:
    out = reduce(["--method", "learned", "--verify", *policy, INTEGRAL], env)
    assert out["method"] == "learned" and out["verified"] is True
    assert out["masters"] == laporta["masters"]
    assert out["reductions"] == laporta["reductions"] and out["reductions"][INTEGRAL]
    assert out["stats"]["beam_steps"] >= out["stats"]["path_steps"] >= 1


def test_a_seed_repeats_its_run(env: dict[str, str], tmp_path: Path) -> None:
    runs = []
    for i, seed in enumerate(("7", "7", "8")):
        path = tmp_path / f"path{i}.txt"
        out = reduce(
            ["--method", "learned", "--policy", "random", "--seed", seed, "--save-path", str(path), INTEGRAL],
            env,
        )
        runs.append((out["stats"], out["reductions"], path.read_text()))
    same = ("beam_steps", "path_steps", "policy_calls", "jobs", "states_expanded")
    assert all(runs[0][0][k] == runs[1][0][k] for k in same)
    assert runs[0][2] == runs[1][2], "the same seed records the same equations"
    assert runs[2][1] == runs[0][1], "another seed may take another path, to the same result"


def test_random_needs_a_seed(env: dict[str, str]) -> None:
    for args, why in (
        (["--policy", "random"], "policy 'random' needs a seed (--seed S)"),
        (["--policy", "uniform", "--seed", "3"], "a seed (--seed) is only for policy 'random'"),
        (["--seed", "3"], "a seed (--seed) is only for policy 'random'"),
        (["--policy", "random", "--seed", "-1"], "--seed expects an integer between 0 and"),
    ):
        proc = run(["--method", "learned", *args, INTEGRAL], env)
        assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
        assert proc.stdout == "" and proc.stderr.startswith(f"sailir-reduce: error: {why}")
        assert len(proc.stderr.splitlines()) == 1


def test_python_api(laporta: dict[str, Any]) -> None:
    uniform = sailir.reduce([INTEGRAL], method="learned", policy="uniform", threads=1)
    assert uniform.reductions == laporta["reductions"]
    a = sailir.reduce([INTEGRAL], method="learned", policy="random", policy_seed=2**64 - 1, threads=1)
    b = sailir.reduce([INTEGRAL], method="learned", policy="random", policy_seed=2**64 - 1, threads=1)
    assert a.reductions == laporta["reductions"]
    assert a.stats["beam_steps"] == b.stats["beam_steps"] and a.stats["path_steps"] == b.stats["path_steps"]
    with pytest.raises(ValueError, match="needs a seed"):
        sailir.reduce([INTEGRAL], method="learned", policy="random")
    with pytest.raises(ValueError, match="only for policy='random'"):
        sailir.reduce([INTEGRAL], method="learned", policy_seed=1)
    with pytest.raises(ValueError, match="between 0 and"):
        sailir.reduce([INTEGRAL], method="learned", policy="random", policy_seed=-1)


def test_policy_ranking_orders_by_scores_alone(env: dict[str, str]) -> None:
    """--ranking policy: the scores order the candidates, the weights only constrain the job. The
    coefficients are the Laporta reducer's, and the trained policy's path differs from the one
    its scores take when they only break the weight ranking's ties."""
    by_policy = reduce(["--method", "learned", "--ranking", "policy", "--verify", "I[1,1,1,1,1,1,-2]"], env)
    by_weight = reduce(["--method", "learned", "--ranking", "both", "--verify", "I[1,1,1,1,1,1,-2]"], env)
    assert by_policy["verified"] is True and by_policy["stats"]["fallbacks"] == 0
    assert by_policy["reductions"] == by_weight["reductions"]
    assert by_policy["stats"]["path_steps"] != by_weight["stats"]["path_steps"]


def test_python_takes_the_ranking() -> None:
    """sailir.reduce(ranking=...) is --ranking: the same names, the same refusal, the same paths."""
    kw: dict = {"method": "learned", "threads": 1}
    auto = sailir.reduce(["I[1,1,1,1,1,1,-2]"], **kw)
    alone = sailir.reduce(["I[1,1,1,1,1,1,-2]"], ranking="policy", **kw)
    weights = sailir.reduce(["I[1,1,1,1,1,1,-2]"], ranking="both", **kw)
    assert auto.reductions == alone.reductions == weights.reductions
    assert auto.stats["path_steps"] == alone.stats["path_steps"] != weights.stats["path_steps"]
    with pytest.raises(ValueError, match="unknown beam ranking 'sideways'"):
        sailir.reduce(["I[1,1,1,1,1,1,-2]"], ranking="sideways", **kw)
