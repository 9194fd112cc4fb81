#!/usr/bin/env python3
"""Throughput of the C++ scramble/unscramble generator (DESIGN §3), in memory (no shard
compression), on one thread and on all cores.

    python tools/bench_scramble.py [--family trianglebox] [--trajectories 2000] [--seed 1]

Goal (issue 3): at least 200 scrambles per second per core on the triangle-box family; the
published Python generator needs 2.8 s per scramble.
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
        f"{'threads':>7} {'kept':>6} {'samples':>8} {'seconds':>8} {'traj/s':>8} {'traj/s/core':>11} "
        f"{'samples/s':>9} {'actions/sample':>14}"
    )
    for threads in args.threads:
        t0 = time.perf_counter()
        arrays, stats = _core.generate_scrambles(pf, args.seed, 0, args.trajectories, threads=threads)
        dt = time.perf_counter() - t0
        rate = stats["kept"] / dt
        print(
            f"{threads:>7} {stats['kept']:>6} {stats['samples']:>8} {dt:>8.2f} {rate:>8.1f} "
            f"{rate / threads:>11.1f} "
            f"{stats['samples'] / dt:>9.0f} {arrays['n_actions'].mean():>14.1f}"
        )


if __name__ == "__main__":
    main()
