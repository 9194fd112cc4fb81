"""The ``sailir`` command: ``sailir reduce`` (the native ``sailir-reduce``), ``sailir compile``,
``sailir family``, ``sailir kira`` (run a Kira job file), and the policy workflow
``sailir generate``, ``sailir train``, ``sailir export`` (these need the ``train`` extra) and
``sailir evaluate`` (the C++ policy runtime; ``--backend torch`` needs the extra)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import time
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
    info = sectors(
        args.spec, point=args.point, symmetries=not args.no_symmetries, memory_limit=args.memory_limit
    )
    if args.format == "json":
        keys = ("masters", "masters_upper_bound", "nonzero_sectors", "unique_sectors", "mappings", "point")
        keys += ("basis_checked",)
        out = {"family": fam.name, **{k: info[k] for k in keys}}
        out["mappings"] = [
            {**m, "lines": {str(k): v for k, v in m["lines"].items()}} for m in info["mappings"]
        ]
        print(json.dumps(out))
        return 0
    templates = derive_identities(fam)
    kinds = {k: sum(t.kind == k for t in templates) for k in ("IBP", "LI")}
    print(
        f"family {fam.name}: {len(fam.propagators)} propagators, loop momenta {', '.join(fam.loop_momenta)}"
    )
    nterms = sum(len(t.terms) for t in templates)
    print(f"identities: {kinds['IBP']} IBP + {kinds['LI']} LI templates, {nterms} terms")
    print("point: " + ", ".join(f"{k}={v}" for k, v in info["point"].items()))
    print(f"nonzero sectors ({len(info['nonzero_sectors'])}): {' '.join(map(str, info['nonzero_sectors']))}")
    print(f"unique sectors ({len(info['unique_sectors'])}): {' '.join(map(str, info['unique_sectors']))}")
    for m in info["mappings"]:
        lines = ", ".join(f"D{k}->D{v}" for k, v in sorted(m["lines"].items()))
        print(f"  sector {m['sector']} -> {m['target']} ({lines})")
    checked = " (independent: no master reduces to the others)" if info.get("basis_checked") else ""
    related = len(info["masters_without_symmetries"]) - len(info["masters"])
    if related:
        checked += f"; {related} more related to these by symmetries"
    if info.get("masters_upper_bound"):
        checked += (
            "; at most this many: the symmetry relations were reduced modulo subsectors, since"
            " reducing the masters' images fully would pass the listing's memory budget (--memory-limit)"
        )
    print(f"masters ({len(info['masters'])}){checked}:")
    for m in info["masters"]:
        print(f"  I[{','.join(map(str, m))}]")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .policy import shards

    opts = shards.ScrambleOptions(args.min_steps, args.max_steps, args.max_dots, args.max_numerators)
    t0 = time.monotonic()
    totals = shards.generate(
        args.family,
        Path(args.out),
        args.trajectories,
        args.seed,
        threads=args.threads,
        shard_size=args.shard_size,
        opts=opts,
    )
    dt = time.monotonic() - t0
    print(
        f"{totals['kept']} of {totals['attempts']} trajectories kept ({totals['stuck']} stuck, "
        f"{totals['mismatched']} mismatched), {totals['samples']} samples in {dt:.1f} s -> {args.out}"
    )
    return 0


def _export_copy(policy: Path, export: str | None) -> None:
    """--export: the run's policy copied where the user asked."""
    if export:
        Path(export).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(policy, export)
        print(f"copied the policy to {export}")


def _cmd_train(args: argparse.Namespace) -> int:
    from .policy.train import TrainConfig, train

    cfg = TrainConfig(
        attention=args.attention,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        width=args.width,
        seed=args.train_seed,
    )
    out = Path(args.out)
    summary = train(
        args.family,
        Path(args.data) if args.data else out / "data",
        out,
        cfg,
        trajectories=args.trajectories,
        data_seed=args.seed,
        threads=args.threads,
        fresh=args.fresh,
    )
    _export_copy(out / "policy.onnx", args.export)
    return 0 if summary else 1


def _cmd_improve(args: argparse.Namespace) -> int:
    from .policy.expert import ImproveConfig, improve

    cfg = ImproveConfig(
        rounds=args.rounds,
        integrals=args.integrals,
        seed=args.seed,
        trajectories=args.trajectories,
        epochs=args.epochs,
        fine_tune_epochs=args.fine_tune_epochs,
    )
    if min(cfg.rounds, cfg.integrals, cfg.trajectories, cfg.epochs, cfg.fine_tune_epochs) < 1:
        raise ValueError("--rounds, --integrals, --trajectories and the epochs must be at least 1")
    out = Path(args.out)
    improve(args.family, out, cfg, threads=args.threads)
    _export_copy(out / "policy.onnx", args.export)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .policy import policy_file, shards
    from .policy.model import PolicyConfig, PolicyNet, random_batch
    from .policy.train import load_checkpoint

    pf = shards.policy_family(args.family)
    state = load_checkpoint(Path(args.checkpoint))
    if state.get("family_hash") != pf.hash:
        raise policy_file.PolicyError(
            f"checkpoint {args.checkpoint} was trained for another family than {pf.name!r}"
        )
    model = PolicyNet(PolicyConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    example = random_batch(model.cfg, states=2, terms=3, table=2, actions=4)
    policy_file.export(
        model,
        shards.family_meta(pf),
        Path(args.output),
        example,
        extra={"training": {"epochs": state["epoch"], "last_epoch": state["history"][-1]}},
    )
    print(args.output)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .policy.evaluate import evaluate

    r = evaluate(
        args.family,
        args.policy,
        args.scrambles,
        args.seed,
        args.threads,
        policy_seed=args.policy_seed,
        backend=args.backend,
    )
    if args.format == "json":
        print(json.dumps(r, indent=1))
    else:
        print(
            f"policy {r['policy']} on {r['trajectories']} fresh scrambles of {r['family']} "
            f"(seed {r['seed']}): "
            f"{r['samples']} steps"
        )
        print(f"top-1 {100 * r['top1']:.2f}%  top-5 {100 * r['top5']:.2f}%")
        if "differs_from_ranking" in r:
            print(
                f"first choice differs from the weight ranking's in {100 * r['differs_from_ranking']:.2f}% "
                f"(the ranking's top-1: {100 * r['ranking_top1']:.2f}%)"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "reduce" and any(a == "--cluster" or a.startswith("--cluster=") for a in argv[1:]):
        from .cluster_cli import main as cluster_main

        return cluster_main(argv[1:])
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
    fam.add_argument(
        "--point", default=None, help="numeric point, e.g. d=41,m2=31 (default: the family's, else random)"
    )
    fam.add_argument("--format", choices=["text", "json"], default="text")
    fam.add_argument(
        "--no-symmetries", action="store_true", help="list the masters that sector symmetries relate too"
    )
    fam.add_argument(
        "--memory-limit",
        default=None,
        help="memory for reducing the masters' images under the symmetries, e.g. 16G (default 2G); beyond it"
        " the count is an upper bound",
    )
    from .kira_job import add_arguments as kira_arguments

    kira_arguments(sub.add_parser("kira", help="run a Kira job file; writes results/FAM/kira_*.m and .inc"))
    cpus = os.cpu_count() or 1

    gen = sub.add_parser("generate", help="scramble/unscramble training data into shard files")
    gen.add_argument("--family", default="trianglebox", help="built-in name, family YAML or Kira directory")
    gen.add_argument("--out", required=True, help="shard directory")
    gen.add_argument("--trajectories", type=int, default=20000, help="scramble attempts (default 20000)")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--threads", type=int, default=cpus)
    gen.add_argument("--shard-size", type=int, default=1000, help="trajectories per shard")
    gen.add_argument("--min-steps", type=int, default=5)
    gen.add_argument("--max-steps", type=int, default=25)
    gen.add_argument("--max-dots", type=int, default=4, help="scrambles stay within r <= lines + this")
    gen.add_argument("--max-numerators", type=int, default=4, help="and s <= this")

    tr = sub.add_parser("train", help="train a policy (generates its data first when needed)")
    tr.add_argument("--family", default="trianglebox")
    tr.add_argument("--out", required=True, help="run directory: checkpoint, metrics, plot, policy.onnx")
    tr.add_argument("--data", default=None, help="shard directory (default OUT/data)")
    tr.add_argument(
        "--trajectories",
        type=int,
        default=None,
        help="generate (or complete) this many trajectories into the data directory first",
    )
    tr.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    tr.add_argument("--train-seed", type=int, default=0, help="seed of initialisation and batch order")
    tr.add_argument("--epochs", type=int, default=12)
    tr.add_argument("--batch-size", type=int, default=128)
    tr.add_argument("--lr", type=float, default=2e-3)
    tr.add_argument("--width", type=int, default=32, help="hidden width")
    tr.add_argument("--attention", type=int, default=16, help="width of the action-to-term attention")
    tr.add_argument("--threads", type=int, default=cpus)
    tr.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in OUT")
    tr.add_argument("--export", default=None, help="also copy the final policy here")

    im = sub.add_parser(
        "improve",
        help="train a policy, then improve it on the engine's own shortest paths (expert iteration)",
    )
    im.add_argument("--family", default="trianglebox")
    im.add_argument("--out", required=True, help="run directory: data, rounds, expert data, improve.json")
    im.add_argument("--rounds", type=int, default=2, help="expert-iteration rounds after round 0")
    im.add_argument("--integrals", type=int, default=40, help="training integrals reduced per round")
    im.add_argument(
        "--seed", type=int, default=1, help="seed of the scramble data and the training integrals"
    )
    im.add_argument("--trajectories", type=int, default=10000, help="scramble trajectories for round 0")
    im.add_argument("--epochs", type=int, default=8, help="round 0's epochs")
    im.add_argument("--fine-tune-epochs", type=int, default=3, help="epochs of each later round")
    im.add_argument("--threads", type=int, default=cpus)
    im.add_argument("--export", default=None, help="also copy the final policy here")

    ex = sub.add_parser("export", help="export a training checkpoint to an ONNX policy")
    ex.add_argument("checkpoint")
    ex.add_argument("-o", "--output", required=True)
    ex.add_argument("--family", default="trianglebox")

    ev = sub.add_parser("evaluate", help="top-1/top-5 accuracy of a policy on fresh scrambles")
    ev.add_argument("--family", default="trianglebox")
    ev.add_argument(
        "--policy",
        default=None,
        help="ONNX policy (default: the one shipped for the family), uniform, or random (with --policy-seed)",
    )
    ev.add_argument("--policy-seed", type=int, default=None, help="seed of --policy random")
    ev.add_argument(
        "--backend",
        choices=("core", "torch"),
        default="core",
        help="score with the C++ runtime (default, no torch needed) or the PyTorch model",
    )
    ev.add_argument("--scrambles", type=int, default=1000)
    ev.add_argument("--seed", type=int, default=2026, help="seed of the scramble stream")
    ev.add_argument("--format", choices=("text", "json"), default="text")
    ev.add_argument("--threads", type=int, default=cpus)
    args = parser.parse_args(argv)
    from .errors import FamilyError

    try:
        if args.command == "compile":
            from .familyfile import compile_family

            print(compile_family(args.spec))
            return 0
        if args.command == "kira":
            from .kira_job import run_command

            return run_command(args)
        if args.command in ("generate", "train", "improve", "export", "evaluate"):
            try:
                handler = {
                    "generate": _cmd_generate,
                    "train": _cmd_train,
                    "improve": _cmd_improve,
                    "export": _cmd_export,
                    "evaluate": _cmd_evaluate,
                }[args.command]
                return handler(args)
            except ModuleNotFoundError as exc:
                print(
                    f"sailir: error: {exc.name} is not installed; install the training extra: "
                    "pip install 'sailir[train]'",
                    file=sys.stderr,
                )
                return 2
        return _cmd_family(args)
    except (FamilyError, ValueError) as exc:
        print(f"sailir: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sailir: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
