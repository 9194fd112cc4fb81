"""Training a policy from scramble shards: split by trajectory, AdamW with warmup and cosine
decay, a checkpoint after every epoch (an interrupted run resumes where it stopped), a metrics
log, a PNG of the training curve, and the exported ONNX policy at the end."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import policy_file, shards
from .batches import Samples
from .model import PolicyConfig, PolicyNet, tensors

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or belongs to another run."""


@dataclass
class TrainConfig:
    epochs: int = 12
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    width: int = 32
    attention: int = 16
    seed: int = 0  # initialisation and batch order


def scores(logits: torch.Tensor, label: torch.Tensor) -> tuple[float, int, int]:
    """(summed loss, top-1 hits, top-5 hits) of a batch."""
    loss = F.cross_entropy(logits, label, reduction="sum")
    k = min(5, logits.shape[1])
    top = logits.topk(k, dim=1).indices
    hit1 = int((top[:, 0] == label).sum())
    hit5 = int((top == label.unsqueeze(1)).any(dim=1).sum())
    return float(loss), hit1, hit5


@torch.no_grad()
def measure(model: PolicyNet, samples: Samples, idx: np.ndarray, batch_size: int = 512) -> dict:
    """Loss, top-1 and top-5 of `model` on samples `idx`."""
    model.eval()
    loss = hit1 = hit5 = 0.0
    for b in samples.batches(idx, batch_size, None):
        batch = samples.batch(b)
        out = scores(model(*tensors(batch)), torch.from_numpy(batch["label"]))
        loss, hit1, hit5 = loss + out[0], hit1 + out[1], hit5 + out[2]
    n = max(len(idx), 1)
    return {"loss": loss / n, "top1": hit1 / n, "top5": hit5 / n, "samples": int(len(idx))}


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def _save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a crash never leaves a half-written checkpoint in place


def load_checkpoint(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds on truncated files
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(exc).__name__}); delete it to start over"
        ) from exc
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise CheckpointError(f"checkpoint {path} is not a sailir training checkpoint")
    return state


def plot(history: list[dict], path: Path) -> None:
    """Training curve: losses and validation accuracies per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax1.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    ax2.plot(epochs, [h["val_top1"] for h in history], label="top-1")
    ax2.plot(epochs, [h["val_top5"] for h in history], label="top-5")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("validation accuracy")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(
    family: str,
    data: Path,
    out: Path,
    cfg: TrainConfig,
    *,
    trajectories: int | None = None,
    data_seed: int = 1,
    threads: int = os.cpu_count() or 1,
    fresh: bool = False,
    progress: bool | None = None,
    extra_data: Sequence[Path] = (),
    init: Path | None = None,
    log=print,
) -> dict:
    """Trains (or resumes) the run in `out` on the shards in `data`, generating them first when
    `trajectories` is given (existing intact shards are reused). `extra_data`: more shard
    directories (expert data) trained on beside `data`; `init`: a checkpoint whose weights the
    model starts from. Returns the summary (test metrics, times, paths)."""
    torch.set_num_threads(threads)
    pf = shards.policy_family(family)
    fam_meta = shards.family_meta(pf)
    data, out = Path(data), Path(out)
    t0 = time.monotonic()
    if trajectories:
        gen = shards.generate(family, data, trajectories, data_seed, threads=threads, progress=progress)
        log(f"data: {gen['kept']} trajectories, {gen['samples']} samples in {data}")
    elif not (data / shards.META).exists():
        raise shards.ShardError(f"{data} holds no scramble data; give the number of trajectories to generate")
    meta, arrays = shards.load(data, pf)
    extra = [shards.load(Path(d), pf)[1] for d in extra_data]
    if extra:
        log(f"expert data: {sum(len(a['label']) for a in extra)} samples from {len(extra)} directories")
        arrays = {k: np.concatenate([arrays[k]] + [a[k] for a in extra]) for k in arrays}
    samples = Samples(arrays)
    train_idx, val_idx, test_idx = samples.split()
    log(
        f"split by trajectory: {len(train_idx)} train / {len(val_idx)} validation / "
        f"{len(test_idx)} test samples"
    )
    gen_seconds = time.monotonic() - t0

    dims = fam_meta["feature_dims"]
    model_cfg = PolicyConfig(
        dims["target"], dims["term"], dims["table"], dims["action"], pf.ops, cfg.width, cfg.attention
    )
    torch.manual_seed(cfg.seed)
    model = PolicyNet(model_cfg)
    if init is not None:
        start = load_checkpoint(Path(init))
        if start.get("family_hash") != pf.hash or start.get("model_config") != model_cfg.to_dict():
            raise CheckpointError(f"checkpoint {init} was trained for another family or model")
        model.load_state_dict(start["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_idx) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, total_steps, cfg.warmup_steps))
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / CHECKPOINT
    sources = {"extra_data": [str(d) for d in extra_data], "init": str(init) if init else None}
    history: list[dict] = []
    start_epoch = 0
    train_seconds = 0.0
    if ckpt_path.exists() and not fresh:
        state = load_checkpoint(ckpt_path)
        if (
            state.get("train_config") != asdict(cfg)
            or state.get("family_hash") != pf.hash
            or state.get("sources", sources) != sources
        ):
            raise CheckpointError(f"checkpoint {ckpt_path} belongs to a run with other settings; use --fresh")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        history = state["history"]
        start_epoch = state["epoch"]
        train_seconds = state.get("train_seconds", 0.0)
        log(f"resuming {out} after epoch {start_epoch}")
    params = sum(p.numel() for p in model.parameters())
    log(f"model: width {cfg.width}, {params} parameters; {steps_per_epoch} steps per epoch")

    metrics_path = out / METRICS
    for epoch in range(start_epoch, cfg.epochs):
        t_epoch = time.monotonic()
        model.train()
        rng = np.random.default_rng([cfg.seed, epoch])  # the same batches whether resumed or not
        batches = samples.batches(train_idx, cfg.batch_size, rng)
        bar = tqdm(
            total=len(batches),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            unit="batch",
            disable=None if progress is None else not progress,
        )
        loss_sum = 0.0
        for b in batches:
            batch = samples.batch(b)
            logits = model(*tensors(batch))
            loss = F.cross_entropy(logits, torch.from_numpy(batch["label"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(b)
            bar.set_postfix_str(f"loss {float(loss.detach()):.4f}", refresh=False)
            bar.update()
        bar.close()
        val = measure(model, samples, val_idx)
        train_seconds += time.monotonic() - t_epoch
        row = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / max(len(train_idx), 1),
            "val_loss": val["loss"],
            "val_top1": val["top1"],
            "val_top5": val["top5"],
            "lr": sched.get_last_lr()[0],
            "seconds": round(time.monotonic() - t_epoch, 1),
        }
        history.append(row)
        with metrics_path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        _save_checkpoint(
            ckpt_path,
            {
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "history": history,
                "train_config": asdict(cfg),
                "model_config": model_cfg.to_dict(),
                "family_hash": pf.hash,
                "sources": sources,
                "train_seconds": train_seconds,
            },
        )
        log(
            f"epoch {epoch + 1}: train loss {row['train_loss']:.4f}, validation loss {val['loss']:.4f}, "
            f"top-1 {val['top1']:.4f}, top-5 {val['top5']:.4f} ({row['seconds']} s)"
        )

    test = measure(model, samples, test_idx)
    log(f"test: top-1 {test['top1']:.4f}, top-5 {test['top5']:.4f} on {test['samples']} samples")
    plot(history, out / "training.png")
    summary = {
        "family": pf.name,
        "data": str(data),
        "data_seed": meta["seed"],
        "trajectories": int(len(arrays["traj_index"])),
        "samples": {
            "train": int(len(train_idx)),
            "validation": int(len(val_idx)),
            "test": int(len(test_idx)),
        },
        "test": test,
        "epochs": cfg.epochs,
        "parameters": params,
        "train_seconds": round(train_seconds, 1),
        "data_seconds": round(gen_seconds, 1),
        "train_config": asdict(cfg),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    example = samples.batch(test_idx[:2] if len(test_idx) >= 2 else train_idx[:2])
    policy_file.export(
        model,
        fam_meta,
        out / "policy.onnx",
        example,
        extra={"training": {"test": test, "data_seed": meta["seed"], "epochs": cfg.epochs}},
    )
    log(f"policy: {out / 'policy.onnx'}")
    return summary
