#!/usr/bin/env python3
"""The pentagon-box (Kira project tests/python/data/kira_pentagonbox) onto Kira's 61 masters.

Kira's own target, TA[2,1,1,1,1,1,1,1,0,0,0], and harder top-sector integrals of its job file's
range (r <= 10, s <= 4), each reduced by the Laporta reducer and by the learned reduction with
--verify (the policy shipped for the family, found by its content hash). Reports wall time, the
peak resident memory (the run's own stats.peak_rss_mb), fallbacks, whether the basis is Kira's and
whether the two methods' coefficients are identical.

Usage: python tools/bench_pentagonbox.py [--start N] [--only N] [--threads N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tests/python/data/kira_pentagonbox"
POINT = "d=41/3,s12=31/7,s23=47/11,s34=53/13,s45=59/17,s51=67/19"
INTEGRALS = [
    "TA[2,1,1,1,1,1,1,1,0,0,0]",  # Kira's target: r 9, s 0
    "TA[1,1,1,1,1,1,1,1,-1,0,0]",  # r 8, s 1
    "TA[1,1,1,1,1,1,1,1,-1,-1,0]",  # r 8, s 2
    "TA[2,1,1,1,1,1,1,1,-1,0,0]",  # r 9, s 1
    "TA[2,2,1,1,1,1,1,1,0,0,0]",  # r 10, s 0
    "TA[1,1,1,1,1,1,1,1,-2,-1,-1]",  # r 8, s 4
]


def reduce(integral: str, method: str, threads: int) -> dict:
    cmd = [
        str(ROOT / ".venv/bin/sailir-reduce"),
        "--family", str(PROJECT), "--masters", str(PROJECT / "masters"), "--point", POINT,
        "--threads", str(threads), "--method", method, integral,
    ]  # fmt: skip
    if method == "learned":
        cmd.insert(-1, "--verify")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}"
        }
    out = json.loads(proc.stdout)
    out["wall"] = wall
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=int, default=len(INTEGRALS))
    parser.add_argument("--start", type=int, default=0, help="skip the first N integrals")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    kira = sorted(
        line.split("#")[0].strip().replace("TA[", "[")
        for line in (PROJECT / "masters").read_text().splitlines()
        if line.strip()
    )
    rows = []
    print(
        "| integral | Laporta: time, peak | learned --verify: time, peak | fallbacks | Kira's basis "
        "| identical |"
    )
    print("|---|---|---|---|---|---|")
    for integral in INTEGRALS[args.start : args.only]:
        lap, lrn = (reduce(integral, m, args.threads) for m in ("laporta", "learned"))
        row = {"integral": integral, "laporta": lap, "learned": lrn}
        rows.append(row)
        if "error" in lap or "error" in lrn:
            print(f"| `{integral}` | {lap.get('error', '')} | {lrn.get('error', '')} | | | |")
            continue
        basis = sorted("[" + ",".join(map(str, m)) + "]" for m in lap["masters"]) == kira
        same = lap["reductions"] == lrn["reductions"] and lap["masters"] == lrn["masters"]
        print(
            f"| `{integral}` | {lap['wall']:.1f} s, {lap['stats']['peak_rss_mb']:.0f} MB "
            f"| {lrn['wall']:.1f} s, {lrn['stats']['peak_rss_mb']:.0f} MB "
            f"| {lrn['stats'].get('fallbacks')} | {basis} | {same and lrn.get('verified') is True} |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
