#!/usr/bin/env python3
"""Benchmark of the Laporta reducer on the 19 triangle-box integrals.

Runs `sailir-reduce` once per integral (one process, one core) and prints a table of equations,
unknowns, independent equations, wall time and peak resident memory, next to Kira's published
figures. Options:
  --check          include the second-prime check (doubles the work)
  --compare-bounds also reduce with seed bounds r+1, s+1 and require identical coefficients
  --only N         only the first N integrals of the table
  --json FILE      write the raw figures
Usage: python tools/bench_laporta.py [--check] [--compare-bounds] [--only N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "benchmark"


def native_binary() -> str:
    candidate = Path(sys.executable).parent / "sailir-reduce"
    return str(candidate) if candidate.exists() else "sailir-reduce"


def run_once(integral: str, extra: list[str], binary: str = "") -> dict:
    """One sailir-reduce process: wall time, its CPU time (wait4) and its own peak RSS.

    The peak is the one the process reports (`stats.peak_rss_mb`, VmHWM): wait4's ru_maxrss
    would include this Python process's, which Linux folds in when the child execs.
    """
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [
            binary or native_binary(),
            "--quiet",
            "--masters",
            str(DATA / "masters.txt"),
            "--output",
            out.name,
            *extra,
            integral,
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode() if proc.stderr else ""
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{integral}: sailir-reduce {' '.join(extra)} failed ({code}): {err.strip()}")
        result = json.loads(Path(out.name).read_text())
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": result["stats"].get("peak_rss_mb", usage.ru_maxrss / 1024),
        "result": result,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--compare-bounds", action="store_true")
    ap.add_argument("--only", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    with open(DATA / "integrals.csv") as f:
        rows = list(csv.DictReader(f))
    with open(DATA / "published.csv") as f:
        published = {r["integral"]: r for r in csv.DictReader(f)}
    rows = rows[: args.only] if args.only else rows
    extra = [] if args.check else ["--no-check"]
    header = (
        f"{'integral':<22} {'r':>2} {'s':>2} {'equations':>9} {'unknowns':>9} {'indep.':>8} {'wall s':>7} "
        f"{'peak MB':>8} | {'Kira eq':>7} {'Kira s':>7} {'Kira MB':>7}"
    )
    print(header)
    print("-" * len(header), flush=True)
    records = []
    for row in rows:
        name = row["integral"]
        rec = run_once(name, extra)
        stats = rec["result"]["stats"]
        masters = rec["result"]["masters"]
        assert len(masters) == 16, f"{name}: {len(masters)} masters"
        same = ""
        if args.compare_bounds:
            wider = run_once(name, [*extra, "--r-extra", "1", "--s-extra", "1"])
            ok = wider["result"]["reductions"] == rec["result"]["reductions"]
            same = "  bounds+1: identical" if ok else "  bounds+1: DIFFERENT"
            rec["wider_wall_s"] = wider["wall_s"]
            rec["bounds_identical"] = ok
        pub = published.get(name, {})
        kira = [pub.get(k, "") for k in ("kira_equations", "kira_time_s", "kira_peak_rss_mb")]
        print(
            f"{name:<22} {row['r']:>2} {row['s']:>2} {stats['equations']:>9} {stats['unknowns']:>9} "
            f"{stats['pivots']:>8} {rec['wall_s']:>7.1f} {rec['peak_rss_mb']:>8.0f} | "
            f"{kira[0]:>7} {kira[1]:>7} {kira[2]:>7}"
            f"{same}",
            flush=True,
        )
        rec.pop("result")
        records.append({"integral": name, **stats, **rec})
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0 if all(r.get("bounds_identical", True) for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
