"""Where sailir-reduce writes its result: checked before the reduction, never replacing a device
or a symlink, and never losing a computed result to a failed write."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REDUCE = Path(sys.executable).parent / "sailir-reduce"
INTEGRAL = "I[1,1,0,1,1,1,-1]"


def run(*args: str, tmp: Path, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [str(REDUCE), *args, INTEGRAL]
    return subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env)


def test_missing_directory_is_refused_before_the_reduction(tmp_path):
    proc = run("--progress", "--output", str(tmp_path / "nowhere" / "r.json"), tmp=tmp_path)
    assert proc.returncode == 2
    # One line, and no progress line: nothing was reduced.
    assert (
        proc.stderr == f"sailir-reduce: error: cannot write output file {tmp_path}/nowhere/r.json: "
        f"directory {tmp_path}/nowhere does not exist\n"
    )


def test_directory_as_output_is_refused(tmp_path):
    proc = run("--output", str(tmp_path), tmp=tmp_path)
    assert proc.returncode == 2 and "it is a directory" in proc.stderr


def test_symlink_is_written_through(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to("real.json")
    for _ in range(2):  # dangling, then pointing at a file
        assert run("--output", str(link), tmp=tmp_path).returncode == 0
        assert link.is_symlink()
        assert INTEGRAL in json.loads((tmp_path / "real.json").read_text())["reductions"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    proc = run("--output", str(fifo), tmp=tmp_path)
    reader.join(timeout=60)
    assert proc.returncode == 0
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert INTEGRAL in json.loads(got[0])["reductions"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("to_stdout", [False, True])
def test_full_device_fails_and_keeps_the_result(tmp_path, to_stdout):
    if to_stdout:
        with open("/dev/full", "w") as full:
            proc = run(tmp=tmp_path, stdout=full)
    else:
        proc = run("--output", "/dev/full", tmp=tmp_path)
    assert proc.returncode == 10
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # the device node is still a device
    line = proc.stderr.strip()
    assert proc.stderr.count("\n") == 1 and "No space left on device" in line
    kept = Path(line.rsplit("the result is kept in ", 1)[1])
    assert kept.parent == tmp_path
    assert INTEGRAL in json.loads(kept.read_text())["reductions"]
