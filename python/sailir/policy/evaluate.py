"""``sailir evaluate``: top-1 / top-5 accuracy of a policy on fresh scrambles."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from . import policy_file, shards
from .batches import Samples


def evaluate(
    family: str,
    policy: Path | None,
    scrambles: int,
    seed: int,
    threads: int = os.cpu_count() or 1,
) -> dict:
    """Generates `scrambles` trajectories of stream `seed` and scores the policy on every
    unscramble step."""
    import torch

    from .train import measure

    if scrambles < 1:
        raise ValueError("--scrambles must be at least 1")
    torch.set_num_threads(threads)
    pf = shards.policy_family(family)
    if policy is None:
        policy = policy_file.shipped_policy(pf.name)
        if policy is None:
            raise policy_file.PolicyError(f"no policy ships for family {pf.name!r}; give --policy")
    model = policy_file.load(policy, shards.family_meta(pf))
    t0 = time.monotonic()
    arrays, stats = shards.scramble(pf, seed, 0, scrambles, threads, shards.ScrambleOptions())
    gen_seconds = time.monotonic() - t0
    samples = Samples(arrays)
    t1 = time.monotonic()
    m = measure(model, samples, np.arange(samples.count))
    return {
        "family": pf.name,
        "policy": str(policy),
        "seed": seed,
        "scrambles": scrambles,
        "trajectories": int(stats["kept"]),
        "samples": m["samples"],
        "top1": m["top1"],
        "top5": m["top5"],
        "loss": m["loss"],
        "generate_seconds": round(gen_seconds, 2),
        "score_seconds": round(time.monotonic() - t1, 2),
    }
