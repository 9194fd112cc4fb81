"""The Python API checks its values as the command line does, with the same one-line messages,
and its exception types can be imported from `sailir`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sailir

ROOT = Path(__file__).resolve().parents[2]
MASTERS = ROOT / "tools/benchmark/masters.txt"
INTEGRAL = "I[1,1,0,1,1,1,-1]"
REDUCE = str(Path(sys.executable).parent / "sailir-reduce")


@pytest.mark.parametrize(
    ("kwargs", "option", "message"),
    [
        ({"threads": 0}, ["--threads", "0"], "threads must lie between 1 and 256, not 0"),
        ({"r_extra": -1}, ["--r-extra", "-1"], "r_extra must lie between 0 and 20, not -1"),
        ({"s_extra": 21}, ["--s-extra", "21"], "s_extra must lie between 0 and 20, not 21"),
        (
            {"method": "learned", "beam_width": 0},
            ["--method", "learned", "--beam-width", "0"],
            "beam width must lie between 1 and 4096, not 0",
        ),
    ],
)
def test_bad_values_are_refused_like_the_command_line(kwargs, option, message):
    with pytest.raises(ValueError) as info:
        sailir.reduce([INTEGRAL], **kwargs)
    assert str(info.value) == message
    proc = subprocess.run([REDUCE, *option, INTEGRAL], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("sailir-reduce: error: ")


def test_masters_path_as_str_path_or_list():
    as_path = sailir.reduce([INTEGRAL], masters=MASTERS, check=False)
    as_str = sailir.reduce([INTEGRAL], masters=str(MASTERS), check=False)
    as_list = sailir.reduce([INTEGRAL], masters=MASTERS.read_text().split(), check=False)
    assert as_path["reductions"] == as_str["reductions"] == as_list["reductions"]
    assert len(as_str["masters"]) == 15  # the published 16, one related by a sector symmetry
    with pytest.raises(ValueError, match="cannot read masters file"):
        sailir.reduce([INTEGRAL], masters="no/such/masters.txt")


def test_exception_types_are_importable():
    from sailir import FamilyError, FamilyFileError, PolicyFileError, PolicyMismatchError, UnreducedError

    for kind in (FamilyError, FamilyFileError, PolicyFileError, PolicyMismatchError, UnreducedError):
        assert issubclass(kind, Exception)
    with pytest.raises(FamilyError):
        sailir.reduce([INTEGRAL], family="no-such-family")
    with pytest.raises(AttributeError):
        sailir.NoSuchError  # noqa: B018
