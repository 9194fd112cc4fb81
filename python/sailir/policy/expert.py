"""Self-improvement (expert iteration). The engine reduces training integrals; every job of those
paths is solved again from the same state under another search setting (a rollout); the shorter
solution is replayed by the C++ engine into labelled samples, with the features inference
computes; the policy is trained further on them, mixed with its scramble data; and the new policy
makes the next round's rollouts.
``sailir improve`` runs the whole loop from scratch.

Needs NumPy for the data and torch for the training (the ``train`` extra).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import _core
from . import policy_file, shards

# The rollouts of a round, each with the round's policy: the default weight ranking (the policy
# breaks its ties) reduces the training integrals; at each of its jobs the policy's own ranking
# (its scores alone order the candidates) solves the job again from the same state.
ROLLOUTS = ({"ranking": "both"}, {"ranking": "policy"})
EXPERT_VERSION = 2  # bump when the selection changes: older expert data is made again


@dataclass
class ImproveConfig:
    rounds: int = 2
    integrals: int = 40  # training integrals per round (the same every round)
    seed: int = 1  # scramble data and training integrals
    trajectories: int = 10000  # scramble data for round 0
    epochs: int = 8  # round 0: training from scratch on scramble data
    fine_tune_epochs: int = 3  # later rounds: scramble plus expert data, from the last weights
    fine_tune_lr: float = 5e-4
    max_dots: int = 3  # training integrals: top sector, dots and numerator powers 1..these
    max_numerators: int = 3
    max_table_rows: int = 256


def training_integrals(
    pf: _core.PolicyFamily, count: int, seed: int, max_dots: int, max_numerators: int
) -> list[str]:
    """`count` distinct integrals of the family's top sector (the lines of all sectors with
    masters): 1..max_dots dots on its lines and a numerator power of 1..max_numerators on the
    other propagators, drawn with `seed`. With the defaults (numerator power at most 3) none is a
    triangle-box benchmark integral (those have 4 to 7)."""
    top = 0
    for sector in pf.master_sectors:
        top |= sector
    lines = [i for i in range(pf.n) if top >> i & 1]
    others = [i for i in range(pf.n) if not top >> i & 1]
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(100 * count):
        if len(out) == count:
            break
        powers = [1 if i in lines else 0 for i in range(pf.n)]
        for _ in range(rng.randint(1, max_dots)):
            powers[rng.choice(lines)] += 1
        for _ in range(rng.randint(1, max_numerators) if others else 0):
            powers[rng.choice(others)] -= 1
        text = f"I[{','.join(map(str, powers))}]"
        if text not in out:
            out.append(text)
    return out


def expert_data(
    pf: _core.PolicyFamily, policy: Path, integrals: list[str], out: Path, threads: int, max_table_rows: int
) -> dict:
    """Reduces `integrals` under the rollouts with `policy`, and writes the shortest paths' samples
    as a shard directory (the scramble shards' format) in `out`. A directory already complete for
    the same policy and integrals is kept (an interrupted run continues)."""
    digest = hashlib.sha256(Path(policy).read_bytes()).hexdigest()
    meta = {
        **shards.family_meta(pf),
        "seed": None,
        "expert": {
            "version": EXPERT_VERSION,
            "policy_sha256": digest,
            "integrals": integrals,
            "rollouts": list(ROLLOUTS),
        },
    }
    if (out / shards.META).exists():
        old = json.loads((out / shards.META).read_text())
        if old.get("expert") == meta["expert"] and old.get("shards"):
            return old["shards"][0]["stats"]
    rollouts = [{**r, "policy": str(policy)} for r in ROLLOUTS]
    arrays, stats = _core.expert_samples(
        pf, integrals, rollouts, threads=threads, max_table_rows=max_table_rows
    )
    out.mkdir(parents=True, exist_ok=True)
    entry = shards.write_shard(out / "shard-00000.npz", arrays, 0, len(integrals), stats)
    shards.write_atomic(out / shards.META, json.dumps({**meta, "shards": [entry]}, indent=1).encode())
    return stats


def _round_line(k: int, stats: dict) -> str:
    both, policy = stats["rollout_steps"]
    fail = stats["rollout_failures"]
    return (
        f"round {k} policy: {stats['jobs']} jobs take {both} steps (ranking both), {policy} from the "
        f"same states (ranking policy; {fail[1]} unsolved), {stats['expert_steps']} the shorter; "
        f"{fail[0]} integrals not reduced; "
        f"{stats['samples']} samples ({stats['skipped_samples']} steps past the table cap)"
    )


def improve(
    family: str, out: Path, cfg: ImproveConfig, *, threads: int = os.cpu_count() or 1, log=print
) -> dict:
    """Round 0 trains on scramble data; each later round collects expert data with the last
    policy and trains on scramble plus all expert data so far, from the last weights. Every
    piece is resumable. Returns the summary (also written to OUT/improve.json)."""
    from .train import TrainConfig, train

    t0 = time.monotonic()
    out = Path(out)
    pf = shards.policy_family(family)
    integrals = training_integrals(pf, cfg.integrals, cfg.seed, cfg.max_dots, cfg.max_numerators)
    log(f"{len(integrals)} training integrals, e.g. {', '.join(integrals[:3])}")
    base = TrainConfig(epochs=cfg.epochs)
    train(
        family,
        out / "data",
        out / "round0",
        base,
        trajectories=cfg.trajectories,
        data_seed=cfg.seed,
        threads=threads,
        log=log,
    )
    tuned = TrainConfig(epochs=cfg.fine_tune_epochs, lr=cfg.fine_tune_lr, warmup_steps=50)
    rounds = []
    for k in range(1, cfg.rounds + 1):
        policy = out / f"round{k - 1}" / "policy.onnx"
        stats = expert_data(pf, policy, integrals, out / f"expert{k}", threads, cfg.max_table_rows)
        log(_round_line(k - 1, stats))
        rounds.append({"round": k - 1, **stats})
        extra = [out / f"expert{j}" for j in range(1, k + 1)]
        init = out / f"round{k - 1}" / "checkpoint.pt"
        train(
            family,
            out / "data",
            out / f"round{k}",
            tuned,
            extra_data=extra,
            init=init,
            threads=threads,
            log=log,
        )
    final = out / f"round{cfg.rounds}" / "policy.onnx"
    stats = expert_data(pf, final, integrals, out / "final", threads, cfg.max_table_rows)
    log(_round_line(cfg.rounds, stats))
    rounds.append({"round": cfg.rounds, **stats})
    # The policy ranks alone by default only where that was measured to take fewer steps than
    # the weight ranking, from the same states of the training integrals' paths.
    both, alone = stats["rollout_steps"]
    ranks_alone = alone < both and stats["rollout_failures"][1] == 0
    if ranks_alone:
        policy_file.set_metadata(final, {"ranking": "policy"})
    log(
        f"ranking: {'policy (it ranks alone)' if ranks_alone else 'both (the policy breaks ties)'} by default"
    )
    summary = {
        "family": pf.name,
        "ranks_alone": ranks_alone,
        "config": asdict(cfg),
        "integrals": integrals,
        "rounds": rounds,
        "policy": str(final),
        "seconds": round(time.monotonic() - t0, 1),
    }
    (out / "improve.json").write_text(json.dumps(summary, indent=1) + "\n")
    shutil.copyfile(final, out / "policy.onnx")
    log(f"policy: {out / 'policy.onnx'} ({summary['seconds']} s)")
    return summary
