"""`python -m sailir.compile SPEC`: compile a family and print the cached `.sfam` path.

The C++ binary runs this for YAML and Kira inputs; it never parses YAML itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sailir.errors import FamilyError
from sailir.familyfile import compile_family


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sailir.compile",
        description="Compile an integral family into the family cache and print the .sfam path.",
    )
    parser.add_argument("spec", help="built-in name, sailir YAML file, or Kira config directory [DIR:NAME]")
    args = parser.parse_args(argv)
    try:
        path = compile_family(args.spec)
    except FamilyError as err:
        print(f"sailir: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"sailir: error: cannot write the family cache: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
