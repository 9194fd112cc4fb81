"""Probes of an exact reduction on a Dask cluster (the ``cluster`` extra: ``pip install
'sailir[cluster]'``).

The reconstruction itself runs here, in the engine; it hands batches of probes to
:func:`probe_runner`, which splits them into chunks and replays each chunk on a worker with the
engine's own replay (``_core.replay_points``): the workers need sailir installed, nothing else.
For SLURM or HTCondor, start the scheduler with dask-jobqueue and pass its address (README).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CHUNK = 64  # probes per task: enough arithmetic to amortize a task's overhead


def _replay_chunk(family_file: str, recording: str, prime: int, points: list[list[int]]) -> list[list[int]]:
    from . import _core

    return _core.replay_points(family_file, recording, prime, points, threads=1)


def _client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as err:
        raise ValueError("cluster runs need Dask: pip install 'sailir[cluster]'") from err
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {err}") from err


def probe_runner(address: str, family_file: str) -> Callable[[str, int, list[list[int]]], list[list[int]]]:
    """A callable for the engine: (recording text, prime, points) -> values, run on the cluster.
    Connects now, so that an unreachable address fails before any work."""
    client = _client(address)
    scattered: dict[str, Any] = {}

    def run(recording: str, prime: int, points: list[list[int]]) -> list[list[int]]:
        if recording not in scattered:  # shipped to every worker once per reconstruction
            scattered.clear()
            scattered[recording] = client.scatter(recording, broadcast=True)
        rec = scattered[recording]
        chunks = [points[i : i + _CHUNK] for i in range(0, len(points), _CHUNK)]
        futures = client.map(
            _replay_chunk,
            [family_file] * len(chunks),
            [rec] * len(chunks),
            [prime] * len(chunks),
            chunks,
            pure=False,
        )
        out: list[list[int]] = []
        for part in client.gather(futures):
            out.extend(part)
        return out

    return run
