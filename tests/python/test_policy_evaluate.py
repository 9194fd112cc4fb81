"""``sailir evaluate`` on the C++ policy runtime: it runs with torch, NumPy and onnx hidden (the
plain install), agrees with the PyTorch path where both exist, and its baselines are checked
against what they must give (uniform picks the first candidate)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from sailir.policy.evaluate import evaluate

SCRAMBLES = 20
SEED = 11

# Runs `sailir evaluate` in a fresh interpreter where importing any of these fails, as it does
# after a plain `pip install .`.
HIDDEN = ("torch", "numpy", "onnx", "onnxruntime", "tqdm")
WITHOUT_TRAIN_EXTRA = f"""
import sys
for name in {HIDDEN!r}:
    sys.modules[name] = None
from sailir.cli import main
code = main(sys.argv[1:])
assert not any(sys.modules.get(name) for name in {HIDDEN!r}), "a hidden module was imported"
sys.exit(code)
"""


def _evaluate_plain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TRAIN_EXTRA, "evaluate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_evaluate_without_torch() -> None:
    proc = _evaluate_plain(
        "--scrambles", str(SCRAMBLES), "--seed", str(SEED), "--threads", "2", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["backend"] == "core" and r["family"] == "trianglebox" and r["scrambles"] == SCRAMBLES
    assert 0 < r["trajectories"] <= SCRAMBLES and r["samples"] >= r["trajectories"]
    assert 0.0 <= r["top1"] <= r["top5"] <= 1.0 and r["loss"] >= 0.0
    assert 0.0 <= r["differs_from_ranking"] <= 1.0 and 0.0 <= r["ranking_top1"] <= 1.0
    # Where the policy's and the ranking's first choices agree, both hit the label or both miss.
    assert abs(r["top1"] - r["ranking_top1"]) <= r["differs_from_ranking"] + 1e-12
    text = _evaluate_plain("--scrambles", "5", "--policy", "uniform", "--threads", "1")
    assert text.returncode == 0, text.stderr
    assert "top-1" in text.stdout and "differs from the weight ranking" in text.stdout


def test_evaluate_refuses_random_without_seed() -> None:
    proc = _evaluate_plain("--scrambles", "5", "--policy", "random")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "sailir: error: policy 'random' needs a seed (--policy-seed S)\n"


def test_core_and_torch_agree() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    core = evaluate("trianglebox", None, SCRAMBLES, SEED, threads=2)
    torch_path = evaluate("trianglebox", None, SCRAMBLES, SEED, threads=2, backend="torch")
    for key in ("trajectories", "samples", "top1", "top5"):
        assert core[key] == torch_path[key], key
    assert math.isclose(core["loss"], torch_path["loss"], rel_tol=1e-4, abs_tol=1e-6)
    with pytest.raises(ValueError, match="torch backend scores policy files"):
        evaluate("trianglebox", "uniform", 5, SEED, threads=1, backend="torch")


def test_baselines_score_as_they_must() -> None:
    np = pytest.importorskip("numpy")
    from sailir.policy import shards

    arrays, _ = shards.scramble(
        shards.policy_family("trianglebox"), SEED, 0, SCRAMBLES, 2, shards.ScrambleOptions()
    )
    label, actions = arrays["label"], arrays["n_actions"].astype(np.float64)
    uniform = evaluate("trianglebox", "uniform", SCRAMBLES, SEED, threads=2)
    # Equal scores: the first candidate is the first choice, and every label has p = 1/n.
    assert uniform["samples"] == len(label)
    assert uniform["top1"] == pytest.approx(float(np.mean(label == 0)), abs=1e-12)
    assert uniform["top5"] == pytest.approx(float(np.mean(label < 5)), abs=1e-12)
    assert uniform["loss"] == pytest.approx(float(np.mean(np.log(actions))), rel=1e-5)
    one = evaluate("trianglebox", "random", SCRAMBLES, SEED, threads=2, policy_seed=1)
    again = evaluate("trianglebox", "random", SCRAMBLES, SEED, threads=1, policy_seed=1)
    other = evaluate("trianglebox", "random", SCRAMBLES, SEED, threads=2, policy_seed=2)
    assert one["loss"] == again["loss"] and one["top1"] == again["top1"]
    assert one["loss"] != other["loss"], "another seed, other scores"
    shipped = evaluate("trianglebox", None, SCRAMBLES, SEED, threads=2)
    assert shipped["top1"] > max(uniform["top1"], one["top1"]), "the trained policy beats both baselines"
