#!/usr/bin/env python3
"""Probes per second and policy scores per second against batch size, CPU and GPU, in one run.

Probes: the recording of the hardest benchmark integral, I[2,2,3,3,1,2,-7] (Laporta, about 24 M
multiply-adds per probe), replayed at random points. The CPU uses every core (--threads, default
all) and is timed on at most --cpu-probes probes per batch size: its rate does not depend on the
batch. `cpu_lanes` runs the GPU's lane code on the same CPU threads (Montgomery arithmetic, no
branches): the price of lanes that stay in step. The GPU takes each batch size as its lanes per
launch (capped by its memory).

Policy scores: the shipped triangle-box policy on random ragged batches of `states` samples x
150 actions (50 terms, 8 table rows each), on the CPU runtime (all cores) and on the GPU in fp32
and TF32.

Without a usable GPU the GPU columns say why, and the CPU columns are still measured.

    python tools/bench_device.py [--batches 256,1024,4096,16384,65536] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sailir
from sailir import _core
from sailir.policy import policy_file

HARDEST = "I[2,2,3,3,1,2,-7]"
REDUCE = Path(sys.executable).parent / "sailir-reduce"


def recording(integral: str, cache: Path) -> str:
    """The Laporta recording of `integral` (made once, kept in `cache`)."""
    if not cache.exists():
        subprocess.run(
            [str(REDUCE), "--no-check", "--save-path", str(cache), integral],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return cache.read_text()


def probe_rates(text: str, batches: list[int], threads: int, cpu_cap: int, gpu: bool) -> list[dict]:
    fam = sailir.family_file("trianglebox")
    rows = []
    for b in batches:
        n = min(b, cpu_cap)
        cpu = _core.probe_benchmark(fam, text, "cpu", n, threads=threads)
        lanes = _core.probe_benchmark(fam, text, "cpu-lanes", n, threads=threads)
        row = {
            "batch": b,
            "cpu_probes": n,
            "cpu_per_second": n / cpu["seconds"],
            "cpu_lanes_per_second": n / lanes["seconds"],  # the GPU's code on the CPU
        }
        if gpu:
            g = _core.probe_benchmark(fam, text, "cuda", b, threads=threads, repeats=2)
            row |= {"gpu_per_second": b / g["seconds"], "gpu_bad": g["bad"], "device": g["device"]}
            row["ratio"] = row["gpu_per_second"] / row["cpu_per_second"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def score_rates(states: list[int], threads: int, gpu: bool) -> list[dict]:
    path = str(policy_file.shipped_policy("trianglebox"))
    actions, terms, table = 150, 50, 8
    rows = []
    for s in states:
        scores = s * actions
        repeat = max(1, 20000 // scores)
        cpu = _core.policy_benchmark(path, s, actions, terms, table, repeat, threads, "cpu")
        row = {"states": s, "scores": scores, "cpu_per_second": scores / cpu}
        if gpu:
            for device in ("cuda", "cuda-tf32"):
                row[f"{device}_per_second"] = scores / _core.policy_benchmark(
                    path, s, actions, terms, table, repeat, threads, device
                )
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="256,1024,4096,16384,65536")
    ap.add_argument("--states", default="1,16,128,1024")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cpu-probes", type=int, default=256, help="probes the CPU is timed on, per batch size")
    ap.add_argument("--integral", default=HARDEST)
    ap.add_argument("--recording", default=None, help="a recording file to use (else made and cached)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    status = _core.device_status()
    gpu = bool(status["cuda_device"])
    print(f"GPU: {status['cuda_device'] or 'none (' + status['why_not'] + ')'}; CPU threads: {args.threads}")
    cache = (
        Path(args.recording) if args.recording else Path(tempfile.gettempdir()) / "sailir-bench-hardest.rec"
    )
    text = recording(args.integral, cache)
    out = {
        "gpu": status["cuda_device"] or None,
        "why_not": status["why_not"],
        "threads": args.threads,
        "integral": args.integral,
        "probes": probe_rates(
            text, [int(b) for b in args.batches.split(",")], args.threads, args.cpu_probes, gpu
        ),
        "scores": score_rates([int(s) for s in args.states.split(",")], args.threads, gpu),
    }
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
