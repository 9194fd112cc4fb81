#!/usr/bin/env python3
"""Benchmark of the learned reduction against the Laporta reducer on the 19 triangle-box integrals.

For every integral, one `sailir-reduce --method learned` process (jobs on --threads worker
threads, the path replayed at a second prime) and one `sailir-reduce --method laporta` process
(one core, no check): wall time and CPU time measured from outside (wait4), and the peak resident
memory each process reports of itself. The learned run also reports its jobs, beam steps,
policy calls, Laporta fallbacks and the replay time of its path (the arithmetic floor); the
coefficients of the two methods must be identical, which is the same comparison as `--verify`
without adding Laporta's memory to the learned process. Options:
  --threads N    worker threads of the learned run (default 2)
  --beam-width N beam width (default: sailir-reduce's)
  --only N       only the first N integrals (easiest first)
  --pick I,J     only these rows (0-based) of the table
  --verify       also pass --verify to the learned run (its peak memory then includes Laporta's)
  --no-laporta   skip the Laporta runs
  --json FILE    write the raw figures
  --binary PATH  the sailir-reduce to run (default: the one installed beside this Python)
Usage: python tools/bench_reduce.py [--threads 2] [--only N] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from bench_laporta import DATA, run_once


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam-width", type=int, default=None)
    ap.add_argument("--only", type=int, default=None)
    ap.add_argument("--pick", default=None)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--no-laporta", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--binary", default="", help="sailir-reduce to run (default: the installed one)")
    args = ap.parse_args()

    with open(DATA / "integrals.csv") as f:
        rows = list(csv.DictReader(f))
    with open(DATA / "published.csv") as f:
        published = {r["integral"]: r for r in csv.DictReader(f)}
    if args.pick:
        rows = [rows[int(i)] for i in args.pick.split(",")]
    rows = rows[: args.only] if args.only else rows
    learned_args = ["--method", "learned", "--threads", str(args.threads)]
    if args.beam_width:
        learned_args += ["--beam-width", str(args.beam_width)]
    if args.verify:
        learned_args.append("--verify")

    header = (
        f"{'integral':<20} {'r':>2} {'s':>2} | {'wall s':>7} {'CPU s':>7} {'MB':>5} {'jobs':>6} {'steps':>7} "
        f"{'calls':>7} {'fb':>3} {'replay s':>8} | {'Lap. s':>7} {'Lap. MB':>7} {'same':>4} | "
        f"{'pub. s':>7} {'pub. jobs':>9}"
    )
    print(header)
    print("-" * len(header))
    figures = []
    for row in rows:
        integral = row["integral"]
        learned = run_once(integral, learned_args, args.binary)
        st = learned["result"]["stats"]
        lap = (
            None
            if args.no_laporta
            else run_once(integral, ["--method", "laporta", "--no-check", "--threads", "1"], args.binary)
        )
        same = None
        if lap is not None:
            same = learned["result"]["reductions"] == lap["result"]["reductions"]
            same = same and learned["result"]["masters"] == lap["result"]["masters"]
        pub = published.get(integral, {})
        fig = {
            "integral": integral,
            "r": int(row["r"]),
            "s": int(row["s"]),
            "learned": {k: learned[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")} | {"stats": st},
            "warnings": learned["result"]["warnings"],
            "laporta": None if lap is None else {k: lap[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")},
            "identical": same,
            "verified": learned["result"].get("verified"),
        }
        figures.append(fig)
        lap_s = f"{lap['wall_s']:7.1f} {lap['peak_rss_mb']:7.0f}" if lap else f"{'-':>7} {'-':>7}"
        same_s = "-" if lap is None else ("yes" if same else "NO")
        print(
            f"{integral:<20} {row['r']:>2} {row['s']:>2} | {learned['wall_s']:7.1f} {learned['cpu_s']:7.1f} "
            f"{learned['peak_rss_mb']:5.0f} {st['jobs']:6d} {st['beam_steps']:7d} {st['policy_calls']:7d} "
            f"{st['fallbacks']:3d} {st['replay_seconds']:8.2f} | "
            f"{lap_s} {same_s:>4} | "
            f"{float(pub.get('sailir_critical_path_s', 'nan')):7.0f} {pub.get('sailir_jobs', '-'):>9}",
            flush=True,
        )
    if len(figures) > 1:
        mem = [f["learned"]["peak_rss_mb"] for f in figures]
        print(f"\npeak memory ratio, hardest / easiest integral (last / first row): {mem[-1] / mem[0]:.2f}")
    bad = [f["integral"] for f in figures if f["identical"] is False or f["learned"]["stats"]["fallbacks"]]
    if bad:
        print(f"differs from Laporta or needed a fallback: {', '.join(bad)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
