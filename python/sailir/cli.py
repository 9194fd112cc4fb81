"""The ``sailir`` command: ``sailir reduce`` (the native ``sailir-reduce``), ``sailir compile``
and ``sailir family``."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import sysconfig
from pathlib import Path


def _native_reduce() -> str | None:
    """The sailir-reduce installed with this package (same scripts folder), else on PATH."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "sailir-reduce"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("sailir-reduce")


def _cmd_family(args: argparse.Namespace) -> int:
    from . import sectors
    from .family import load_family
    from .identities import derive_identities

    fam = load_family(args.spec)
    templates = derive_identities(fam)
    info = sectors(args.spec, point=args.point)
    kinds = {k: sum(t.kind == k for t in templates) for k in ("IBP", "LI")}
    print(
        f"family {fam.name}: {len(fam.propagators)} propagators, loop momenta {', '.join(fam.loop_momenta)}"
    )
    nterms = sum(len(t.terms) for t in templates)
    print(f"identities: {kinds['IBP']} IBP + {kinds['LI']} LI templates, {nterms} terms")
    print(f"nonzero sectors ({len(info['nonzero_sectors'])}): {' '.join(map(str, info['nonzero_sectors']))}")
    print(f"masters ({len(info['masters'])}):")
    for m in info["masters"]:
        print(f"  I[{','.join(map(str, m))}]")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "reduce":
        native = _native_reduce()
        if native is None:
            print("sailir: error: the sailir-reduce binary is not installed", file=sys.stderr)
            return 2
        os.execv(native, [native, *argv[1:]])
    parser = argparse.ArgumentParser(
        prog="sailir", description="Feynman integral reduction with IBP identities."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("reduce", help="reduce integrals to masters (same options as sailir-reduce --help)")
    comp = sub.add_parser(
        "compile", help="compile a family YAML or Kira config directory; prints the cached file"
    )
    comp.add_argument("spec")
    fam = sub.add_parser("family", help="summary of a family: identities, nonzero sectors, masters")
    fam.add_argument("spec")
    fam.add_argument("--point", default=None, help="numeric point, e.g. d=41,m2=31")
    args = parser.parse_args(argv)
    from .errors import FamilyError

    try:
        if args.command == "compile":
            from .familyfile import compile_family

            print(compile_family(args.spec))
            return 0
        return _cmd_family(args)
    except (FamilyError, ValueError) as exc:
        print(f"sailir: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
