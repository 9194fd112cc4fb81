"""sailir: reduction of Feynman integrals to master integrals.

The numeric work happens in the C++ engine (``sailir._core``); this package finds families,
derives their IBP/LI identities with sympy, and gives a small Python API::

    import sailir
    result = sailir.reduce(["I[2,1,2,1,2,2,-4]"], family="trianglebox")
    result.reductions["I[2,1,2,1,2,2,-4]"]   # {master: coefficient modulo result.prime}
    exact = sailir.reduce(["I[1,1,1,1,1,1,-1]"], analytic=True, point="m1=1,m2=31,m3=47")
    exact.reductions["I[1,1,1,1,1,1,-1]"]     # {master: "(...)/(...)" in d}
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import FamilyError
from .result import Reduction

__all__ = [
    "reduce",
    "replay",
    "Reduction",
    "sectors",
    "family_file",
    "DEFAULT_PRIME",
    "__version__",
    "FamilyError",
    "FamilyFileError",
    "UnreducedError",
    "PolicyFileError",
    "PolicyMismatchError",
    "RecordingFileError",
    "RecordingError",
    "NotConvergedError",
    "CheckpointError",
    "MemoryLimitError",
]
__version__ = "0.1.0"
DEFAULT_PRIME = 9223372036854775783  # 2^63 - 25, the engine's default modulus


# The engine's exception types, importable from here (loaded with the native module on first use):
# UnreducedError (a reduction not completed, a dependent basis), FamilyFileError (a corrupt
# compiled family), PolicyFileError and PolicyMismatchError, RecordingFileError (a corrupt recording
# or one made for another family), RecordingError (a reduction that cannot be recorded or replayed
# at a point), NotConvergedError (an exact reconstruction out of probes), CheckpointError (an
# unwritable or corrupt checkpoint, or one made for another problem) and MemoryLimitError (a
# Laporta system beyond the memory limit; a MemoryError). Bad values raise
# ValueError with the message the command line prints; FamilyError (a ValueError) names a problem
# in a family file.
_NATIVE_ERRORS = (
    "UnreducedError",
    "FamilyFileError",
    "PolicyFileError",
    "PolicyMismatchError",
    "RecordingFileError",
    "RecordingError",
    "NotConvergedError",
    "CheckpointError",
    "MemoryLimitError",
)


def __getattr__(name: str) -> type[Exception]:
    if name in _NATIVE_ERRORS:
        from . import _core

        return getattr(_core, name)
    raise AttributeError(f"module 'sailir' has no attribute '{name}'")


def _master_list(masters: Iterable[str] | str | Path | None) -> list[str] | None:
    """A preferred basis as integrals: a list of them, or a file (str or Path) read as the
    command line reads --masters (Kira master files included)."""
    if masters is None:
        return None
    if isinstance(masters, (str, Path)):
        from . import _core

        try:
            text = Path(masters).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"cannot read masters file {masters}: {err}") from err
        return _core.integral_list(text)  # the command line's reader
    return list(masters)


def family_file(spec: str) -> str:
    """What the engine loads for `spec`: a built-in name or a compiled ``.sfam`` path as is;
    a family YAML or Kira config directory compiled (and cached) first."""
    from . import _core

    if spec in _core.builtin_families() or spec.endswith(".sfam"):
        return spec
    from .familyfile import compile_family

    return str(compile_family(spec))


def _point_text(point: str | dict[str, object] | None) -> str:
    if point is None:
        return ""
    if isinstance(point, str):
        return point
    return ",".join(f"{k}={v}" for k, v in point.items())


def reduce(
    integrals: Iterable[str],
    family: str = "trianglebox",
    *,
    prime: int = DEFAULT_PRIME,
    point: str | dict[str, object] | None = None,
    masters: Iterable[str] | str | Path | None = None,
    check: bool = True,
    r_extra: int = 0,
    s_extra: int = 0,
    method: str = "laporta",
    policy: str | Path | None = None,
    policy_seed: int | None = None,
    beam_width: int = 1,
    threads: int | None = None,
    verify: bool = False,
    analytic: bool = False,
    max_probes: int | None = None,
    record: bool = False,
    cluster: str | None = None,
    memory_per_worker: str | int | None = None,
    memo_memory: str | int | None = None,
    memory_limit: str | int | None = None,
    checkpoint: str | Path | None = None,
    symmetries: bool = True,
    ranking: str = "auto",
    device: str = "auto",
) -> Reduction:
    """Reduce `integrals` (``"I[...]"`` strings) to master integrals.

    Returns a :class:`Reduction` with the fields of the command line's JSON (``family``,
    ``prime``, ``point``, ``masters``, ``reductions``: integral -> {master -> coefficient},
    ``check_prime``, ``warnings``, ``stats``), as attributes and as items. `masters` is a
    preferred basis (a list of integrals, or the path of a file with one per line); by default the
    family's own basis, if it has one. Values are checked as the command line checks them
    (`threads` 1-256, `r_extra` and `s_extra` 0-20, ...): a bad one raises ValueError with the
    same message. ``method="learned"`` reduces with a policy (`policy`: an exported ``.onnx``, by
    default the one shipped for the family) by beam search of width `beam_width`;
    ``verify=True`` also compares every coefficient with the Laporta reducer (``"verified"``).
    ``policy="uniform"`` (equal scores) and ``policy="random"`` with ``policy_seed`` (seeded
    random scores) are ablation baselines (docs/policy-ablation.md). `ranking` orders a step's
    candidates as ``--ranking`` does: ``"auto"`` (the policy's own choice), ``"both"``,
    ``"max"``, ``"total"`` or ``"policy"``.

    ``analytic=True`` gives exact coefficients, strings of rational functions of d and of every
    symbol that `point` does not fix; `max_probes` bounds the probes (NotConvergedError beyond).
    `cluster` (a Dask scheduler address, needs the ``cluster`` extra) runs the probes there;
    otherwise `device` chooses where: ``"auto"`` (a usable CUDA GPU, else the CPU, with the reason
    in ``stats["device_notice"]``), ``"cpu"`` or ``"cuda"`` (ValueError without a usable GPU);
    ``stats["device"]`` says where they ran.
    ``record=True`` keeps the recording (``result.recording``, ``result.save_recording(path)``).

    Memory (sizes as ``"32M"`` or bytes; None keeps the engine's default): `memory_per_worker`
    bounds each learned worker's state, `memo_memory` the finished jobs' values kept in memory,
    `memory_limit` a Laporta run (MemoryLimitError beyond it). `checkpoint` (a directory) records
    the learned run's finished jobs; the same call with the same directory resumes.

    ``symmetries=False`` keeps masters that sector symmetries relate (by default they are
    eliminated: every master lies in a unique sector, as in Kira's bases).
    """
    from . import _core

    _check_policy_seed(policy, policy_seed)
    runner = None
    if cluster is not None:
        from .cluster import probe_runner

        runner = probe_runner(cluster, family_file(family))
    kwargs = _engine_options(
        threads,
        max_probes,
        prime=prime,
        point=_point_text(point),
        masters=_master_list(masters),
        check=check,
        r_extra=r_extra,
        s_extra=s_extra,
        method=method,
        policy="" if policy is None else str(policy),
        policy_seed=policy_seed,
        beam_width=beam_width,
        verify=verify,
        analytic=analytic,
        record=record,
    )
    memory = {
        "memory_per_worker": memory_per_worker,
        "memo_memory": memo_memory,
        "memory_limit": memory_limit,
        "checkpoint": None if checkpoint is None else str(checkpoint),
    }
    data, recording = _core.reduce(
        family_file(family),
        list(integrals),
        runner=runner,
        memory=memory,
        symmetries=symmetries,
        ranking=ranking,
        device=device,
        **kwargs,
    )
    return Reduction(data, recording)


def replay(
    recording: str | Path,
    family: str = "trianglebox",
    *,
    prime: int = DEFAULT_PRIME,
    point: str | dict[str, object] | None = None,
    analytic: bool = False,
    threads: int | None = None,
    max_probes: int | None = None,
    cluster: str | None = None,
    device: str = "auto",
) -> Reduction:
    """Replay a saved recording (``sailir-reduce --save-path``) or learned path at another prime
    and point, or exactly (``analytic=True``: rational functions of the symbols `point` leaves
    free; `device` as in :func:`reduce`). Raises RecordingFileError for a corrupt file or one made
    for another family."""
    from . import _core

    try:
        text = Path(recording).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read recording {recording}: {err}") from err
    runner = None
    if cluster is not None:
        from .cluster import probe_runner

        runner = probe_runner(cluster, family_file(family))
    kwargs = _engine_options(
        threads, max_probes, prime=prime, point=_point_text(point), analytic=analytic, replay=text
    )
    data, _ = _core.reduce(family_file(family), [], runner=runner, device=device, **kwargs)
    return Reduction(data)


def _check_policy_seed(policy: str | Path | None, policy_seed: int | None) -> None:
    """The engine's rule for the random policy's seed, in this API's spelling."""
    if policy_seed is not None and not 0 <= policy_seed < 2**64:
        raise ValueError(f"policy_seed must be between 0 and 2**64 - 1, not {policy_seed}")
    if str(policy) == "random" and policy_seed is None:
        raise ValueError("policy 'random' needs a seed (policy_seed=S)")
    if policy_seed is not None and str(policy) != "random":
        raise ValueError("policy_seed is only for policy='random'")


def _engine_options(threads: int | None, max_probes: int | None, **kwargs: object) -> dict[str, object]:
    """The keyword arguments for the engine; None keeps the engine's own default."""
    if threads is not None:
        kwargs["threads"] = threads
    if max_probes is not None:
        kwargs["max_probes"] = max_probes
    return kwargs


def sectors(
    family: str = "trianglebox",
    *,
    prime: int = DEFAULT_PRIME,
    point: str | dict[str, object] | None = None,
    masters: Iterable[str] | str | Path | None = None,
    symmetries: bool = True,
    memory_limit: str | int | None = None,
) -> dict:
    """Nonzero sectors (ids) and master integrals (power lists) of a family, as found by the
    engine's IBP-based zero-sector test and Laporta master finding, with the ``point`` they were
    found at (symbols without a value get random rationals) and ``basis_checked`` (the masters
    were checked to be independent; a dependent basis raises ``UnreducedError``).

    ``unique_sectors`` are the nonzero sectors that no loop-momentum relabelling maps onto a lower
    one, ``mappings`` the others (``sector``, ``target``, ``lines``: line -> line). ``masters``
    lie in unique sectors only, related masters eliminated (``symmetries=False`` keeps them, as
    ``masters_without_symmetries`` always does). ``masters_upper_bound`` is true where reducing
    the masters' images fully would pass `memory_limit` (default 2 GB, e.g. ``"16G"``; at most 75%
    of the memory available), so the relations were reduced modulo subsectors: a reduction may
    then end on fewer masters."""
    from . import _core

    return _core.sectors(
        family_file(family),
        prime=prime,
        point=_point_text(point),
        masters=_master_list(masters),
        symmetries=symmetries,
        memory_limit="" if memory_limit is None else str(memory_limit),
    )
