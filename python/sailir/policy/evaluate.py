"""``sailir evaluate``: top-1 / top-5 accuracy of a policy on fresh scrambles.

The C++ policy runtime scores the samples (``_core.evaluate_policy``, the backend ``core``), so a
shipped policy can be checked with the plain install: no torch, no NumPy. It also reports how often
the policy's first choice differs from the weight ranking's (the beam's order before any score).
The backend ``torch`` scores the same samples with the PyTorch model (the ``train`` extra), a
cross-check of the two implementations.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import _core

ABLATIONS = ("uniform", "random")  # policies that are no file (docs/policy-ablation.md)
BACKENDS = ("core", "torch")


def evaluate(
    family: str,
    policy: Path | str | None,
    scrambles: int,
    seed: int,
    threads: int = os.cpu_count() or 1,
    *,
    policy_seed: int | None = None,
    backend: str = "core",
) -> dict:
    """Generates `scrambles` trajectories of stream `seed` and scores the policy (a file, None
    for the family's shipped one, ``"uniform"`` or ``"random"`` with `policy_seed`) on every
    unscramble step."""
    if scrambles < 1:
        raise ValueError("--scrambles must be at least 1")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} ({', '.join(BACKENDS)})")
    spec = "" if policy is None else str(policy)
    if spec == "random" and policy_seed is None:
        raise ValueError("policy 'random' needs a seed (--policy-seed S)")
    if policy_seed is not None and spec != "random":
        raise ValueError("--policy-seed is only for policy 'random'")
    if policy_seed is not None and not 0 <= policy_seed < 2**64:
        raise ValueError(f"--policy-seed must be between 0 and 2**64 - 1, not {policy_seed}")
    pf = _policy_family(family)
    if backend == "torch":
        name, scores = _torch_scores(pf, spec, scrambles, seed, threads)
    else:
        name = spec or f"built-in {pf.name}.onnx"
        scores = _core.evaluate_policy(
            pf, spec, policy_seed=policy_seed, seed=seed, scrambles=scrambles, threads=threads
        )
    for key in ("generate_seconds", "score_seconds", "ranking_seconds"):
        if key in scores:
            scores[key] = round(scores[key], 2)
    out = {"family": pf.name, "policy": name, "seed": seed, "scrambles": scrambles, "backend": backend}
    if policy_seed is not None:
        out["policy_seed"] = policy_seed
    return {**out, **scores}


def _policy_family(family: str) -> _core.PolicyFamily:
    """The engine's view of `family` for policies (as ``shards.policy_family``, without NumPy)."""
    from .. import family_file
    from ..errors import FamilyError

    try:
        pf = _core.PolicyFamily(family_file(family), prime=_core.DEFAULT_PRIME)
    except (FamilyError, ValueError) as exc:
        raise ValueError(str(exc)) from exc
    if not pf.master_sectors:
        raise ValueError(f"family {pf.name!r} has no nonzero sector with masters: nothing to scramble")
    return pf


def _torch_scores(
    pf: _core.PolicyFamily, spec: str, scrambles: int, seed: int, threads: int
) -> tuple[str, dict]:
    """(policy file, top-1/top-5/loss) of the PyTorch model of a policy file."""
    import numpy as np
    import torch

    from . import policy_file, shards
    from .batches import Samples
    from .train import measure

    if spec in ABLATIONS:
        raise ValueError(f"the torch backend scores policy files, not {spec!r}; use --backend core")
    path = Path(spec) if spec else policy_file.shipped_policy(pf.name, shards.family_meta(pf)["family_hash"])
    if path is None:
        raise policy_file.PolicyError(f"no policy ships for family {pf.name!r}; give --policy")
    torch.set_num_threads(threads)
    model = policy_file.load(path, shards.family_meta(pf))
    t0 = time.monotonic()
    arrays, stats = shards.scramble(pf, seed, 0, scrambles, threads, shards.ScrambleOptions())
    gen_seconds = time.monotonic() - t0
    samples = Samples(arrays)
    t1 = time.monotonic()
    m = measure(model, samples, np.arange(samples.count))
    return str(path), {
        "attempts": int(stats["attempts"]),
        "trajectories": int(stats["kept"]),
        "samples": m["samples"],
        "top1": m["top1"],
        "top5": m["top5"],
        "loss": m["loss"],
        "generate_seconds": gen_seconds,
        "score_seconds": time.monotonic() - t1,
    }
