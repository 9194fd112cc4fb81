#!/usr/bin/env python3
"""Cost of one policy evaluation for a beam step: 20 states x 150 candidate actions (issue 3's
budget: about a millisecond per core in the C++ runtime). Counts the multiply-adds of the shipped
architecture, times PyTorch on one thread (an upper bound: PyTorch's per-operator overhead is
most of it at these sizes) and the C++ runtime (sailir._core.policy_benchmark: a random batch
built and timed in C++) at 1 and 2 threads. The default table size, 8 rows, is the mean of
scramble samples (median 7); their terms have a median of 50, their actions of 87.

    python tools/bench_policy.py [--policy PATH] [--states 20] [--actions 150] [--terms 50] [--table 8]
                                 [--threads 1,2] [--kernels avx2] [--no-torch]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

from sailir import _core
from sailir.policy import policy_file, shards


def macs(cfg, b: int, a: int, t: int, k: int) -> int:
    """Multiply-adds of PolicyNet.forward for b states, a actions, t terms, k table rows."""
    w, h = cfg.width, cfg.attention
    mlp = lambda inp: inp * w + w * w  # noqa: E731
    # The head's first layer is linear in [action, context, state]: the state's part once per state.
    per_state = t * mlp(cfg.term_dim) + k * mlp(cfg.table_dim) + mlp(cfg.target_dim) + 2 * t * w * h + w * w
    per_action = mlp(cfg.action_dim) + w * h + 2 * t * h + (w + h) * w + w
    return b * (per_state + a * per_action)


def native(path: Path, b: int, a: int, t: int, k: int, threads: int, repeat: int, rounds: int) -> list[float]:
    """Seconds per beam step of the C++ runtime, one figure per round of `repeat` evaluations."""
    return [_core.policy_benchmark(str(path), b, a, t, k, repeat, threads) for _ in range(rounds)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="trianglebox")
    ap.add_argument("--policy", default=None)
    ap.add_argument("--states", type=int, default=20)
    ap.add_argument("--actions", type=int, default=150)
    ap.add_argument("--terms", type=int, default=50)
    ap.add_argument("--table", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=10, help="C++: rounds of --repeat evaluations")
    ap.add_argument("--threads", default="1,2", help="thread counts for the C++ runtime")
    ap.add_argument("--kernels", default=None, help="avx512, avx2 or sse2 instead of the best this CPU has")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch timing (needs torch)")
    args = ap.parse_args()
    pf = shards.policy_family(args.family)
    path = Path(args.policy) if args.policy else policy_file.shipped_policy(pf.name)
    _core.policy_check(str(path), pf)
    info = _core.policy_info(str(path))
    cfg = SimpleNamespace(**json.loads(info["metadata"]["config"]))  # model.PolicyConfig needs torch
    b, a, t, k = args.states, args.actions, args.terms, args.table
    m = macs(cfg, b, a, t, k)
    params = info["parameters"]
    print(f"policy {path}: width {cfg.width}, attention {cfg.attention}, {params} parameters")
    print(f"beam step {b} states x {a} actions x {t} terms x {k} table rows: {m / 1e6:.1f} M multiply-adds")
    if not args.no_torch:
        dt = torch_seconds(path, pf, b, a, t, k, args.repeat)
        print(f"PyTorch, one thread: {dt * 1e3:.2f} ms per beam step")
    if args.kernels and not _core.policy_use_kernels(args.kernels):
        raise SystemExit(f"this CPU has no {args.kernels} (kernels: {_core.policy_kernels()})")
    for threads in (int(x) for x in args.threads.split(",")):
        times = native(path, b, a, t, k, threads, args.repeat, args.rounds)
        best, median = min(times), statistics.median(times)
        print(
            f"C++ runtime ({_core.policy_kernels()}), {threads} thread{'s' if threads > 1 else ''}: "
            f"{best * 1e3:.3f} ms per beam step (median of {args.rounds} rounds {median * 1e3:.3f}), "
            f"{best / b * 1e6:.1f} us per state, {m / best / 1e9:.1f} G model multiply-adds/s"
        )


def torch_seconds(path: Path, pf, b: int, a: int, t: int, k: int, repeat: int) -> float:
    import torch

    from sailir.policy.model import INPUTS, random_batch

    torch.set_num_threads(1)
    model = policy_file.load(path, shards.family_meta(pf))
    batch = random_batch(model.cfg, states=b, terms=t, table=k, actions=a)
    inputs = [torch.from_numpy(batch[name]) for name in INPUTS]
    with torch.no_grad():
        for _ in range(10):
            model(*inputs)
        t0 = time.perf_counter()
        for _ in range(repeat):
            model(*inputs)
        return (time.perf_counter() - t0) / repeat


if __name__ == "__main__":
    main()
