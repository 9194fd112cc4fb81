"""Inputs as a Kira user writes them: integrals named by their family (`fam[1,1,...]`), lists in
Mathematica form over several lines, master files with `#` comments, the project directory above
`config/`, and structure without a numeric point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kira_trianglebox import KIRA_FAMILIES, KIRA_KINEMATICS

BIN = Path(sys.executable).parent
REDUCE = str(BIN / "sailir-reduce")
SAILIR = str(BIN / "sailir")
POINT = "d=41,m1=1,m2=31,m3=47"
TARGETS = ["I[1,1,2,1,1,1,-4]", "I[2,1,1,1,1,2,-4]"]


def reduce_json(*args: str) -> dict:
    proc = subprocess.run([REDUCE, "--point", POINT, "--no-check", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_mathematica_list_and_family_names(tmp_path):
    listing = tmp_path / "targets.m"
    listing.write_text("{trianglebox[1, 1, 2 ,1 ,1, 1, -4],\n  trianglebox[2,1,1,1,\n1,2,-4]}\n")
    got = reduce_json("--integrals", str(listing))
    want = reduce_json(*TARGETS)
    assert got["reductions"] == want["reductions"]
    assert (
        reduce_json("trianglebox[1,1,2,1,1,1,-4]")["reductions"]["I[1,1,2,1,1,1,-4]"]
        == want["reductions"]["I[1,1,2,1,1,1,-4]"]
    )


def test_kira_master_file_with_comments(tmp_path):
    default = reduce_json(TARGETS[0])
    masters = tmp_path / "masters"
    lines = ["# the benchmark basis, as Kira writes it"]
    lines += [f"trianglebox[{','.join(map(str, m))}]  #  {i}" for i, m in enumerate(default["masters"])]
    masters.write_text("\n".join(lines) + "\n")
    got = reduce_json("--masters", str(masters), TARGETS[0])
    assert got["masters"] == default["masters"] and got["reductions"] == default["reductions"]


def test_integral_of_another_family_is_refused():
    proc = subprocess.run([REDUCE, "--point", POINT, "box[1,1,2,1,1,1,-4]"], capture_output=True, text=True)
    assert proc.returncode == 5
    assert proc.stderr == (
        "sailir-reduce: error: integral 'box[1,1,2,1,1,1,-4]' names family box, not trianglebox\n"
    )


def test_project_directory_without_a_point(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "integralfamilies.yaml").write_text(KIRA_FAMILIES)
    (config / "kinematics.yaml").write_text(KIRA_KINEMATICS)
    cmd = [SAILIR, "family", str(tmp_path), "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert len(info["masters"]) == 15 and len(info["nonzero_sectors"]) == 23
    assert len(info["unique_sectors"]) == 19 and {"sector": 37, "target": 14} in [
        {k: m[k] for k in ("sector", "target")} for m in info["mappings"]
    ]
    assert info["basis_checked"] is True
    assert set(info["point"]) == {"d", "m1", "m2", "m3"} and info["point"]["m1"] == "1"
    assert "/" in info["point"]["d"]  # random, non-integer
