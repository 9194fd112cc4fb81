"""Writing compiled family files (`.sfam`, docs/family-file.md) and caching them by family hash.

`python -m sailir.familyfile --regenerate-builtins` rewrites the packaged `data/families/*.sfam`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import sympy

from sailir.family import (
    Family,
    builtin_file,
    builtin_names,
    family_algebra,
    family_hash,
    load_family,
    poly_terms,
)
from sailir.identities import DIMENSION, IDENTITIES_VERSION, Template, coefficient_symbols, derive_identities
from sailir.symmetries import all_maps, find_symmetries
from sailir.zero_sectors import zero_sectors

MAGIC = "sailir-family 3"
_IDENTIFIER_OR_NUMBER = r"[A-Za-z0-9_]+"


def _rational(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _display(momentum: str, mass: str, squared: bool = True) -> str:
    """Human-readable D without spaces: k1^2, (k1+p3)^2, k^2-msq, k^2-(m1+m2), 2*k1*u1+2*k2*u1."""
    square = f"{momentum}^2" if re.fullmatch(_IDENTIFIER_OR_NUMBER, momentum) else f"({momentum})^2"
    if not squared:
        square = momentum
    if mass == "0":
        return square
    return f"{square}-{mass}" if re.fullmatch(_IDENTIFIER_OR_NUMBER, mass) else f"{square}-({mass})"


def render_header(family: Family, digest: str) -> str:
    """Everything before the templates (the only part that depends on name, point and masters)."""
    lines = [
        MAGIC,
        f"name {family.name}",
        f"hash {digest}",
        f"identities-version {IDENTITIES_VERSION}",
        f"propagators {len(family.propagators)}",
    ]
    squared = family_algebra(family).squared
    lines += [
        f"propagator {i} {_display(m, msq, sq)}"
        for i, ((m, msq), sq) in enumerate(zip(family.propagators, squared, strict=True), 1)
    ]
    lines.append(" ".join(["irreducible", *map(str, family.irreducible)]))
    lines.append(" ".join(["symbols", "d", *family.invariants]))
    lines.append(f"one {family.symbol_to_replace_by_one or '-'}")
    lines.append(" ".join(["point", *(f"{k}={_rational(v)}" for k, v in family.point.items())]))
    lines.append(f"masters {len(family.masters)}")
    lines += ["I[" + ",".join(map(str, m)) + "]" for m in family.masters]
    return "\n".join(lines) + "\n"


# The last word of the `symmetries` line: what the search covered. A cached file without it was
# searched over loop-momentum relabellings only, so its symmetries are found again.
SYMMETRY_SEARCH = "externals"


def render_symmetries(family: Family) -> str:
    """The sector mappings and self-maps (sailir.symmetries) found over the nonzero sectors of
    the Lee-Pomeransky test: for each, the image of every propagator as `image M_1..M_n` (its
    coefficients over the propagators) and the monomials of its constant in (d, invariants)."""
    zero = zero_sectors(family)
    reducible = sum(
        1 << (i - 1) for i in range(1, len(family.propagators) + 1) if i not in family.irreducible
    )
    nonzero = [s for s in range(1, reducible + 1) if s & ~reducible == 0 and s not in zero]
    maps = all_maps(find_symmetries(family, tuple(nonzero)))
    one = {sympy.Symbol(family.symbol_to_replace_by_one): 1} if family.symbol_to_replace_by_one else {}
    gens = (DIMENSION, *family_algebra(family).invariants)
    lines = [f"symmetries {len(maps)} {SYMMETRY_SEARCH}"]
    for m in maps:
        lines.append(f"map {m.source} {m.target}")
        for row, constant in m.images(family):
            monomials = poly_terms(constant.subs(one), gens)
            lines.append(
                f"image {','.join(_rational(Fraction(int(v.p), int(v.q))) for v in row)} {len(monomials)}"
            )
            lines += [f"mono {c} {','.join(map(str, e))}" for e, c in monomials]
    return "\n".join(lines) + "\n"


def render_templates(family: Family, templates: Sequence[Template]) -> str:
    gens = coefficient_symbols(family)
    lines = [f"templates {len(templates)}"]
    for template in templates:
        lines.append(
            f"template {template.kind} {template.labels[0]} {template.labels[1]} {len(template.terms)}"
        )
        for shift, coefficient in template.terms:
            monomials = poly_terms(coefficient, gens)
            lines.append(f"term {','.join(map(str, shift))} {len(monomials)}")
            lines += [f"mono {c} {','.join(map(str, e))}" for e, c in monomials]
    return "\n".join(lines) + "\n"


def checksum(text: str) -> str:
    """FNV-1a (64 bit) of the UTF-8 bytes: catches a changed digit in a file, not an adversary."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _sealed(body: str) -> str:
    return f"{body}checksum {checksum(body)}\nend\n"


def render_family_file(family: Family, templates: Sequence[Template]) -> str:
    return _sealed(
        render_header(family, family_hash(family))
        + render_templates(family, templates)
        + render_symmetries(family)
    )


def cache_dir() -> Path:
    env = os.environ.get("SAILIR_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "sailir" / "families"


def _cached_sections(text: str, digest: str) -> tuple[str, str | None] | None:
    """The templates and symmetries of an intact existing file for the same hash, so sympy need not
    run again; the symmetries are None when an older search found them (the caller finds them
    again). None for another hash or version, or a file whose checksum fails (it is rebuilt)."""
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != MAGIC or lines[2] != f"hash {digest}":
        return None
    body, sep, seal = text.rpartition("checksum ")
    if not sep or seal != f"{checksum(body)}\nend\n":
        return None
    start, split = body.find("\ntemplates "), body.find("\nsymmetries ")
    if start < 0:
        return None
    if split < start:  # a file from before symmetries were stored
        return body[start + 1 :], None
    symmetries = body[split + 1 :]
    current = symmetries.split("\n", 1)[0].endswith(f" {SYMMETRY_SEARCH}")
    return body[start + 1 : split + 1], symmetries if current else None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)  # readers see the old file or the whole new one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def compile_family(spec: str) -> Path:
    """Load, derive and write `<cache>/<hash>.sfam`, reusing cached or packaged templates."""
    family = load_family(spec)
    digest = family_hash(family)
    header = render_header(family, digest)
    path = cache_dir() / f"{digest}.sfam"
    candidates = [path]
    if spec in builtin_names():
        candidates.append(builtin_file(spec, ".sfam"))
    cached = None
    for candidate in candidates:
        try:
            existing = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        cached = _cached_sections(existing, digest)
        if cached is not None:
            break
    templates, symmetries = cached or (render_templates(family, derive_identities(family)), None)
    section = templates + (symmetries or render_symmetries(family))
    if cached and candidate == path and existing == _sealed(header + section):
        return path
    # The same definition under another name, point or masters rewrites the header only.
    _write_atomic(path, _sealed(header + section))
    return path


def regenerate_builtins(dest: Path | None = None) -> list[Path]:
    """Write NAME.sfam for every built-in family into `dest` (default: the package data folder)."""
    written = []
    for name in builtin_names():
        family = load_family(name)
        target = (dest or Path(str(builtin_file(name, ".sfam"))).parent) / f"{name}.sfam"
        _write_atomic(target, render_family_file(family, derive_identities(family)))
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sailir.familyfile", description=__doc__)
    parser.add_argument("--regenerate-builtins", action="store_true", help="rewrite data/families/*.sfam")
    args = parser.parse_args(argv)
    if not args.regenerate_builtins:
        parser.error("nothing to do (use --regenerate-builtins)")
    for path in regenerate_builtins():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
