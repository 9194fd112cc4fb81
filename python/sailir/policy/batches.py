"""Samples from scramble arrays: per-sample offsets into the ragged feature rows, the split by
trajectory, and padded batches (NumPy; turned into tensors by the caller)."""

from __future__ import annotations

import numpy as np

# Ragged parts of a sample: (count array, feature rows).
PARTS = {"terms": "n_terms", "table": "n_table", "actions": "n_actions"}


def _gather(
    rows: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pads the row ranges [start, start+length) of each sample to `width`: (values, mask)."""
    b = len(lengths)
    total = int(lengths.sum())
    sample = np.repeat(np.arange(b), lengths)
    pos = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    src = np.repeat(starts, lengths) + pos
    shape = (b, width) + rows.shape[1:]
    out = np.zeros(shape, dtype=np.float32 if rows.dtype == np.float16 else rows.dtype)
    out[sample, pos] = rows[src]
    mask = np.zeros((b, width), dtype=np.float32)
    mask[sample, pos] = 1.0
    return out, mask


class Samples:
    """All samples of a scramble set, addressable by index."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.a = arrays
        self.count = len(arrays["label"])
        self.offsets = {
            part: np.concatenate([[0], np.cumsum(arrays[n], dtype=np.int64)])[:-1]
            for part, n in PARTS.items()
        }
        self.trajectory = np.repeat(arrays["traj_index"], arrays["traj_samples"])

    def split(self, parts: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(train, validation, test) sample indices, split by trajectory: trajectory index
        0 mod `parts` is test, 1 mod `parts` validation, so no trajectory straddles two sets."""
        r = self.trajectory % parts
        idx = np.arange(self.count)
        return idx[r >= 2], idx[r == 1], idx[r == 0]

    def batch(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """Padded inputs of the policy for samples `idx`, plus their labels."""
        a = self.a
        out: dict[str, np.ndarray] = {"target": a["target"][idx].astype(np.float32)}
        for part, n in PARTS.items():
            lengths = a[n][idx].astype(np.int64)
            width = max(int(lengths.max()), 1)
            out[part], out[f"{part}_mask"] = _gather(a[part], self.offsets[part][idx], lengths, width)
            if part == "actions":
                out["ops"], _ = _gather(a["ops"], self.offsets[part][idx], lengths, width)
        out["ops"] = out["ops"].astype(np.int64)
        out["label"] = a["label"][idx].astype(np.int64)
        return out

    def batches(self, idx: np.ndarray, size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
        """Batches of similar sizes (less padding): shuffled, sorted by action count within
        windows of 50 batches, batch order shuffled again. Without `rng`, sorted by action
        count (for measurements, where order does not matter)."""
        if rng is None:
            idx = idx[np.argsort(self.a["n_actions"][idx], kind="stable")]
            return [idx[i : i + size] for i in range(0, len(idx), size)]
        idx = rng.permutation(idx)
        window = size * 50
        out = []
        for w in range(0, len(idx), window):
            chunk = idx[w : w + window]
            chunk = chunk[np.argsort(self.a["n_actions"][chunk], kind="stable")]
            out += [chunk[i : i + size] for i in range(0, len(chunk), size)]
        return [out[i] for i in rng.permutation(len(out))]
