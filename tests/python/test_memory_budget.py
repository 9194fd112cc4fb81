"""Bounded memory for the learned reduction: per-worker budgets, the checkpoint that a killed or
interrupted run resumes from, the Laporta memory limit, and their bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import sailir

BIN = Path(sys.executable).parent
REDUCE = BIN / "sailir-reduce"
POINT = "d=41,m1=1,m2=31,m3=47"
# Thousands of jobs in a few seconds: long enough to stop midway, short enough for the suite.
MEDIUM = "I[2,3,3,3,1,1,-4]"
LIGHT = "I[1,1,2,1,1,1,-4]"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "SAILIR_CACHE": str(tmp_path_factory.mktemp("cache") / "families")}


def learned(*args: str) -> list[str]:
    return [str(REDUCE), "--quiet", "--family", "trianglebox", "--point", POINT, "--method", "learned", *args]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)


def reduce(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = run(args, env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def reference(env: dict[str, str]) -> dict[str, Any]:
    """An uninterrupted run without a checkpoint."""
    return reduce(learned(MEDIUM), env)


def stored_jobs(directory: Path) -> int:
    try:
        with sqlite3.connect(directory / "jobs.sqlite", timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
    except sqlite3.Error:
        return 0


def stop_midway(args: list[str], env: dict[str, str], directory: Path, sig: int) -> subprocess.Popen[str]:
    """Starts a run and sends `sig` once the checkpoint holds a thousand jobs."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while stored_jobs(directory) < 1000:
        assert proc.poll() is None, "the run ended before it could be stopped midway"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=120)
    return proc


def test_budget_keeps_coefficients_and_reports_memory(env: dict[str, str]) -> None:
    # One worker: with two, the default (policy) ranking's jobs interleave so that neither
    # presses 1 MB enough to stream on this integral.
    free = reduce(learned("--threads", "1", "--memory-per-worker", "1G", LIGHT), env)
    tight = reduce(learned("--threads", "1", "--memory-per-worker", "1M", LIGHT), env)
    assert tight["reductions"] == free["reductions"]
    st = tight["stats"]
    assert st["fallbacks"] == 0 and st["streamed_steps"] > 0 and free["stats"]["streamed_steps"] == 0
    # The worker's meter stays near its budget (a step may add a little before the next check).
    assert st["worker_peak_mb"] <= 1.25 and free["stats"]["worker_peak_mb"] > 1.25
    assert 0 < st["predicted_peak_mb"] and st["peak_rss_mb"] <= st["predicted_peak_mb"]


def test_killed_run_resumes_from_checkpoint(
    env: dict[str, str], tmp_path: Path, reference: dict[str, Any]
) -> None:
    ck = tmp_path / "ck"
    args = learned("--checkpoint", str(ck), MEDIUM)
    killed = stop_midway(args, env, ck, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    saved = stored_jobs(ck)
    resumed = reduce(args, env)
    assert resumed["reductions"] == reference["reductions"]
    assert 0 < resumed["stats"]["resumed_jobs"] <= saved


def test_interrupt_says_how_to_resume(env: dict[str, str], tmp_path: Path, reference: dict[str, Any]) -> None:
    ck = tmp_path / "ck"
    args = learned("--checkpoint", str(ck), MEDIUM)
    stopped = stop_midway(args, env, ck, signal.SIGINT)
    err = stopped.stderr.read() if stopped.stderr else ""
    assert stopped.returncode == 130, err
    assert "rerun the same command to resume" in err and str(ck) in err
    resumed = reduce(args, env)
    assert resumed["reductions"] == reference["reductions"] and resumed["stats"]["resumed_jobs"] > 0


def test_checkpoint_of_another_problem_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    reduce(learned("--checkpoint", str(ck), LIGHT), env)
    before = stored_jobs(ck)
    for other in (["--point", "d=43,m1=1,m2=31,m3=47"], ["--prime", "9223372036854775549"]):
        proc = run([*learned("--checkpoint", str(ck), LIGHT), *other], env)
        assert proc.returncode == 2 and "made for another problem" in proc.stderr
        assert proc.stderr.count("\n") == 1
    proc = run(learned("--checkpoint", str(ck), "I[1,1,1,1,1,1,-2]"), env)  # another target list
    assert proc.returncode == 2 and "made for another problem" in proc.stderr
    assert stored_jobs(ck) == before, "a refused run adds nothing"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("corrupt", "is corrupt"),
        ("unwritable", "cannot create checkpoint directory"),
    ],
)
def test_bad_checkpoint_is_one_line_error(
    env: dict[str, str], tmp_path: Path, setup: str, message: str
) -> None:
    ck = tmp_path / "ck"
    if setup == "corrupt":
        ck.mkdir()
        (ck / "jobs.sqlite").write_bytes(b"not a database, just bytes" * 100)
    else:
        (tmp_path / "file").write_text("x")
        ck = tmp_path / "file" / "ck"
    proc = run(learned("--checkpoint", str(ck), LIGHT), env)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1


def test_budget_too_small_is_refused(env: dict[str, str]) -> None:
    proc = run(learned("--memory-per-worker", "100k", LIGHT), env)
    assert proc.returncode == 2 and "too small for any job: at least 1 MB" in proc.stderr
    proc = run(learned("--memory-per-worker", "lots", LIGHT), env)
    assert proc.returncode == 2 and "is not a memory size" in proc.stderr


def test_laporta_memory_limit_stops_at_once(env: dict[str, str]) -> None:
    t0 = time.monotonic()
    proc = run([str(REDUCE), "--quiet", "--memory-limit", "2G", "I[1,1,1,1,1,1,-127]"], env)
    assert proc.returncode == 11 and time.monotonic() - t0 < 60
    assert "would need about" in proc.stderr and "(half of 2 GB: the check prime runs beside)" in proc.stderr


def test_python_api_takes_the_memory_options(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"point": POINT, "method": "learned", "threads": 1}
    free = sailir.reduce([LIGHT], **kwargs)
    tight = sailir.reduce([LIGHT], memory_per_worker="1M", checkpoint=tmp_path / "ck", **kwargs)
    assert tight.reductions == free.reductions and tight.stats["streamed_steps"] > 0
    again = sailir.reduce([LIGHT], memory_per_worker="1M", checkpoint=tmp_path / "ck", **kwargs)
    assert again.reductions == free.reductions and again.stats["resumed_jobs"] > 0
    with pytest.raises(sailir.CheckpointError, match="another problem"):
        sailir.reduce([LIGHT], checkpoint=tmp_path / "ck", **{**kwargs, "point": "d=43,m1=1,m2=31,m3=47"})
    with pytest.raises(sailir.MemoryLimitError, match="would need about"):
        sailir.reduce(["I[1,1,1,1,1,1,-127]"], memory_limit="1G")
    with pytest.raises(ValueError, match="too small for any job"):
        sailir.reduce([LIGHT], memory_per_worker=1000, **kwargs)
