"""The C++ policy runtime against onnxruntime on the shipped triangle-box policy: real scramble
batches and random ones (with padding and samples without terms or table rows), thread counts,
the built-in copy, refusal of policies made for something else, and damaged files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sailir import _core
from sailir.policy import policy_file, shards
from sailir.policy.batches import Samples
from sailir.policy.model import INPUTS, MASKED, PolicyConfig, random_batch

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

SHIPPED = policy_file.shipped_policy("trianglebox")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def pf() -> _core.PolicyFamily:
    return shards.policy_family("trianglebox")


@pytest.fixture(scope="module")
def samples(pf: _core.PolicyFamily) -> Samples:
    arrays, _ = shards.scramble(pf, seed=5, first=0, count=30, threads=2, opts=shards.ScrambleOptions())
    return Samples(arrays)


@pytest.fixture(scope="module")
def session():
    return ort.InferenceSession(str(SHIPPED), providers=["CPUExecutionProvider"])


def _native(batch: dict, threads: int = 1, path: Path | str = SHIPPED) -> np.ndarray:
    return _core.policy_logits(str(path), *(batch[k] for k in INPUTS), threads=threads)


def _compare(session, batch: dict) -> float:
    """Max |native - onnxruntime| at valid actions; padding must be MASKED in both."""
    want = session.run(["logits"], {k: batch[k] for k in INPUTS})[0]
    got = _native(batch)
    assert got.shape == want.shape and got.dtype == np.float32
    valid = batch["actions_mask"] > 0
    assert np.all(got[~valid] == MASKED) and np.all(want[~valid] == MASKED)
    return float(np.abs(got - want)[valid].max()) if valid.any() else 0.0


def _cfg() -> PolicyConfig:
    import json

    return PolicyConfig(**json.loads(policy_file.read_metadata(SHIPPED)["config"]))


def _padded_random(seed: int) -> dict:
    """A random batch with ragged rows: padding masked and zeroed (as Samples.batch pads), one
    sample without terms, one without table rows, one without actions."""
    rng = np.random.default_rng(seed)
    b = random_batch(_cfg(), states=7, terms=23, table=6, actions=40, seed=seed)
    for part, width in (("terms", 23), ("table", 6), ("actions", 40)):
        lengths = rng.integers(1, width + 1, size=7)
        lengths[{"terms": 0, "table": 1, "actions": 2}[part]] = 0
        for i, n in enumerate(lengths):
            b[f"{part}_mask"][i, n:] = 0.0
            b[part][i, n:] = 0.0
    b["ops"][b["actions_mask"] == 0] = 0
    return b


def test_real_batches_match_onnxruntime(samples: Samples, session) -> None:
    # Every sample once, in batches of similar sizes (as evaluation batches them; a batch of
    # all samples is mostly padding and slow in onnxruntime), plus a small mixed batch.
    worst = _compare(session, samples.batch(np.arange(0, samples.count, 25)))
    for idx in samples.batches(np.arange(samples.count), 64, None):
        worst = max(worst, _compare(session, samples.batch(idx)))
    print(f"real batches: max |native - onnxruntime| = {worst:.2e}")
    assert worst <= TOLERANCE


def test_random_batches_match_onnxruntime(session) -> None:
    worst = 0.0
    for seed in range(4):
        worst = max(
            worst,
            _compare(session, random_batch(_cfg(), states=6, terms=50, table=8, actions=150, seed=seed)),
        )
        worst = max(worst, _compare(session, _padded_random(seed)))
    print(f"random batches: max |native - onnxruntime| = {worst:.2e}")
    assert worst <= TOLERANCE


def test_threads_give_identical_scores(samples: Samples) -> None:
    for batch in (
        random_batch(_cfg(), states=20, terms=50, table=8, actions=150, seed=3),
        samples.batch(np.arange(samples.count)),
    ):
        one = _native(batch, threads=1)
        assert np.array_equal(one, _native(batch, threads=2))
        assert np.array_equal(one, _native(batch, threads=5))


def test_builtin_policy_is_the_shipped_file(samples: Samples) -> None:
    info = _core.policy_info("builtin:trianglebox")
    assert info["family"] == "trianglebox" and info["metadata"]["architecture"] == "sailir-policy-net-1"
    assert info["parameters"] == _core.policy_info(str(SHIPPED))["parameters"]
    batch = samples.batch(np.arange(10))
    assert np.array_equal(_native(batch, path="builtin:trianglebox"), _native(batch))
    with pytest.raises(_core.PolicyFileError, match="no built-in policy for family 'bubble'"):
        _core.policy_info("builtin:bubble")


def _rewritten(tmp_path: Path, **changes: str) -> Path:
    proto = onnx.load(str(SHIPPED))
    for p in proto.metadata_props:
        key = p.key.removeprefix("sailir.")
        if key in changes:
            p.value = changes[key]
    path = tmp_path / "changed.onnx"
    onnx.save(proto, str(path))
    return path


def test_policy_for_another_family_is_refused(pf: _core.PolicyFamily, tmp_path: Path) -> None:
    _core.policy_check(str(SHIPPED), pf)
    other = _rewritten(tmp_path, family="otherfam", family_hash="ab" * 32)
    with pytest.raises(
        _core.PolicyMismatchError, match=r"exported for family 'otherfam' \(hash abababababab\)"
    ) as e:
        _core.policy_check(str(other), pf)
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"family .trianglebox. \(hash 3f386304845f\), not for this family"):
        _core.policy_check(str(SHIPPED), shards.policy_family("bubble"))
    spec = _rewritten(tmp_path, feature_spec="v0 something else")
    with pytest.raises(_core.PolicyMismatchError, match="made with another feature spec"):
        _core.policy_check(str(spec), pf)
    arch = _rewritten(tmp_path, architecture="sailir-policy-net-9")
    with pytest.raises(_core.PolicyFileError, match="architecture 'sailir-policy-net-9'"):
        _core.policy_info(str(arch))


def test_damaged_files_raise_cleanly(tmp_path: Path) -> None:
    # In a child process, so that a crash is a failure here rather than the end of the run. A
    # few hundred copies (writing files is the slow part); tests/cpp/test_policy.cpp sweeps
    # thousands of truncations and flips in memory.
    code = textwrap.dedent(
        f"""
        import random
        from pathlib import Path
        from sailir import _core
        data = Path({str(SHIPPED)!r}).read_bytes()
        tmp = Path({str(tmp_path)!r}) / "damaged.onnx"
        rng = random.Random(1)
        loaded = refused = 0
        cuts = list(range(0, 100)) + list(range(100, len(data), 997)) + [len(data) - 1]
        damaged = [data[:c] for c in cuts]
        for _ in range(100):
            b = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                b[rng.randrange(len(b)) if rng.random() < 0.5 else rng.randrange(600)] ^= rng.randint(1, 255)
            damaged.append(bytes(b))
        for d in damaged:
            tmp.write_bytes(d)
            try:
                _core.policy_info(str(tmp))
                loaded += 1
            except _core.PolicyFileError as e:
                assert "\\n" not in str(e), str(e)
                refused += 1
        print(loaded, refused)
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    loaded, refused = map(int, r.stdout.split())
    assert refused > 100
    with pytest.raises(_core.PolicyFileError, match="does not exist"):
        _core.policy_info(str(tmp_path / "none.onnx"))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(_core.PolicyFileError, match="not a readable ONNX model"):
        _core.policy_info(str(bad))


def test_inconsistent_inputs_are_refused(samples: Samples) -> None:
    batch = samples.batch(np.arange(3))
    with pytest.raises(ValueError, match="terms_mask"):
        _core.policy_logits(
            str(SHIPPED), *(batch[k][:, :1] if k == "terms_mask" else batch[k] for k in INPUTS)
        )
    bad = dict(batch, ops=np.full_like(batch["ops"], 99))
    with pytest.raises(ValueError, match="template index 99"):
        _native(bad)
