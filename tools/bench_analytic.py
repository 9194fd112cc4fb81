#!/usr/bin/env python3
"""Benchmark of exact reductions (sailir-reduce --analytic) and of their recordings.

  trianglebox  the 19 triangle-box integrals, exact in d at m1 = 1, m2 = 31, m3 = 47, by each
               method: wall time and peak memory of the whole run, probes and primes, and the
               recording's size (equations, terms, multiply-adds) and replay time per probe on one
               core. Both methods' coefficients must be identical.
  full         the hardest triangle-box integral exact in d, m2 and m3 (m1 = 1).
  published    box1l, diamond2l and box2l (tools/benchmark/analytic), every target exact in d and
               every invariant, beside the published FIRE / Kira / Kira+FireFly / Kira+ratracer
               figures (other hardware: 8 threads of an AMD EPYC 7282).
Options: --methods laporta,learned  --only N (first N integrals)  --problems box1l,...
         --threads N (default 2)  --json FILE
Usage: python tools/bench_analytic.py trianglebox|full|published [options]
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
from itertools import product
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "benchmark"
MASSES = "m1=1,m2=31,m3=47"


def native_binary() -> str:
    candidate = Path(sys.executable).parent / "sailir-reduce"
    return str(candidate) if candidate.exists() else "sailir-reduce"


def run(args: list[str], integrals: list[str]) -> dict:
    """One sailir-reduce --analytic process: its JSON, with the wall time measured from outside."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "integrals.txt"
        listing.write_text("\n".join(integrals) + "\n")
        out = Path(tmp) / "out.json"
        cmd = [
            native_binary(),
            "--quiet",
            "--analytic",
            "--output",
            str(out),
            "--integrals",
            str(listing),
            *args,
        ]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()}")
        result = json.loads(out.read_text())
    result["wall"] = wall
    return result


def trianglebox(args: argparse.Namespace) -> list[dict]:
    with open(DATA / "integrals.csv") as f:
        rows = list(csv.DictReader(f))[: args.only]
    print(
        f"{'integral':<20} {'method':<8} | {'wall s':>7} {'MB':>6} {'probes':>6} {'primes':>6} | "
        f"{'eqs':>7} {'terms':>9} {'madds':>10} {'ms/probe':>8}"
    )
    figures = []
    for row in rows:
        reductions = {}
        for method in args.methods:
            common = ["--masters", str(DATA / "masters.txt"), "--threads", str(args.threads)]
            r = run(["--method", method, "--point", MASSES, *common], [row["integral"]])
            reductions[method] = r["reductions"]
            s = r["stats"]
            print(
                f"{row['integral']:<20} {method:<8} | {r['wall']:>7.1f} {s.get('peak_rss_mb', 0):>6.0f} "
                f"{s['probes']:>6} {s['primes']:>6} | {s['equations']:>7} {s['terms']:>9} "
                f"{s['multiply_adds']:>10} {1e3 * s['seconds_per_probe']:>8.2f}",
                flush=True,
            )
            figures.append({"integral": row["integral"], "method": method, "wall": r["wall"], **s})
        if len(reductions) == 2:
            same = reductions["laporta"] == reductions["learned"]
            print(f"{'':<20} both methods identical: {same}", flush=True)
            if not same:
                raise SystemExit(f"{row['integral']}: the methods disagree")
    return figures


def full(args: argparse.Namespace) -> list[dict]:
    hardest = "I[2,2,3,3,1,2,-7]"
    r = run(
        ["--point", "m1=1", "--masters", str(DATA / "masters.txt"), "--threads", str(args.threads)], [hardest]
    )
    s = r["stats"]
    print(
        f"{hardest} exact in {', '.join(r['symbols'])}: {r['wall']:.1f} s, {s.get('peak_rss_mb', 0):.0f} MB, "
        f"{s['probes']} probes, {s['primes']} primes, {1e3 * s['seconds_per_probe']:.1f} ms/probe"
    )
    return [{"integral": hardest, "symbols": r["symbols"], "wall": r["wall"], **s}]


def targets(problem: str) -> list[str]:
    """The published target lists (tools/benchmark/analytic/README.md)."""
    if problem == "box1l":
        return [f"I[{a},{b},{c},{d}]" for a, b, c, d in product(range(1, 8), repeat=4) if a + b + c + d <= 10]
    if problem == "diamond2l":
        return [f"I[{','.join(map(str, p))}]" for p in product(range(1, 5), repeat=5) if sum(p) <= 8]
    out = []
    for p in product(range(1, 4), repeat=7):
        if sum(p) > 9:
            continue
        for n8, n9 in product(range(0, 3), repeat=2):
            if n8 + n9 <= 2:
                out.append(f"I[{','.join(map(str, p))},{-n8},{-n9}]")
    return out


def published(args: argparse.Namespace) -> list[dict]:
    with open(DATA / "analytic" / "published.csv") as f:
        pub = list(csv.DictReader(f))
    figures = []
    for problem in args.problems:
        integrals = targets(problem)
        r = run(
            ["--family", str(DATA / "analytic" / f"{problem}.yaml"), "--threads", str(args.threads)],
            integrals,
        )
        s = r["stats"]
        print(
            f"{problem}: {len(integrals)} targets exact in {', '.join(r['symbols'])}: {r['wall']:.1f} s, "
            f"{s.get('peak_rss_mb', 0):.0f} MB, {s['probes']} probes ({s['primes']} primes), "
            f"{1e3 * s['seconds_per_probe']:.2f} ms/probe, {len(r['masters'])} masters",
            flush=True,
        )
        for p in pub:
            if p["problem"] == problem:
                print(
                    f"    {p['tool']:<14} {p['wall_s']:>7} s {p['ram_gb']:>6} GB  probes {p['probes'] or '-'}"
                )
        figures.append({"problem": problem, "targets": len(integrals), "wall": r["wall"], **s})
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["trianglebox", "full", "published"])
    ap.add_argument("--methods", default="laporta,learned")
    ap.add_argument("--problems", default="box1l,diamond2l,box2l")
    ap.add_argument("--only", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.methods = args.methods.split(",")
    args.problems = args.problems.split(",")
    os.environ.setdefault("SAILIR_PYTHON", sys.executable)  # YAML families compile with this package
    figures = {"trianglebox": trianglebox, "full": full, "published": published}[args.what](args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
