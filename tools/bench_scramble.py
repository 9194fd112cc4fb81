#!/usr/bin/env python3
"""Throughput of the C++ scramble/unscramble generator (DESIGN §3), in memory (no shard
compression), on one thread and on all cores.

    python tools/bench_scramble.py [--family trianglebox] [--trajectories 2000] [--seed 1]

"traj/CPU-s" is trajectories per CPU-second, i.e. per core. Goal (issue 3): at least 200
scrambles per second per core on the triangle-box family; the published Python generator needs
2.8 s per scramble.
"""

from __future__ import annotations

import argparse
import os
import time

from sailir import _core
from sailir.policy import shards


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="trianglebox")
    ap.add_argument("--trajectories", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, nargs="*", default=sorted({1, os.cpu_count() or 1}))
    args = ap.parse_args()
    pf = shards.policy_family(args.family)
    print(
        f"family {pf.name}: {len(pf.masters)} masters in {len(pf.master_sectors)} sectors, {pf.ops} templates"
    )
    print(
        f"{'threads':>7} {'kept':>6} {'samples':>8} {'wall s':>7} {'CPU s':>7} {'traj/s':>7} "
        f"{'traj/CPU-s':>10} {'actions/sample':>14}"
    )
    for threads in args.threads:
        t0, c0 = time.perf_counter(), time.process_time()
        arrays, stats = _core.generate_scrambles(pf, args.seed, 0, args.trajectories, threads=threads)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        rate = stats["kept"] / dt
        # Per CPU-second is the per-core rate, and does not depend on what else the machine runs.
        print(
            f"{threads:>7} {stats['kept']:>6} {stats['samples']:>8} {dt:>7.2f} {cpu:>7.2f} {rate:>7.1f} "
            f"{stats['kept'] / cpu:>10.1f} {arrays['n_actions'].mean():>14.1f}"
        )


if __name__ == "__main__":
    main()
