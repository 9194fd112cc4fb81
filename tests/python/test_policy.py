"""The policy: training with checkpoints and resume, the ONNX export (onnx.checker, onnxruntime
against PyTorch), refusal of a policy made for another family, and the shipped policy's accuracy
on fresh scrambles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sailir.policy import policy_file, shards, train
from sailir.policy.batches import Samples
from sailir.policy.model import INPUTS, tensors

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("shards")
    shards.generate("trianglebox", d, 120, seed=3, threads=2, shard_size=60, progress=False)
    return d


@pytest.fixture(scope="module")
def run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train.train(
        "trianglebox",
        data,
        out,
        train.TrainConfig(epochs=2, batch_size=64),
        threads=1,
        progress=False,
        log=lambda *_: None,
    )
    return out


def _fam_meta(name: str = "trianglebox") -> dict:
    return shards.family_meta(shards.policy_family(name))


def test_run_outputs(run: Path) -> None:
    rows = [json.loads(line) for line in (run / train.METRICS).read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all({"train_loss", "val_loss", "val_top1", "val_top5"} <= r.keys() for r in rows)
    assert rows[1]["train_loss"] < rows[0]["train_loss"]
    assert (run / "training.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test"]["samples"] > 0 and 0 <= summary["test"]["top1"] <= summary["test"]["top5"] <= 1


def test_onnx_matches_pytorch(run: Path, data: Path) -> None:
    import onnx

    path = run / "policy.onnx"
    onnx.checker.check_model(onnx.load(str(path)))
    model = policy_file.load(path, _fam_meta())
    samples = Samples(shards.load(data)[1])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    # Batches of different sizes exercise the dynamic batch, term, table and action axes.
    for idx in (np.arange(3), np.arange(10, 47), np.array([5])):
        batch = samples.batch(idx)
        with torch.no_grad():
            want = model(*tensors(batch)).numpy()
        got = session.run(["logits"], {k: batch[k] for k in INPUTS})[0]
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-5


def test_metadata_names_family_and_features(run: Path) -> None:
    meta = policy_file.read_metadata(run / "policy.onnx")
    fam = _fam_meta()
    assert meta["family_hash"] == fam["family_hash"]
    assert meta["feature_spec"] == fam["feature_spec"]
    assert json.loads(meta["prime"]) == fam["prime"]
    assert json.loads(meta["config"])["ops"] == 9


def test_policy_for_another_family_is_refused(run: Path) -> None:
    with pytest.raises(
        policy_file.PolicyError, match=r"exported for family 'trianglebox' .* not for 'bubble'"
    ):
        policy_file.load(run / "policy.onnx", _fam_meta("bubble"))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sailir.cli",
            "evaluate",
            "--family",
            "bubble",
            "--policy",
            str(run / "policy.onnx"),
            "--scrambles",
            "5",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "not for 'bubble'" in r.stderr


def test_corrupt_policy_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(policy_file.PolicyError, match="not a readable ONNX model|not a sailir policy"):
        policy_file.load(bad, _fam_meta())
    with pytest.raises(policy_file.PolicyError, match="does not exist"):
        policy_file.load(tmp_path / "none.onnx", _fam_meta())


def test_truncated_checkpoint(run: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / train.CHECKPOINT
    ckpt.write_bytes((run / train.CHECKPOINT).read_bytes()[:5000])
    with pytest.raises(train.CheckpointError, match="corrupt or truncated"):
        train.load_checkpoint(ckpt)
    r = subprocess.run(
        [sys.executable, "-m", "sailir.cli", "export", str(ckpt), "-o", str(tmp_path / "p.onnx")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "corrupt or truncated" in r.stderr


def test_export_from_checkpoint(run: Path, tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sailir.cli",
            "export",
            str(run / train.CHECKPOINT),
            "-o",
            str(tmp_path / "p.onnx"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    a = policy_file.load(tmp_path / "p.onnx", _fam_meta())
    b = policy_file.load(run / "policy.onnx", _fam_meta())
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert na == nb and torch.equal(pa, pb)


def test_interrupted_training_resumes(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = train.TrainConfig(epochs=2, batch_size=64)
    straight = tmp_path / "straight"
    train.train("trianglebox", data, straight, cfg, threads=1, progress=False, log=lambda *_: None)

    resumed = tmp_path / "resumed"
    save = train._save_checkpoint

    def save_then_die(path: Path, state: dict) -> None:
        save(path, state)
        raise KeyboardInterrupt  # killed right after epoch 1's checkpoint

    monkeypatch.setattr(train, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train.train("trianglebox", data, resumed, cfg, threads=1, progress=False, log=lambda *_: None)
    monkeypatch.setattr(train, "_save_checkpoint", save)
    logs: list[str] = []
    train.train("trianglebox", data, resumed, cfg, threads=1, progress=False, log=logs.append)
    assert any("resuming" in line and "after epoch 1" in line for line in logs)
    rows = [json.loads(line) for line in (resumed / train.METRICS).read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    # Epoch 1 was not redone, and the result is the uninterrupted run's.
    a = train.load_checkpoint(straight / train.CHECKPOINT)["model"]
    b = train.load_checkpoint(resumed / train.CHECKPOINT)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_shipped_policy_on_fresh_scrambles() -> None:
    assert policy_file.shipped_policy("trianglebox") is not None
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sailir.cli",
            "evaluate",
            "--scrambles",
            "150",
            "--seed",
            "777",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["samples"] > 1000
    assert out["top1"] >= 0.90 and out["top5"] >= 0.99
