"""sailir: reduction of Feynman integrals to master integrals.

The numeric work happens in the C++ engine (``sailir._core``); this package finds families,
derives their IBP/LI identities with sympy, and gives a small Python API::

    import sailir
    result = sailir.reduce(["I[2,1,2,1,2,2,-4]"], family="trianglebox")
    result["reductions"]["I[2,1,2,1,2,2,-4]"]   # {master: coefficient modulo result["prime"]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

__all__ = ["reduce", "sectors", "family_file", "DEFAULT_PRIME", "__version__"]
__version__ = "0.1.0"
DEFAULT_PRIME = 9223372036854775783  # 2^63 - 25, the engine's default modulus


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
    masters: Iterable[str] | Path | None = None,
    check: bool = True,
    r_extra: int = 0,
    s_extra: int = 0,
    method: str = "laporta",
    policy: str | Path | None = None,
    beam_width: int = 1,
    threads: int = 2,
    verify: bool = False,
) -> dict:
    """Reduce `integrals` (``"I[...]"`` strings) to master integrals.

    Returns the JSON result as a dict: ``family``, ``family_hash``, ``prime``, ``point``,
    ``masters`` (power lists), ``reductions`` (integral -> {master -> coefficient in [0, p)}),
    ``check_prime``, ``warnings`` and ``stats``. `masters` is a preferred basis (strings or a
    file with one integral per line); by default the family's own basis, if it has one.
    ``method="learned"`` reduces with a policy (`policy`: an exported ``.onnx``, by default the one
    shipped for the family) by beam search of width `beam_width` on `threads` worker threads;
    ``verify=True`` also compares every coefficient with the Laporta reducer (``"verified"``).
    """
    from . import _core

    if isinstance(masters, Path):
        masters = [ln.strip() for ln in masters.read_text().splitlines() if ln.strip()]
    text = _core.reduce(
        family_file(family),
        list(integrals),
        prime=prime,
        point=_point_text(point),
        masters=None if masters is None else list(masters),
        check=check,
        r_extra=r_extra,
        s_extra=s_extra,
        method=method,
        policy="" if policy is None else str(policy),
        beam_width=beam_width,
        threads=threads,
        verify=verify,
    )
    return json.loads(text)


def sectors(
    family: str = "trianglebox",
    *,
    prime: int = DEFAULT_PRIME,
    point: str | dict[str, object] | None = None,
    masters: Iterable[str] | None = None,
) -> dict:
    """Nonzero sectors (ids) and master integrals (power lists) of a family, as found by the
    engine's IBP-based zero-sector test and Laporta master finding, with the ``point`` they were
    found at (symbols without a value get random rationals) and ``basis_checked`` (the masters
    were checked to be independent; a dependent basis raises ``UnreducedError``)."""
    from . import _core

    return _core.sectors(
        family_file(family),
        prime=prime,
        point=_point_text(point),
        masters=None if masters is None else list(masters),
    )
