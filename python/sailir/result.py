"""The result of a reduction as a Python object.

``Reduction`` has the fields of ``sailir-reduce``'s JSON as attributes and, for code written
against that JSON, as items (``result["reductions"]``). Exact results (``analytic``) hold strings
such as ``"(2*d-7)/(d-4)^2"``; numeric ones hold residues modulo ``prime``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


class Reduction(Mapping[str, Any]):
    """A finished reduction (built by the engine; never parsed back from text)."""

    def __init__(self, data: dict[str, Any], recording: str | None = None) -> None:
        self._data = data
        self._recording = recording

    # The JSON fields, by name.
    family: str = property(lambda self: self._data["family"])  # type: ignore[assignment]
    method: str = property(lambda self: self._data["method"])  # type: ignore[assignment]
    masters: list[list[int]] = property(lambda self: self._data["masters"])  # type: ignore[assignment]
    reductions: dict[str, dict[str, Any]] = property(lambda self: self._data["reductions"])  # type: ignore[assignment]
    point: dict[str, Any] = property(lambda self: self._data["point"])  # type: ignore[assignment]
    warnings: list[str] = property(lambda self: self._data["warnings"])  # type: ignore[assignment]
    stats: dict[str, Any] = property(lambda self: self._data["stats"])  # type: ignore[assignment]

    @property
    def analytic(self) -> bool:
        """True when the coefficients are exact rational functions (strings) of ``symbols``."""
        return bool(self._data.get("analytic", False))

    @property
    def symbols(self) -> list[str]:
        return list(self._data.get("symbols", []))

    @property
    def prime(self) -> int | None:
        return self._data.get("prime")

    @property
    def recording(self) -> str | None:
        """The recording's text when asked for (``record=True`` or ``save_path``)."""
        return self._recording

    def save_recording(self, path: str | Path) -> None:
        if self._recording is None:
            raise ValueError("this result has no recording: reduce with record=True")
        Path(path).write_text(self._recording, encoding="utf-8")

    def to_json(self) -> str:
        return json.dumps(self._data, indent=2)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        kind = "exact" if self.analytic else f"mod {self.prime}"
        return f"<Reduction {self.family} {self.method}, {len(self.reductions)} integrals, {kind}>"
