"""`--device auto|cpu|cuda`: where the probes of an exact reduction run.

Without a usable GPU (this machine, CI) `auto` runs on the CPU and says why in one notice line,
`cuda` is refused at once as bad input, and the results equal the CPU's. With a GPU the same
tests check that `auto` takes it and gives the CPU's result. The GPU's own checks (bit-for-bit
replay, policy scores) are the C++ tests test_cuda_replay and test_cuda_policy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sailir
from sailir import _core

REDUCE = Path(sys.executable).parent / "sailir-reduce"
EXACT = ["--analytic", "--point", "m1=1,m2=31,m3=47", "I[1,1,0,1,1,1,-2]"]
STATUS = _core.device_status()
GPU = bool(STATUS["cuda_device"])


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REDUCE), *args], capture_output=True, text=True, timeout=600)


def test_auto_uses_the_cpu_with_one_notice_or_the_gpu() -> None:
    auto, cpu = run(*EXACT), run("--device", "cpu", *EXACT)
    assert auto.returncode == 0 and cpu.returncode == 0, auto.stderr + cpu.stderr
    a, c = json.loads(auto.stdout), json.loads(cpu.stdout)
    assert a["reductions"] == c["reductions"]
    assert c["stats"]["device"] == "cpu" and c["stats"]["device_notice"] == "" and "notice" not in cpu.stderr
    if GPU:
        assert a["stats"]["device"].startswith("cuda (") and a["stats"]["device_notice"] == ""
    else:
        notices = [line for line in auto.stderr.splitlines() if "notice:" in line]
        assert len(notices) == 1 and "probes run on the CPU" in notices[0], auto.stderr
        assert STATUS["why_not"] in notices[0]
        assert (
            a["stats"]["device"] == "cpu"
            and a["stats"]["device_notice"] == notices[0].split("notice: ", 1)[1]
        )


def test_quiet_silences_the_notice() -> None:
    r = run("--quiet", *EXACT)
    assert r.returncode == 0 and "notice" not in r.stderr


@pytest.mark.skipif(GPU, reason="a usable GPU is present")
def test_cuda_without_a_gpu_is_refused_at_once() -> None:
    # A Laporta run this large would take minutes: the refusal comes before it.
    r = run("--device", "cuda", "--analytic", "I[2,2,3,3,1,2,-7]")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--device cuda:" in r.stderr and "--device cpu" in r.stderr
    with pytest.raises(ValueError, match="--device cuda"):
        sailir.reduce(["I[1,1,0,1,1,1,-2]"], analytic=True, point="m1=1,m2=31,m3=47", device="cuda")


def test_unknown_device_is_bad_input() -> None:
    r = run("--device", "gpu", *EXACT)
    assert r.returncode == 2 and "auto, cpu or cuda" in r.stderr
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        sailir.reduce(["I[1,1,0,1,1,1,-2]"], analytic=True, device="tpu")


def test_python_reports_the_device() -> None:
    r = sailir.reduce(["I[1,1,0,1,1,1,-2]"], analytic=True, point="m1=1,m2=31,m3=47", device="cpu")
    assert r.stats["device"] == "cpu" and r.stats["device_notice"] == ""


def test_probe_benchmark_hook_counts_probes(tmp_path: Path) -> None:
    rec = tmp_path / "small.rec"
    assert run("--save-path", str(rec), "--no-check", "I[1,1,0,1,1,1,-2]").returncode == 0
    text = rec.read_text()
    out = _core.probe_benchmark(sailir.family_file("trianglebox"), text, "cpu", 64, threads=2)
    assert out["device"] == "cpu" and out["probes"] == 64 and out["bad"] == 0 and out["seconds"] > 0
    auto = _core.probe_benchmark(sailir.family_file("trianglebox"), text, "auto", 8)
    assert auto["device"].startswith("cuda (") if GPU else auto["notice"]


def test_learned_steps_go_through_the_batching_stage() -> None:
    """On the CPU every scored beam step is its own pass (the stage never waits there)."""
    r = run("--method", "learned", "--threads", "2", "--ranking", "both", "I[1,1,1,1,1,1,-2]")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)["stats"]
    assert st["policy_calls"] > 0 and st["policy_passes"] == st["policy_calls"]
    assert st["policy_batch_max"] == 1
