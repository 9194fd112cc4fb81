"""``sailir kira JOBFILE``: run a Kira job file with sailir.

A Kira project holds ``config/integralfamilies.yaml``, ``config/kinematics.yaml``, a job file,
integral lists and perhaps a preferred-masters file. This module reads the job file the way Kira
does (file names relative to the job file's directory), reduces the integrals it selects and
exports exactly (coefficients are rational functions of d and the invariants, as Kira's are) and
writes what Kira writes, where Kira writes it:

- ``results/FAM/masters`` (and ``masters.final``): the masters, one ``FAM[...] # sector`` a line;
- ``kira2math``: ``results/FAM/kira_NAME.m``, a Mathematica list of rules
  ``FAM[...] -> + FAM[master]*(coefficient) + ...``;
- ``kira2form``: ``results/FAM/kira_NAME.inc``, FORM ``id FAM(...) = + FAM(master)*(coefficient) ...;``

where NAME is the integral list's name as the job file writes it (without ``/``) or, for a
target given by sectors, the family's name. Keys that only tune Kira's own algorithm are ignored
with a notice; unknown keys, and Kira features that would change the result and that sailir does
not have, are errors. sailir keeps no database between runs: an export job reduces its targets.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "KiraJobError",
    "JobFile",
    "SectorSpec",
    "IntegralFile",
    "parse_job_file",
    "run_job_file",
    "sector_integrals",
    "mathematica_rules",
    "form_rules",
    "add_arguments",
    "run_command",
]

Integral = tuple[int, ...]

# Keys that only steer Kira's own algorithm (seeding, ordering, elimination phases, its database,
# its reconstruction): they do not change the reductions, so sailir ignores them with a notice.
_ALGORITHM_KEYS = frozenset(
    "run_initiate run_triangular run_back_substitution run_symmetries run_firefly integral_ordering "
    "data_file conditional iterative_reduction lorenz_invariance algebraic_reconstruction "
    "pyred_database factor_scan write_numerical_system generate_input".split()
)
# Kira keys whose effect sailir does not reproduce (user systems, restricted bases, amplitudes...).
_UNSUPPORTED_KEYS = frozenset(
    "input_system sector_selection identities select_masters_reduction set_zero_sectors "
    "create_denominator_database amplitude_translate weight_notation insert_prefactors alt_dir".split()
)
_REDUCE_KEYS = frozenset({"reduce", "select_integrals", "preferred_masters", "select_masters"})
_SELECT_KEYS = frozenset(
    "select_mandatory_list select_optional_list select_mandatory_recursively "
    "select_optional_recursively preferred_masters select_masters".split()
)
_SPEC_KEYS = frozenset({"topologies", "sectors", "r", "s", "d"})
_EXPORTS = {"kira2math": ".m", "kira2form": ".inc"}
_UNSUPPORTED_JOBS = frozenset({"kira2file", "kira2formfill", "merge", "dgl", "derive_dgl", "evaluate"})
_INTEGRAL = re.compile(r"^([^\[\]]+)\[(-?\d+(?:,-?\d+)*)\]$")


class KiraJobError(ValueError):
    """A job file sailir cannot run (one line: what and where)."""


@dataclass(frozen=True)
class KiraFamily:
    """What the job file needs of a family in ``config/integralfamilies.yaml``."""

    name: str  # as Kira writes it (the results/ folder and the rules use it)
    n: int  # propagators
    covered: int  # union of the top-level sectors: the propagators that may carry positive powers
    spec: str  # what sailir.reduce and sailir.sectors load


@dataclass(frozen=True)
class SectorSpec:
    """``{topologies: [...], sectors: [...], r: R, s: S, d: D}``: the integrals of the sectors and
    their subsectors with at most R positive powers summed, S negative powers summed (absolute
    values) and D dots; resolved to family names and sector ids."""

    families: tuple[str, ...]
    sectors: tuple[int, ...]
    r: int
    s: int
    d: int | None = None


@dataclass(frozen=True)
class IntegralFile:
    """An integral list (Kira ``FAM[...]`` lines or a Mathematica list) named in the job file."""

    name: str  # as the job file writes it; the export's file name is kira_<name without '/'>
    path: Path
    family: str | None  # the family of `[FAM, file]`, None for a bare file
    integrals: tuple[tuple[str, Integral], ...]


@dataclass
class ReduceJob:
    selections: list[SectorSpec | IntegralFile] = field(default_factory=list)
    masters: IntegralFile | None = None


@dataclass
class ExportJob:
    kind: str  # kira2math or kira2form
    targets: list[SectorSpec | IntegralFile] = field(default_factory=list)


@dataclass
class JobFile:
    path: Path
    project: Path  # the directory holding config/ (results/ goes here)
    config: Path
    families: dict[str, KiraFamily]
    replace_by_one: str | None
    reductions: list[ReduceJob]
    exports: list[ExportJob]
    notices: list[str]


# ---------------------------------------------------------------- reading the job file


def _err(where: str, message: str) -> KiraJobError:
    return KiraJobError(f"{where}: {message}")


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KiraJobError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise KiraJobError(f"{path}{at}: {problem}") from exc


def _find_config(job_dir: Path) -> Path:
    for project in (job_dir, job_dir.parent):
        if (project / "config" / "integralfamilies.yaml").is_file():
            return project
    raise KiraJobError(
        f"no Kira config found: neither {job_dir / 'config'} nor {job_dir.parent / 'config'} "
        "holds integralfamilies.yaml"
    )


def _sector_id(value: Any, fam: KiraFamily, where: str) -> int:
    """A Kira sector: a number, ``bNNN`` (first digit = propagator 1) or a list of 0/1."""
    n = fam.n
    sector: int | None = None
    bits: Any = None
    if isinstance(value, int) and not isinstance(value, bool):
        sector = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        sector = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*b[01]+\s*", value):
        bits = [int(c) for c in value.strip()[1:]]
    elif isinstance(value, list):
        bits = value
    if bits is not None and len(bits) == n and all(b in (0, 1) and not isinstance(b, bool) for b in bits):
        sector = sum(1 << i for i, b in enumerate(bits) if b)
    if sector is None or not 0 <= sector < 1 << n:
        raise _err(where, f"cannot read sector {value!r} of family {fam.name} ({n} propagators)")
    if sector & ~fam.covered:
        raise _err(
            where,
            f"sector {value} of family {fam.name} has a positive power on a propagator outside "
            "its top_level_sectors",
        )
    return sector


def _read_families(config: Path) -> tuple[dict[str, KiraFamily], str | None]:
    data = _read_yaml(config / "integralfamilies.yaml", "family file")
    entries = data.get("integralfamilies") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise KiraJobError(f"{config / 'integralfamilies.yaml'}: missing list 'integralfamilies'")
    families: dict[str, KiraFamily] = {}
    for entry in entries:
        where = str(config / "integralfamilies.yaml")
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise _err(where, "every integral family needs a name")
        props = entry.get("propagators")
        if not isinstance(props, list) or not props:
            raise _err(where, f"family {entry['name']}: propagators must be a non-empty list")
        name, n = entry["name"], len(props)
        spec = str(config) if len(entries) == 1 else f"{config}:{name}"
        covered = (1 << n) - 1
        tops = entry.get("top_level_sectors")
        if tops is not None:
            whole = KiraFamily(name, n, covered, spec)
            covered = 0
            for top in tops if isinstance(tops, list) else [tops]:
                covered |= _sector_id(top, whole, f"{where}: top_level_sectors")
        families[name] = KiraFamily(name, n, covered, spec)
    kinematics = _read_yaml(config / "kinematics.yaml", "kinematics file")
    one = None
    if isinstance(kinematics, dict) and isinstance(kinematics.get("kinematics"), dict):
        value = kinematics["kinematics"].get("symbol_to_replace_by_one")
        one = None if value is None else str(value)
    return families, one


def _parse_integral(text: str, families: dict[str, KiraFamily], where: str) -> tuple[str, Integral]:
    match = _INTEGRAL.match(re.sub(r"\s+", "", text))
    if not match:
        raise _err(where, f"cannot read integral {text!r} (expected FAM[a1,...,an])")
    name, powers = match.group(1), tuple(int(a) for a in match.group(2).split(","))
    if name not in families:
        raise _err(where, f"integral {text} names no family of the config ({', '.join(families)})")
    if len(powers) != families[name].n:
        raise _err(where, f"integral {text} has {len(powers)} indices, family {name} has {families[name].n}")
    return name, powers


class _Reader:
    """Turns the job file's YAML into jobs, collecting notices for keys it ignores."""

    def __init__(self, job_dir: Path, project: Path, families: dict[str, KiraFamily]) -> None:
        self.job_dir, self.project, self.families = job_dir, project, families
        self.notices: list[str] = []

    def notice(self, key: str, where: str) -> None:
        line = f"ignoring {key} in {where}: it tunes Kira's own algorithm, not the result"
        if line not in self.notices:
            self.notices.append(line)

    def check_keys(self, mapping: Any, allowed: Iterable[str], where: str) -> dict[str, Any]:
        if not isinstance(mapping, dict):
            raise _err(where, f"expected a mapping, got {mapping!r}")
        allowed = set(allowed)
        for key in mapping:
            if key in allowed:
                continue
            if key in _ALGORITHM_KEYS:
                self.notice(key, where)
            elif key in _UNSUPPORTED_KEYS:
                raise _err(where, f"Kira's option '{key}' is not supported by sailir")
            else:
                raise _err(where, f"unknown key '{key}'")
        return mapping

    def file(self, value: Any, family: str | None, where: str) -> IntegralFile:
        if not isinstance(value, str) or not value.strip():
            raise _err(where, f"expected a file name, got {value!r}")
        if family is not None and family not in self.families:
            raise _err(where, f"no family '{family}' in the config ({', '.join(self.families)})")
        name = value.strip()
        path = Path(name)
        if not path.is_absolute():
            first = self.job_dir / path
            path = first if first.exists() or not (self.project / path).exists() else self.project / path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise _err(where, f"integral file {name} not found ({path})") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise _err(where, f"cannot read integral file {path}: {exc}") from exc
        from . import _core

        try:
            items = _core.integral_list(text)  # the reader of sailir-reduce --integrals and --masters
        except ValueError as exc:
            raise _err(f"{where}: {path}", str(exc)) from exc
        integrals = tuple(_parse_integral(item, self.families, str(path)) for item in items)
        if family is not None:
            for fam, powers in integrals:
                if fam != family:
                    shown = f"{fam}[{','.join(map(str, powers))}]"
                    raise _err(str(path), f"integral {shown} is not of family {family} named for the list")
        return IntegralFile(name, path, family, integrals)

    def spec(self, value: Any, where: str) -> SectorSpec:
        if isinstance(value, list) and len(value) == 4:  # Kira 1's [FAM, sector, r, s]
            value = {"topologies": [value[0]], "sectors": [value[1]], "r": value[2], "s": value[3]}
        spec = self.check_keys(value, _SPEC_KEYS, where)
        for key in ("sectors", "r", "s"):
            if key not in spec:
                raise _err(where, f"missing key '{key}'")
        bounds = {}
        for key in ("r", "s", "d"):
            v = spec.get(key)
            if key == "d" and v is None:
                continue
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise _err(where, f"{key} must be a non-negative integer, got {v!r}")
            bounds[key] = v
        names = spec.get("topologies")
        if names is None:
            names = list(self.families)
        if not isinstance(names, list) or not names:
            raise _err(where, f"topologies must be a list of family names, got {names!r}")
        for name in names:
            if name not in self.families:
                raise _err(where, f"no family '{name}' in the config ({', '.join(self.families)})")
        sectors = spec["sectors"] if isinstance(spec["sectors"], list) else [spec["sectors"]]
        if not sectors:
            raise _err(where, "sectors must not be empty")
        # The ids of every named family's sectors, family after family (see _expand).
        ids = tuple(_sector_id(x, self.families[name], where) for name in names for x in sectors)
        return SectorSpec(tuple(names), ids, bounds["r"], bounds["s"], bounds.get("d"))

    def list_file(self, item: Any, where: str) -> IntegralFile:
        """`[FAM, file]`, `[file]` or a bare `file`."""
        if isinstance(item, list) and len(item) == 2:
            return self.file(item[1], str(item[0]), where)
        if isinstance(item, list) and len(item) == 1:
            return self.file(item[0], None, where)
        if isinstance(item, str):
            return self.file(item, None, where)
        raise _err(where, f"expected [FAMILY, file] or a file name, got {item!r}")

    def lists(self, value: Any, where: str) -> list[IntegralFile]:
        items = value if isinstance(value, list) else [value]
        return [self.list_file(item, f"{where}[{i}]") for i, item in enumerate(items)]

    def specs(self, value: Any, where: str) -> list[SectorSpec]:
        if not isinstance(value, list):
            raise _err(where, "expected a list of {topologies, sectors, r, s}")
        return [self.spec(item, f"{where}[{i}]") for i, item in enumerate(value)]

    def targets(self, value: Any, where: str) -> list[SectorSpec | IntegralFile]:
        if not isinstance(value, list) or not value:
            raise _err(where, "expected a non-empty list of targets")
        out: list[SectorSpec | IntegralFile] = []
        for i, item in enumerate(value):
            here = f"{where}[{i}]"
            if isinstance(item, dict) or (isinstance(item, list) and len(item) == 4):
                out.append(self.spec(item, here))
            else:
                out.append(self.list_file(item, here))
        return out

    def reduce_job(self, body: Any, where: str) -> ReduceJob:
        body = self.check_keys(body, _REDUCE_KEYS, where)
        job = ReduceJob()
        reduce_specs = self.specs(body["reduce"], f"{where}: reduce") if "reduce" in body else []
        masters = [body[k] for k in ("preferred_masters", "select_masters") if k in body]
        if "select_integrals" in body:
            here = f"{where}: select_integrals"
            sel = self.check_keys(body["select_integrals"], _SELECT_KEYS, here)
            for key in ("select_mandatory_list", "select_optional_list"):
                if key in sel:
                    job.selections.extend(self.lists(sel[key], f"{here}: {key}"))
            for key in ("select_mandatory_recursively", "select_optional_recursively"):
                if key in sel:
                    job.selections.extend(self.specs(sel[key], f"{here}: {key}"))
            masters += [sel[k] for k in ("preferred_masters", "select_masters") if k in sel]
        else:
            job.selections.extend(reduce_specs)  # Kira reduces the whole seed range then
        if len(masters) > 1:
            raise _err(where, "more than one preferred_masters file")
        if masters:
            job.masters = self.file(masters[0], None, f"{where}: preferred_masters")
        return job

    def export_job(self, kind: str, body: Any, one: str | None, where: str) -> ExportJob:
        body = self.check_keys(body, {"target", "reconstruct_mass"}, where)
        if body.get("reconstruct_mass") not in (None, False, "false") and one is not None:
            raise _err(
                where,
                f"reconstruct_mass is not supported: the coefficients keep {one} = 1 "
                "(symbol_to_replace_by_one)",
            )
        if "target" not in body:
            raise _err(where, "missing key 'target'")
        return ExportJob(kind, self.targets(body["target"], f"{where}: target"))


def parse_job_file(path: str | Path) -> JobFile:
    """Read a Kira job file and everything it names (config, integral lists, masters).

    Raises KiraJobError (a ValueError) with a one-line message naming the key or file at fault."""
    path = Path(path)
    if not path.is_file():
        raise KiraJobError(f"job file {path} not found")
    data = _read_yaml(path, "job file")
    job_dir = path.resolve().parent
    project = _find_config(job_dir)
    config = project / "config"
    families, one = _read_families(config)
    reader = _Reader(job_dir, project, families)
    reader.check_keys(data, {"jobs"}, str(path))
    if not isinstance(data.get("jobs"), list) or not data["jobs"]:
        raise _err(str(path), "'jobs' must be a non-empty list")
    reductions: list[ReduceJob] = []
    exports: list[ExportJob] = []
    for i, item in enumerate(data["jobs"]):
        where = f"{path.name}: jobs[{i}]"
        jobs = {"reduce_sectors", *_EXPORTS}
        item = reader.check_keys(item, jobs | _UNSUPPORTED_JOBS, where)
        named = [k for k in item if k in jobs or k in _UNSUPPORTED_JOBS]
        if not named:
            raise _err(where, "no job (reduce_sectors, kira2math, kira2form)")
        for key in named:
            if key in _UNSUPPORTED_JOBS:
                raise _err(where, f"Kira's job '{key}' is not supported by sailir")
            if key == "reduce_sectors":
                reductions.append(reader.reduce_job(item[key], f"{where}: reduce_sectors"))
            else:
                exports.append(reader.export_job(key, item[key], one, f"{where}: {key}"))
    return JobFile(path, project, config, families, one, reductions, exports, reader.notices)


# ---------------------------------------------------------------- integrals of sectors


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """All tuples of `parts` non-negative integers summing to `total`."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _subsectors(sector: int) -> list[int]:
    subs, sub = [], sector
    while True:
        subs.append(sub)
        if sub == 0:
            break
        sub = (sub - 1) & sector
    return sorted(subs, key=lambda m: (bin(m).count("1"), m))


def sector_integrals(
    sector: int, n: int, r: int, s: int, d: int | None = None, *, subsectors: bool = True
) -> Iterator[Integral]:
    """The integrals of `sector` (and, by default, of all its subsectors) with r (the sum of the
    positive powers) at most `r`, s (the sum of the absolute values of the negative powers) at
    most `s` and at most `d` dots (powers above 1, summed); ordered by sector, then r, then s.
    Sector 0 (no positive power) is left out, as Kira leaves it out."""
    for sub in _subsectors(sector) if subsectors else [sector]:
        if sub == 0:
            continue
        lines = [i for i in range(n) if sub >> i & 1]
        others = [i for i in range(n) if not sub >> i & 1]
        dots_max = r - len(lines) if d is None else min(r - len(lines), d)
        for dots in range(dots_max + 1):
            for k in range(s + 1):
                for extra in _compositions(dots, len(lines)):
                    for neg in _compositions(k, len(others)):
                        powers = [0] * n
                        for i, e in zip(lines, extra, strict=True):
                            powers[i] = 1 + e
                        for i, e in zip(others, neg, strict=True):
                            powers[i] = -e
                        yield tuple(powers)


def sector_of(powers: Integral) -> int:
    return sum(1 << i for i, a in enumerate(powers) if a > 0)


# ---------------------------------------------------------------- writing Kira's files


def _call(name: str, powers: Integral, open_: str, close: str) -> str:
    return f"{name}{open_}{','.join(map(str, powers))}{close}"


Rules = list[tuple[Integral, list[tuple[Integral, str]]]]  # target -> [(master, coefficient)]


def mathematica_rules(family: str, rules: Rules) -> str:
    """Kira's ``kira2math`` layout: ``{`` then ``FAM[...] -> `` and one `` + FAM[m]*(c)`` line per
    master (`` + 0`` for a zero integral), entries separated by ``,``, then ``}``."""
    entries = []
    for target, terms in rules:
        lines = [_call(family, target, "[", "]") + " -> "]
        lines += [f" + {_call(family, m, '[', ']')}*({c})" for m, c in terms] or [" + 0"]
        entries.append("\n".join(lines) + "\n")
    return "{\n" + ",\n".join(entries) + "}\n"


def _unwrap(text: str) -> str:
    """`(x)` -> `x` when the parentheses enclose all of it."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and i < len(text) - 1:
            return text
    return text[1:-1]


def _form_coefficient(coefficient: str) -> str:
    """FORM does not divide by polynomials: ``N/D`` with a symbolic D becomes ``num(N)*den(D)``,
    as Kira's kira2form writes it; a number as denominator stays."""
    depth, cut = 0, -1
    for i, ch in enumerate(coefficient):
        depth += (ch == "(") - (ch == ")")
        if ch == "/" and depth == 0:
            cut = i
    if cut < 0 or re.fullmatch(r"\d+", coefficient[cut + 1 :]):
        return coefficient
    return f"num({_unwrap(coefficient[:cut])})*den({_unwrap(coefficient[cut + 1 :])})"


def form_rules(family: str, rules: Rules) -> str:
    """Kira's ``kira2form`` layout: ``id FAM(...) = `` and one `` + FAM(m)*(c)`` line per master,
    each statement closed by ``;``; polynomial denominators as ``den(...)`` (declare ``CF num,
    den;`` and map them, e.g. to a PolyRatFun)."""
    entries = []
    for target, terms in rules:
        lines = ["id " + _call(family, target, "(", ")") + " = "]
        lines += [f" + {_call(family, m, '(', ')')}*({_form_coefficient(c)})" for m, c in terms] or [" + 0"]
        entries.append("\n".join(lines) + "\n;\n")
    return "\n".join(entries)


def _masters_text(family: str, masters: Iterable[Integral]) -> str:
    return "".join(f"{_call(family, m, '[', ']')} # {sector_of(m)}\n" for m in masters)


def _write(path: Path, text: str) -> None:
    """Write beside the target and rename over it: an interrupted run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- running


def _powers(key: str) -> Integral:
    return tuple(int(a) for a in key[key.index("[") + 1 : key.rindex("]")].split(","))


def _i_form(powers: Integral) -> str:
    return _call("I", powers, "[", "]")


@dataclass
class _Plan:
    """Per family: what to reduce, what to export (output file -> integrals), the basis."""

    selected: list[Integral] = field(default_factory=list)
    exports: dict[tuple[str, str], list[Integral]] = field(default_factory=dict)  # (kind, name)
    masters_file: IntegralFile | None = None
    sectors: bool = False  # some selection or target is given by sectors


def _add(out: list[Integral], seen: set[Integral], items: Iterable[Integral]) -> None:
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)


def _expand(item: SectorSpec | IntegralFile, families: dict[str, KiraFamily]) -> dict[str, list[Integral]]:
    """The integrals of a selection or target, per family (sector specs include zero sectors)."""
    out: dict[str, list[Integral]] = {}
    if isinstance(item, IntegralFile):
        for fam, powers in item.integrals:
            out.setdefault(fam, []).append(powers)
        return out
    per = len(item.sectors) // len(item.families)
    for k, fam in enumerate(item.families):
        for sector in item.sectors[k * per : (k + 1) * per]:
            out.setdefault(fam, []).extend(sector_integrals(sector, families[fam].n, item.r, item.s, item.d))
    return out


def _plan(job: JobFile) -> dict[str, _Plan]:
    plans = {name: _Plan() for name in job.families}
    seen: dict[str, set[Integral]] = {name: set() for name in job.families}
    for red in job.reductions:
        for item in red.selections:
            for fam, integrals in _expand(item, job.families).items():
                _add(plans[fam].selected, seen[fam], integrals)
                plans[fam].sectors |= isinstance(item, SectorSpec)
        if red.masters is not None:
            for fam in {f for f, _ in red.masters.integrals} or set(job.families):
                plan = plans[fam]
                if plan.masters_file is not None and plan.masters_file.path != red.masters.path:
                    raise KiraJobError(f"two preferred_masters files for family {fam}")
                plan.masters_file = red.masters
    for exp in job.exports:
        for item in exp.targets:
            for fam, integrals in _expand(item, job.families).items():
                name = fam if isinstance(item, SectorSpec) else item.name.replace("/", "")
                listed = plans[fam].exports.setdefault((exp.kind, name), [])
                _add(listed, set(listed), integrals)
                plans[fam].sectors |= isinstance(item, SectorSpec)
    return plans


def run_job_file(
    path: str | Path,
    *,
    point: str | None = None,
    method: str = "laporta",
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
    report: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Run a Kira job file; returns the files written (under the project's ``results/``).

    Exports are exact (``sailir.reduce(..., analytic=True)``); `point` (``"m2=31,m3=47"``) fixes
    some symbols numerically. `log` receives the notices and progress (default: standard error),
    `report` each file as soon as it is written. Raises KiraJobError for a bad job file, the
    engine's errors for a family or reduction that fails."""
    say = log or (lambda line: print(f"sailir kira: {line}", file=sys.stderr))
    job = parse_job_file(path)
    for line in job.notices:
        say(line)
    written: list[Path] = []
    for name, plan in _plan(job).items():
        if plan.selected or plan.exports or plan.masters_file is not None:
            run = _FamilyRun(job, job.families[name], plan, say, report)
            written += run.run(point=point, method=method, threads=threads)
    return written


class _FamilyRun:
    """The reduction and the files of one family."""

    def __init__(
        self,
        job: JobFile,
        fam: KiraFamily,
        plan: _Plan,
        say: Callable[[str], None],
        report: Callable[[Path], None] | None,
    ) -> None:
        self.job, self.fam, self.plan, self.say, self.report = job, fam, plan, say, report
        self.results = job.project / "results" / fam.name
        self.nonzero: set[int] | None = None
        self.written: list[Path] = []

    def write(self, base: str, text: str) -> None:
        _write(self.results / base, text)
        self.written.append(self.results / base)
        if self.report is not None:
            self.report(self.results / base)

    def basis(self) -> list[str] | None:
        """The preferred masters: the job's file, else (an export-only job file) the masters an
        earlier run wrote to results/FAM/masters, as Kira reads them; None: the engine's choice."""
        plan, name = self.plan, self.fam.name
        if plan.masters_file is not None:
            return [_i_form(p) for f, p in plan.masters_file.integrals if f == name] or None
        saved = self.results / "masters"
        if plan.exports and not plan.selected and saved.is_file():
            reader = _Reader(self.job.project, self.job.project, self.job.families)
            self.say(f"{name}: preferred masters from {saved}")
            return [_i_form(p) for _, p in reader.file(str(saved), name, "results").integrals] or None
        return None

    def is_zero(self, x: Integral) -> bool:
        return self.nonzero is not None and sector_of(x) not in self.nonzero

    def run(self, *, point: str | None, method: str, threads: int | None) -> list[Path]:
        import sailir

        fam, plan, name = self.fam, self.plan, self.fam.name
        masters = self.basis()
        exported = [x for xs in plan.exports.values() for x in xs]
        info = None
        if plan.sectors or not exported:  # zero sectors matter when sectors list the integrals
            info = sailir.sectors(fam.spec, point=point, masters=masters)
            self.nonzero = set(info["nonzero_sectors"])
        selected = [x for x in plan.selected if not self.is_zero(x)]
        exported = [x for x in exported if not self.is_zero(x)]
        if info is not None and not exported:
            # Nothing to export: list the masters of the selection's sectors, reduce nothing.
            used = {sector_of(x) for x in selected}
            listed = [tuple(m) for m in info["masters"] if any(sector_of(tuple(m)) & ~u == 0 for u in used)]
            self.say(f"{name}: no kira2math/kira2form job, nothing reduced; listing the masters")
            for base in ("masters", "masters.final"):
                self.write(base, _masters_text(name, listed))
            return self.written
        targets: list[Integral] = []
        _add(targets, set(), exported + selected)
        at = f" at {point}" if point else ""
        self.say(f"{name}: reducing {len(targets)} integrals exactly{at} ({method})")
        t0 = time.monotonic()
        result = sailir.reduce(
            [_i_form(x) for x in targets],
            fam.spec,
            analytic=True,
            point=point,
            method=method,
            threads=threads,
            masters=masters,
        )
        for warning in result.warnings:
            self.say(f"{name}: warning: {warning}")
        self.say(f"{name}: done in {time.monotonic() - t0:.1f} s (symbols {', '.join(result.symbols)})")
        order = [tuple(m) for m in result.masters]
        rank = {m: i for i, m in enumerate(order)}
        table: dict[Integral, list[tuple[Integral, str]]] = {}
        for key, row in result.reductions.items():
            terms = [(_powers(m), c) for m, c in row.items()]
            table[_powers(key)] = sorted(terms, key=lambda t: -rank.get(t[0], -1))  # Kira: highest first
        used = {m for row in table.values() for m, _ in row} | {x for x in targets if x in rank}
        for base in ("masters", "masters.final"):
            self.write(base, _masters_text(name, [m for m in order if m in used]))
        for (kind, list_name), integrals in plan.exports.items():
            zeros = [x for x in integrals if self.is_zero(x) or table.get(x) == []]
            rules: Rules = [(x, []) for x in zeros]  # Kira lists the zero integrals first
            rules += [(x, table[x]) for x in integrals if x not in rank and x not in zeros]  # no masters
            text = mathematica_rules(name, rules) if kind == "kira2math" else form_rules(name, rules)
            self.write(f"kira_{list_name}{_EXPORTS[kind]}", text)
        return self.written


# ---------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("jobfile", help="the Kira job file (config/ beside it or one level up)")
    parser.add_argument(
        "--point",
        default=None,
        help="fix some symbols numerically, e.g. m2=31,m3=47 (default: all stay symbolic)",
    )
    parser.add_argument("--method", choices=("laporta", "learned"), default="laporta")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: the engine's, 2)")
    parser.add_argument(
        "--dry-run", action="store_true", help="read the job file and list what it would write"
    )


def _dry_run(path: str) -> int:
    job = parse_job_file(path)
    for line in job.notices:
        print(f"sailir kira: {line}", file=sys.stderr)
    for fam_name, plan in _plan(job).items():
        results = job.project / "results" / fam_name
        if plan.selected:
            print(f"{fam_name}: {len(plan.selected)} integrals selected (zero sectors included)")
        if plan.masters_file is not None:
            print(f"{fam_name}: preferred masters {plan.masters_file.path}")
        for (kind, name), integrals in plan.exports.items():
            out = results / f"kira_{name}{_EXPORTS[kind]}"
            print(f"{fam_name}: {kind} of {len(integrals)} integrals -> {out}")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """The ``sailir kira`` subcommand: exit 0, 2 (bad job file, family or option), 3 (a
    reduction that could not be completed), 10 (a result that could not be written), 11 (a
    reduction beyond the memory limit)."""
    import sailir

    try:
        if args.dry_run:
            return _dry_run(args.jobfile)
        run_job_file(
            args.jobfile,
            point=args.point,
            method=args.method,
            threads=args.threads,
            report=lambda out: print(f"wrote {out}", flush=True),
        )
        return 0
    except ValueError as exc:  # KiraJobError, FamilyError, bad options, a refused basis
        print(f"sailir kira: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    except (sailir.UnreducedError, sailir.NotConvergedError, sailir.RecordingError) as exc:
        print(f"sailir kira: error: {exc}".splitlines()[0], file=sys.stderr)
        return 3
    except MemoryError as exc:  # MemoryLimitError: a Laporta system beyond --memory-limit
        print(f"sailir kira: error: {exc}".splitlines()[0], file=sys.stderr)
        return 11
    except OSError as exc:
        print(f"sailir kira: error: cannot write results: {exc}", file=sys.stderr)
        return 10
