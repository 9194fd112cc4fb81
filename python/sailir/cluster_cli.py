"""``sailir reduce --cluster ADDRESS ...``: the exact reduction with its probes on a Dask cluster.

The native ``sailir-reduce`` has no Dask client, so ``sailir reduce`` runs a command line with
``--cluster`` here, through the Python API (the same engine), and prints the same JSON. It takes
the options that matter for a cluster run; the rest stay with ``sailir-reduce``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import reduce, replay


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sailir reduce --cluster", description=__doc__.splitlines()[0])
    p.add_argument("integrals", nargs="*")
    p.add_argument("--cluster", required=True, help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--family", default="trianglebox")
    p.add_argument("--method", default="laporta", choices=["laporta", "learned"])
    p.add_argument("--policy", default=None)
    p.add_argument("--point", default=None)
    p.add_argument("--masters", default=None, help="a masters file")
    p.add_argument("--integrals", dest="integral_file", default=None, help="a file of integrals")
    p.add_argument("--analytic", action="store_true", help="required: probes are what runs on the cluster")
    p.add_argument("--replay", default=None, help="a recording (or learned path) to make exact")
    p.add_argument("--max-probes", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--save-path", default=None)
    p.add_argument("--output", default=None)
    p.add_argument("--progress", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not args.analytic:
        print("sailir-reduce: error: --cluster runs the probes of --analytic reductions", file=sys.stderr)
        return 2
    integrals = list(args.integrals)
    try:
        if args.integral_file:
            from . import _core

            integrals += _core.integral_list(Path(args.integral_file).read_text(encoding="utf-8"))
        if args.replay:
            result = replay(
                args.replay,
                args.family,
                point=args.point,
                analytic=True,
                threads=args.threads,
                max_probes=args.max_probes,
                cluster=args.cluster,
            )
        else:
            result = reduce(
                integrals,
                args.family,
                point=args.point,
                masters=args.masters,
                method=args.method,
                policy=args.policy,
                threads=args.threads,
                analytic=True,
                max_probes=args.max_probes,
                record=args.save_path is not None,
                cluster=args.cluster,
            )
    except (ValueError, RuntimeError, OSError) as err:
        print(
            f"sailir-reduce: error: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
            file=sys.stderr,
        )
        return 3 if type(err).__name__ in ("UnreducedError", "RecordingError", "NotConvergedError") else 2
    text = json.dumps(dict(result), indent=2) + "\n"
    if args.save_path:
        result.save_recording(args.save_path)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
