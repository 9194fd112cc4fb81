"""Policy sanity at load: a policy whose scores on a probe batch of the family are not finite, or
are the same for every candidate, is refused with exit code 8 and one line; the shipped policy
is accepted. The damaged policies are the shipped file with its weights rewritten."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import sailir
from sailir.policy import policy_file

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
numpy_helper = pytest.importorskip("onnx.numpy_helper")

REDUCE = Path(sys.executable).parent / "sailir-reduce"
SHIPPED = policy_file.shipped_policy("trianglebox")
INTEGRAL = "I[1,1,1,1,1,1,0]"
EXIT_BAD_POLICY_FILE = 8


def _rewritten(path: Path, change: Callable[[str, np.ndarray], np.ndarray]) -> Path:
    """The shipped policy with every weight passed through `change(name, array)`."""
    proto = onnx.load(str(SHIPPED))
    for init in proto.graph.initializer:
        new = change(init.name, numpy_helper.to_array(init)).astype(np.float32)
        init.CopyFrom(numpy_helper.from_array(new, init.name))
    onnx.save(proto, str(path))
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "SAILIR_CACHE": str(tmp_path_factory.mktemp("cache") / "families")}


@pytest.fixture(scope="module")
def nan_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _rewritten(tmp_path_factory.mktemp("nan") / "nan.onnx", lambda _, a: np.full_like(a, np.nan))


@pytest.fixture(scope="module")
def constant_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The output layer's weights zero: every score is its bias.
    return _rewritten(
        tmp_path_factory.mktemp("constant") / "constant.onnx",
        lambda name, a: np.zeros_like(a) if name == "head.2.weight" else a,
    )


def _reduce(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REDUCE), "--quiet", "--threads", "1", "--method", "learned", *args, INTEGRAL],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _refused(proc: subprocess.CompletedProcess[str], policy: Path, why: str) -> None:
    assert proc.returncode == EXIT_BAD_POLICY_FILE, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"sailir-reduce: error: policy {policy} gives ")
    assert why in lines[0]


def test_nan_policy_is_refused(nan_policy: Path, env: dict[str, str]) -> None:
    _refused(_reduce(["--policy", str(nan_policy)], env), nan_policy, "non-finite scores on a probe batch")


def test_constant_policy_is_refused(constant_policy: Path, env: dict[str, str]) -> None:
    _refused(_reduce(["--policy", str(constant_policy)], env), constant_policy, "it cannot rank")


def test_python_api_refuses_them(nan_policy: Path, constant_policy: Path) -> None:
    for path, why in ((nan_policy, "non-finite"), (constant_policy, "cannot rank")):
        with pytest.raises(sailir.PolicyFileError, match=why):
            sailir.reduce([INTEGRAL], method="learned", policy=path, threads=1)


def test_shipped_policy_is_accepted(env: dict[str, str]) -> None:
    # The file and the built-in copy pass the same probe; the result is a complete reduction.
    for args in (["--policy", str(SHIPPED)], []):
        proc = _reduce(args, env)
        assert proc.returncode == 0, proc.stderr
        assert '"method": "learned"' in proc.stdout


def test_uniform_is_constant_on_purpose(env: dict[str, str]) -> None:
    # The ablation baseline is not probed: equal scores are what it is for.
    proc = _reduce(["--policy", "uniform"], env)
    assert proc.returncode == 0, proc.stderr
