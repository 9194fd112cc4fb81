#!/usr/bin/env python3
"""Benchmark of the learned reduction's memory budget (sailir-reduce --memory-per-worker).

  table     the 19 triangle-box integrals with the default budget: wall and CPU time, the peak
            resident memory of the search against the printed prediction (and of the whole run,
            which with --verify includes an in-process Laporta run), the largest worker's and the
            memo's high-water marks, fallbacks, and (with --verify) the Laporta comparison.
  budgets   the hardest integral at several budgets (--budgets 16M,32M,64M,128M): time and peak.
  threads   the 8 hardest integrals (by r, then s; --only N: the first N of them) with 1 and 2
            threads: the speed-up.
  scaling   heavier integrals of the same family (up to r = 16, s = 10), the learned run (bounded,
            without --verify) beside the Laporta reducer (--threads 1 --no-check): time, CPU time
            and peak memory, equal coefficients, and a PNG of peak memory and time against weight.
Options: --threads N (default 2)  --only N  --budgets LIST  --verify  --json FILE  --png FILE
         --max-seconds S (scaling: skip learned runs predicted to pass it; default 3600)
Usage: python tools/bench_memory.py table|budgets|threads|scaling [options]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POINT = "d=41,m1=1,m2=31,m3=47"
HARDEST = "I[2,2,3,3,1,2,-7]"
# Heavier integrals of the triangle-box family: the top sector with more dots and numerators.
SCALING = [
    "I[2,2,3,3,1,2,-7]",  # r 13, s 7 (the hardest benchmark integral)
    "I[2,2,3,3,2,2,-7]",  # r 14, s 7
    "I[2,2,3,3,2,2,-8]",  # r 14, s 8
    "I[3,2,3,3,2,2,-8]",  # r 15, s 8
    "I[3,2,3,3,2,2,-9]",  # r 15, s 9
    "I[3,3,3,3,2,2,-10]",  # r 16, s 10
]


def native_binary() -> str:
    candidate = Path(sys.executable).parent / "sailir-reduce"
    return str(candidate) if candidate.exists() else "sailir-reduce"


def benchmark_integrals() -> list[str]:
    with open(HERE / "benchmark" / "integrals.csv") as f:
        return [row["integral"] for row in csv.DictReader(f)]


def weight(integral: str) -> tuple[int, int]:
    powers = [int(a) for a in integral[2:-1].split(",")]
    return sum(a for a in powers if a > 0), -sum(a for a in powers if a < 0)


def run(args: list[str]) -> dict:
    """One sailir-reduce process: its JSON with wall and CPU time measured from outside."""
    cmd = [native_binary(), "--quiet", "--family", "trianglebox", "--point", POINT, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 4):
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()}")
    out = json.loads(proc.stdout)
    out["wall"] = wall
    out["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out


def learned(integral: str, threads: int, extra: list[str]) -> dict:
    return run(["--method", "learned", "--threads", str(threads), *extra, integral])


def row(integral: str, r: dict) -> dict:
    st = r["stats"]
    return {
        "integral": integral,
        "r_s": "{}, {}".format(*weight(integral)),
        "wall_s": round(r["wall"], 1),
        "cpu_s": round(r["cpu"], 1),
        "peak_mb": st.get("peak_rss_mb"),
        "search_peak_mb": round(st.get("search_peak_rss_mb", 0), 1),
        "predicted_mb": round(st.get("predicted_peak_mb", 0), 1),
        "worker_peak_mb": round(st.get("worker_peak_mb", 0), 1),
        "memo_peak_mb": round(st.get("memo_peak_mb", 0), 1),
        "fallbacks": st.get("fallbacks"),
        "streamed_steps": st.get("streamed_steps"),
        "path_steps": st.get("path_steps"),
        "verified": r.get("verified"),
    }


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |", flush=True)


def table(args: argparse.Namespace) -> list[dict]:
    extra = ["--verify"] if args.verify else []
    rows = [row(x, learned(x, args.threads, extra)) for x in benchmark_integrals()[: args.only]]
    for r in rows:
        r["within_prediction"] = r["search_peak_mb"] <= r["predicted_mb"]
    print_table(rows)
    return rows


def budgets(args: argparse.Namespace) -> list[dict]:
    rows = []
    for b in args.budgets.split(","):
        r = row(HARDEST, learned(HARDEST, args.threads, ["--memory-per-worker", b]))
        rows.append({"budget": b, **r})
    print_table(rows)
    return rows


def threads(args: argparse.Namespace) -> list[dict]:
    hardest = sorted(benchmark_integrals(), key=weight)[-8:][: args.only]
    rows = []
    for x in hardest:
        one, two = learned(x, 1, []), learned(x, 2, [])
        rows.append(
            {"integral": x, "1 thread s": round(one["wall"], 1), "2 threads s": round(two["wall"], 1)}
        )
        rows[-1]["speed-up"] = round(one["wall"] / two["wall"], 2)
        assert one["reductions"] == two["reductions"]
    total1 = sum(r["1 thread s"] for r in rows)
    total2 = sum(r["2 threads s"] for r in rows)
    rows.append(
        {
            "integral": "all 8",
            "1 thread s": total1,
            "2 threads s": total2,
            "speed-up": round(total1 / total2, 2),
        }
    )
    print_table(rows)
    return rows


def scaling(args: argparse.Namespace) -> list[dict]:
    rows = []
    for x in SCALING[: args.only]:
        lap = run(["--method", "laporta", "--threads", "1", "--no-check", x])
        entry = {"integral": x, "r_s": "{}, {}".format(*weight(x))}
        entry.update({"laporta_s": round(lap["wall"], 1), "laporta_cpu_s": round(lap["cpu"], 1)})
        entry["laporta_mb"] = lap["stats"]["peak_rss_mb"]
        if rows and rows[-1].get("learned_s", 0) * 6 > args.max_seconds:
            entry["learned_s"] = None  # the last one already took a sixth of the limit
        else:
            r = learned(x, args.threads, ["--no-check"])
            entry.update({"learned_s": round(r["wall"], 1), "learned_cpu_s": round(r["cpu"], 1)})
            entry.update(
                {
                    "learned_mb": r["stats"]["peak_rss_mb"],
                    "predicted_mb": round(r["stats"]["predicted_peak_mb"], 1),
                }
            )
            entry["equal"] = r["reductions"] == lap["reductions"]
            entry["fallbacks"] = r["stats"]["fallbacks"]
        rows.append(entry)
        print_table(rows[-1:] if len(rows) > 1 else rows)
    if args.png:
        plot(rows, args.png)
    return rows


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = [sum(weight(r["integral"])) for r in rows]
    fig, (mem, sec) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((mem, "mb", "peak memory (MB)"), (sec, "s", "wall time (s)")):
        ax.plot(w, [r[f"laporta_{key}"] for r in rows], "o-", label="Laporta (1 thread)")
        lw = [
            (x, r[f"learned_{key}"])
            for x, r in zip(w, rows, strict=True)
            if r.get(f"learned_{key}") is not None
        ]
        ax.plot([a for a, _ in lw], [b for _, b in lw], "s-", label="learned, bounded (2 threads)")
        ax.set_xlabel("weight r + s")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["table", "budgets", "threads", "scaling"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", type=int, default=None)
    p.add_argument("--budgets", default="16M,32M,64M,128M")
    p.add_argument("--verify", action="store_true")
    p.add_argument("--max-seconds", type=float, default=3600)
    p.add_argument("--png", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    rows = {"table": table, "budgets": budgets, "threads": threads, "scaling": scaling}[args.mode](args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
