"""Scramble data on disk: the C++ generator fills shards of trajectories; each shard is a
compressed ``.npz`` written byte-for-byte deterministically, listed with its sha256 in
``meta.json`` together with the family hash and the feature definition it was made with.

Needs NumPy (the ``train`` extra), not torch.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import _core, family_file
from ..errors import FamilyError

META = "meta.json"
FLOAT_KEYS = ("target", "terms", "table", "actions")  # stored as float16: small ints and log1p values


class ShardError(ValueError):
    """A shard directory that is missing, corrupt or made for something else."""


@dataclass(frozen=True)
class ScrambleOptions:
    min_steps: int = 5
    max_steps: int = 25
    max_dots: int = 4
    max_numerators: int = 4


def policy_family(family: str, prime: int | None = None) -> _core.PolicyFamily:
    """The engine's view of `family` for policies (masters found or taken from the family)."""
    try:
        pf = _core.PolicyFamily(family_file(family), prime=prime or _core.DEFAULT_PRIME)
    except (FamilyError, ValueError) as exc:
        raise ShardError(str(exc)) from exc
    if not pf.master_sectors:
        raise ShardError(
            f"family {pf.name!r} has no nonzero sector with masters: nothing to scramble or reduce"
        )
    return pf


def family_meta(pf: _core.PolicyFamily) -> dict:
    """What a shard set or a policy must match to be used with `pf`."""
    return {
        "family": pf.name,
        "family_hash": pf.hash,
        "identities_version": pf.identities_version,
        "features_version": _core.FEATURES_VERSION,
        "feature_spec": pf.feature_spec,
        "feature_dims": dict(pf.feature_dims),
        "ops": pf.ops,
        "prime": pf.prime,
    }


def scramble(
    pf: _core.PolicyFamily, seed: int, first: int, count: int, threads: int, opts: ScrambleOptions
) -> tuple[dict[str, np.ndarray], dict]:
    """Trajectories first..first+count-1 of stream `seed`, in memory."""
    arrays, stats = _core.generate_scrambles(
        pf,
        seed,
        first,
        count,
        threads=threads,
        min_steps=opts.min_steps,
        max_steps=opts.max_steps,
        max_dots=opts.max_dots,
        max_numerators=opts.max_numerators,
    )
    for key in FLOAT_KEYS:
        arrays[key] = arrays[key].astype(np.float16)
    return arrays, stats


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz with fixed timestamps and member order, so one seed gives identical bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=1)  # fast; shards are large
    return buf.getvalue()


def write_shard(path: Path, arrays: dict[str, np.ndarray], first: int, count: int, stats: dict) -> dict:
    """Writes one shard (feature rows as float16) and returns its entry for ``meta.json``."""
    for key in FLOAT_KEYS:
        arrays[key] = arrays[key].astype(np.float16, copy=False)
    data = npz_bytes(arrays)
    write_atomic(path, data)
    sha = hashlib.sha256(data).hexdigest()
    return {"file": path.name, "first": first, "count": count, "stats": stats, "sha256": sha}


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def generate(
    family: str,
    out: Path,
    trajectories: int,
    seed: int,
    *,
    threads: int = os.cpu_count() or 1,
    shard_size: int = 1000,
    opts: ScrambleOptions | None = None,
    progress: bool | None = None,
) -> dict:
    """Writes shards for `trajectories` attempts of stream `seed` into `out`; shards already
    there (same family, seed and options, intact) are kept, so an interrupted run continues."""
    opts = opts or ScrambleOptions()
    if trajectories < 1 or shard_size < 1:
        raise ShardError("the number of trajectories and the shard size must be at least 1")
    pf = policy_family(family)
    out.mkdir(parents=True, exist_ok=True)
    meta = {**family_meta(pf), "seed": seed, "options": opts.__dict__, "shard_size": shard_size, "shards": []}
    old = _read_meta(out) if (out / META).exists() else None
    reusable = {}
    if old is not None:
        same = {k: old.get(k) for k in meta if k != "shards"} == {
            k: v for k, v in meta.items() if k != "shards"
        }
        if not same:
            raise ShardError(f"{out} holds shards made with other settings; choose an empty directory")
        reusable = {s["file"]: s for s in old["shards"]}
    nshards = (trajectories + shard_size - 1) // shard_size
    # disable=None: a bar on a terminal only, unless `progress` says otherwise.
    bar = tqdm(
        total=nshards, desc="scrambling", unit="shard", disable=None if progress is None else not progress
    )
    totals = {"attempts": 0, "kept": 0, "stuck": 0, "mismatched": 0, "samples": 0}
    for i in range(nshards):
        first = i * shard_size
        count = min(shard_size, trajectories - first)
        name = f"shard-{i:05d}.npz"
        entry = reusable.get(name)
        if entry and entry["count"] == count and _sha256(out / name) == entry["sha256"]:
            stats = entry["stats"]
        else:
            arrays, stats = scramble(pf, seed, first, count, threads, opts)
            entry = write_shard(out / name, arrays, first, count, stats)
        meta["shards"].append(entry)
        for k in totals:
            totals[k] += stats[k]
        write_atomic(out / META, json.dumps(meta, indent=1).encode())
        bar.set_postfix_str(f"{totals['kept']} kept, {totals['samples']} samples", refresh=False)
        bar.update()
    bar.close()
    return totals


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _read_meta(directory: Path) -> dict:
    try:
        meta = json.loads((directory / META).read_text())
        meta["shards"]  # noqa: B018 - presence check
        return meta
    except FileNotFoundError as exc:
        raise ShardError(f"{directory} has no {META}: not a shard directory") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ShardError(f"{directory / META} is corrupt: {exc}") from exc


def load(directory: Path, pf: _core.PolicyFamily | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays concatenated over all shards). Every shard is checked against its sha256,
    and the set against `pf` (family, identities and features) when given."""
    directory = Path(directory)
    meta = _read_meta(directory)
    if pf is not None:
        want = family_meta(pf)
        for key in ("family_hash", "identities_version", "features_version", "feature_spec", "prime"):
            if meta.get(key) != want[key]:
                raise ShardError(
                    f"{directory} was made for family {meta.get('family')!r} "
                    f"with other {key.replace('_', ' ')}"
                    f" than {pf.name!r} here"
                )
    parts: list[dict[str, np.ndarray]] = []
    for entry in meta["shards"]:
        path = directory / entry["file"]
        data = path.read_bytes() if path.exists() else None
        if data is None:
            raise ShardError(f"shard {path} is missing")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ShardError(f"shard {path} is corrupt (checksum mismatch)")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                parts.append({k: z[k] for k in z.files})
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ShardError(f"shard {path} is corrupt: {exc}") from exc
    if not parts:
        raise ShardError(f"{directory} has no shards")
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return meta, arrays
