#!/usr/bin/env python3
"""The policy ablation: what the trained policy contributes to a learned reduction.

Each cell reduces one benchmark integral with `sailir-reduce --method learned --threads 1` under
one policy (the shipped one, `uniform`, `random --seed 1`), one beam width and one ranking
(`both`, the hand-written weight ranking with the policy breaking ties; `policy`, the policy's
scores alone), saves its recording (`--save-path`) and replays that at the recording's prime and
point (`--replay`, one core): beam steps, path steps, the recording's equations and multiply-adds,
the replay time, the search's wall time and its peak resident memory. One thread, so that the path
does not depend on the schedule. A cell over `--timeout` seconds is reported as such.

Cells already in `--json FILE` are not run again, so a long grid can be stopped and resumed.

Usage: python tools/bench_ablation.py [--pick 0,1,2] [--widths 1,4,20] [--rankings both,policy]
                                      [--policies trained,uniform,random] [--timeout 900]
                                      [--json FILE] [--binary PATH] [--policy-file NAME=FILE]

`--policy-file improved=runs/improve/policy.onnx` adds a policy file to the grid under NAME.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench_laporta import DATA, native_binary

POLICIES = {
    "trained": [],
    "uniform": ["--policy", "uniform"],
    "random": ["--policy", "random", "--seed", "1"],
}


def _run(cmd: list[str], timeout: float) -> tuple[dict | None, float, str]:
    """(parsed JSON output or None, wall seconds, the last line of standard error)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0, f"over {timeout:.0f} s"
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return None, wall, lines[-1] if lines else f"exit {proc.returncode}"
    return json.loads(proc.stdout), wall, ""


def cell(binary: str, integral: str, policy: str, width: int, ranking: str, timeout: float) -> dict:
    """One reduction and the replay of its recording."""
    with tempfile.TemporaryDirectory() as tmp:
        recording = os.path.join(tmp, "path.rec")
        cmd = [binary, "--method", "learned", "--threads", "1", "--beam-width", str(width)]
        cmd += ["--ranking", ranking, *POLICIES[policy], "--save-path", recording, integral]
        out, wall, error = _run(cmd, timeout)
        if out is None:
            return {"error": error, "wall_s": wall}
        stats = out["stats"]
        replay, _, error = _run([binary, "--replay", recording, "--prime", str(out["prime"])], timeout)
        figures = {
            "wall_s": wall,
            "peak_rss_mb": stats.get("peak_rss_mb"),
            "beam_steps": stats.get("beam_steps"),
            "path_steps": stats.get("path_steps"),
            "fallbacks": stats.get("fallbacks"),
            "coefficients": out["reductions"],
        }
        if replay is None:
            return figures | {"error": f"replay: {error}"}
        if replay["reductions"] != out["reductions"]:
            return figures | {"error": "the replay differs from the reduction"}
        rs = replay["stats"]
        return figures | {k: rs.get(k) for k in ("equations", "multiply_adds", "replay_seconds")}


def _key(integral: str, policy: str, width: int, ranking: str) -> str:
    return f"{integral} {policy} w{width} {ranking}"


def _row(key: str, c: dict) -> str:
    if "beam_steps" not in c:
        return f"| {key} | {c['error']} |||||||"
    madds = c.get("multiply_adds")
    replay = c.get("replay_seconds")
    return (
        f"| {key} | {c['beam_steps']} | {c['path_steps']} | {c.get('equations', '-')} | "
        f"{'-' if madds is None else f'{madds:,}'} | {'-' if replay is None else f'{replay * 1e3:.1f}'} | "
        f"{c['wall_s']:.1f} | {c['peak_rss_mb']:.0f} | {c['fallbacks']} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pick", default=None, help="rows (0-based) of the benchmark table")
    ap.add_argument("--widths", default="1,4,20")
    ap.add_argument("--rankings", default="both,policy")
    ap.add_argument("--policies", default="trained,uniform,random")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per reduction")
    ap.add_argument("--json", type=Path, default=None, help="figures; cells already there are kept")
    ap.add_argument("--binary", default="", help="sailir-reduce to run (default: the installed one)")
    ap.add_argument("--policy-file", action="append", default=[], help="NAME=FILE: another policy")
    args = ap.parse_args()
    for spec in args.policy_file:
        name, _, file = spec.partition("=")
        if not file or name in POLICIES:
            ap.error(f"--policy-file wants a new NAME=FILE, not {spec!r}")
        POLICIES[name] = ["--policy", file]
    with open(DATA / "integrals.csv") as f:
        integrals = [r["integral"] for r in csv.DictReader(f)]
    if args.pick:
        integrals = [integrals[int(i)] for i in args.pick.split(",")]
    unknown = set(args.policies.split(",")) - set(POLICIES)
    if unknown:
        ap.error(f"unknown policy {sorted(unknown)[0]} (one of {', '.join(POLICIES)})")
    done = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    binary = args.binary or native_binary()
    print("| integral, policy, width, ranking | beam steps | path steps | equations | multiply-adds "
          "| ms/replay | wall s | MB | fallbacks |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    wrong = []
    for integral in integrals:
        reference = None  # every cell of an integral must give the same coefficients
        for width in map(int, args.widths.split(",")):
            for ranking in args.rankings.split(","):
                for policy in args.policies.split(","):
                    key = _key(integral, policy, width, ranking)
                    if key not in done:
                        done[key] = cell(binary, integral, policy, width, ranking, args.timeout)
                        if args.json:
                            args.json.write_text(json.dumps(done, indent=1) + "\n")
                    c = done[key]
                    if "coefficients" in c:
                        reference = reference or c["coefficients"]
                        if c["coefficients"] != reference or c["fallbacks"]:
                            wrong.append(key)
                    print(_row(key, c), flush=True)
    if wrong:
        print(f"different coefficients or a fallback: {', '.join(wrong)}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
