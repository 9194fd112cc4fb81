#!/usr/bin/env python3
"""Cost of one policy evaluation for a beam step: 20 states x 150 candidate actions (issue 3's
budget: about a millisecond per core in the C++ runtime). Counts the multiply-adds of the shipped
architecture and times PyTorch on one thread (an upper bound: PyTorch's per-operator overhead is
most of it at these sizes).

    python tools/bench_policy.py [--policy PATH] [--states 20] [--actions 150] [--terms 50] [--table 8]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from sailir.policy import policy_file, shards
from sailir.policy.model import INPUTS, random_batch


def macs(cfg, b: int, a: int, t: int, k: int) -> int:
    """Multiply-adds of PolicyNet.forward for b states, a actions, t terms, k table rows."""
    w, h = cfg.width, cfg.attention
    mlp = lambda inp: inp * w + w * w  # noqa: E731
    # The head's first layer is linear in [action, context, state]: the state's part once per state.
    per_state = t * mlp(cfg.term_dim) + k * mlp(cfg.table_dim) + mlp(cfg.target_dim) + 2 * t * w * h + w * w
    per_action = mlp(cfg.action_dim) + w * h + 2 * t * h + (w + h) * w + w
    return b * (per_state + a * per_action)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="trianglebox")
    ap.add_argument("--policy", default=None)
    ap.add_argument("--states", type=int, default=20)
    ap.add_argument("--actions", type=int, default=150)
    ap.add_argument("--terms", type=int, default=50)
    ap.add_argument("--table", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(1)
    pf = shards.policy_family(args.family)
    path = Path(args.policy) if args.policy else policy_file.shipped_policy(pf.name)
    model = policy_file.load(path, shards.family_meta(pf))
    cfg = model.cfg
    b, a, t, k = args.states, args.actions, args.terms, args.table
    batch = random_batch(cfg, states=b, terms=t, table=k, actions=a)
    inputs = [torch.from_numpy(batch[name]) for name in INPUTS]
    with torch.no_grad():
        for _ in range(10):
            model(*inputs)
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            model(*inputs)
        dt = (time.perf_counter() - t0) / args.repeat
    m = macs(cfg, b, a, t, k)
    params = sum(p.numel() for p in model.parameters())
    print(f"policy {path}: width {cfg.width}, {params} parameters")
    print(f"beam step {b} states x {a} actions x {t} terms x {k} table rows: {m / 1e6:.1f} M multiply-adds")
    print(f"PyTorch, one thread: {dt * 1e3:.2f} ms per beam step")


if __name__ == "__main__":
    main()
