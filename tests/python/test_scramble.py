"""The scramble generator and its shards: trajectories replay exactly through the shared
reduction state, labels are valid actions, seeds are reproducible, bad data is refused."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sailir import _core
from sailir.policy import shards
from sailir.policy.batches import Samples

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def pf() -> _core.PolicyFamily:
    return shards.policy_family("trianglebox")


@pytest.fixture(scope="module")
def batch(pf: _core.PolicyFamily) -> dict[str, np.ndarray]:
    arrays, stats = shards.scramble(pf, seed=11, first=0, count=60, threads=2, opts=shards.ScrambleOptions())
    assert stats["attempts"] == 60 and stats["kept"] == len(arrays["traj_index"]) > 0
    return arrays


def _expressions(arrays: dict[str, np.ndarray]):
    """(start, scrambled) term lists of every trajectory, in order."""
    pos = 0
    for ns, nc in zip(arrays["start_terms"], arrays["scrambled_terms"], strict=True):
        terms = [
            (list(map(int, p)), int(c))
            for p, c in zip(
                arrays["expr_powers"][pos : pos + ns + nc],
                arrays["expr_coefs"][pos : pos + ns + nc],
                strict=True,
            )
        ]
        pos += ns + nc
        yield terms[:ns], terms[ns:]


def test_family_facts(pf: _core.PolicyFamily) -> None:
    assert pf.n == 7 and pf.ops == 9 and len(pf.masters) == 16
    # Sectors with masters (DESIGN's 23 nonzero sectors minus those that reduce to subsectors).
    assert set(pf.master_sectors) <= {
        14,
        15,
        21,
        23,
        27,
        28,
        29,
        30,
        31,
        37,
        39,
        43,
        45,
        46,
        47,
        53,
        55,
        57,
        59,
        60,
        61,
        62,
        63,
    }
    assert 61 in pf.master_sectors


def test_trajectories_replay_to_their_start(pf: _core.PolicyFamily, batch: dict[str, np.ndarray]) -> None:
    s = 0
    for t, (start, scrambled) in enumerate(_expressions(batch)):
        assert scrambled != start
        state = _core.ReductionState(pf, scrambled)
        for _ in range(batch["traj_samples"][t]):
            target = state.target()
            assert target is not None
            cands = state.candidates(target)
            label = int(batch["label"][s])
            assert len(cands) == batch["n_actions"][s]
            # The label names a valid action: the one recorded at its index.
            op, seed, _ = cands[label]
            assert op == batch["label_op"][s] and seed == list(batch["label_seed"][s])
            assert state.apply(target, op, seed)
            s += 1
        assert state.target() is None  # only masters left
        assert sorted(state.expression()) == sorted(start)
    assert s == len(batch["label"])


def test_an_invalid_action_is_refused(pf: _core.PolicyFamily, batch: dict[str, np.ndarray]) -> None:
    _, scrambled = next(_expressions(batch))
    state = _core.ReductionState(pf, scrambled)
    target = state.target()
    valid = {(op, tuple(seed)) for op, seed, _ in state.candidates(target)}
    far = [a + 5 for a in target]  # an equation nowhere near the target
    assert (0, tuple(far)) not in valid
    before = state.expression()
    assert not state.apply(target, 0, far)
    assert state.expression() == before


def test_feature_rows_match_counts(pf: _core.PolicyFamily, batch: dict[str, np.ndarray]) -> None:
    dims = pf.feature_dims
    assert batch["target"].shape == (len(batch["label"]), dims["target"])
    assert batch["terms"].shape == (batch["n_terms"].sum(), dims["term"])
    assert batch["table"].shape == (batch["n_table"].sum(), dims["table"])
    assert batch["actions"].shape == (batch["n_actions"].sum(), dims["action"])
    assert (batch["label"] < batch["n_actions"]).all() and (batch["label"] >= 0).all()
    # Padded batches put each sample's rows first and mask the rest.
    samples = Samples(batch)
    b = samples.batch(np.array([0, 5, 9]))
    assert b["actions_mask"].sum() == batch["n_actions"][[0, 5, 9]].sum()
    assert (b["actions_mask"][np.arange(3), b["label"]] == 1).all()


def test_features_are_float16_exact(pf: _core.PolicyFamily) -> None:
    # Shards store float16; the definition rounds, so training and a float32 runtime agree exactly.
    arrays, _ = _core.generate_scrambles(pf, 4, 0, 10)
    for key in shards.FLOAT_KEYS:
        a = arrays[key]
        assert a.dtype == np.float32 and (a.astype(np.float16).astype(np.float32) == a).all()
    assert "float16-rounded" in pf.feature_spec


def test_split_is_by_trajectory(batch: dict[str, np.ndarray]) -> None:
    samples = Samples(batch)
    train, val, test = samples.split()
    assert len(train) + len(val) + len(test) == samples.count
    sets = [set(samples.trajectory[i]) for i in (train, val, test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.glob("shard-*.npz"))}


def test_same_seed_gives_identical_shards(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    shards.generate("trianglebox", a, 50, seed=5, threads=1, shard_size=20, progress=False)
    shards.generate("trianglebox", b, 50, seed=5, threads=2, shard_size=20, progress=False)
    shards.generate("trianglebox", c, 50, seed=6, threads=2, shard_size=20, progress=False)
    assert len(_digest(a)) == 3
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    meta, arrays = shards.load(a, shards.policy_family("trianglebox"))
    assert meta["seed"] == 5 and len(arrays["traj_index"]) == sum(s["stats"]["kept"] for s in meta["shards"])


def test_corrupt_and_missing_shards(tmp_path: Path) -> None:
    shards.generate("trianglebox", tmp_path, 20, seed=5, threads=1, shard_size=10, progress=False)
    shard = tmp_path / "shard-00001.npz"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(shards.ShardError, match=r"shard .*shard-00001.npz is corrupt"):
        shards.load(tmp_path)
    shard.unlink()
    with pytest.raises(shards.ShardError, match="is missing"):
        shards.load(tmp_path)
    # A rerun regenerates what is missing and keeps the intact shard.
    kept = (tmp_path / "shard-00000.npz").stat().st_mtime_ns
    shards.generate("trianglebox", tmp_path, 20, seed=5, threads=1, shard_size=10, progress=False)
    assert (tmp_path / "shard-00000.npz").stat().st_mtime_ns == kept
    shards.load(tmp_path)
    with pytest.raises(shards.ShardError, match="other settings"):
        shards.generate("trianglebox", tmp_path, 20, seed=6, threads=1, shard_size=10, progress=False)
    with pytest.raises(shards.ShardError, match="other family hash"):
        shards.load(tmp_path, shards.policy_family("bubble"))
    with pytest.raises(shards.ShardError, match="no meta.json"):
        shards.load(tmp_path / "nowhere")


def _sailir(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sailir.cli", *args], capture_output=True, text=True)


def test_family_without_masters_is_refused(tmp_path: Path) -> None:
    r = _sailir(
        "generate",
        "--family",
        str(DATA / "scaleless.yaml"),
        "--out",
        str(tmp_path / "d"),
        "--trajectories",
        "5",
    )
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "sailir: error: family 'scaleless' has no nonzero sector with masters: nothing to scramble or reduce"
    )


def test_cli_refuses_a_corrupt_shard(tmp_path: Path) -> None:
    shards.generate("trianglebox", tmp_path / "d", 10, seed=5, threads=1, progress=False)
    (tmp_path / "d" / "shard-00000.npz").write_bytes(b"not a zip")
    r = _sailir("train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "run"), "--epochs", "1")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "shard-00000.npz is corrupt (checksum mismatch)" in r.stderr
