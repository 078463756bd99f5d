"""``faultlab bench --dataset NAME_OR_PATH [--detectors baseline|seed|pyod|tsbad|all|A,B] [--param M.K=V] ...``.

Scores methods on recorded (or registered) datasets and writes the reports of ``faultlab run``
(scores.json, leaderboard.md/.csv/.html, plots/), one folder per dataset plus an index when
there are several. No Docker. It prints its plan first (tasks = method x dataset x seed, with an
estimated time each), shows progress with an ETA, and writes every finished task at once to
``<out>/tasks/``: Ctrl-C stops within seconds and still writes the board of what finished, and
``--resume`` with the same ``--out`` runs only what is missing. The published board
(``docs/leaderboard/``) is made by this command; its pages start with the command that made them.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faultlab.errors import BadInput
from faultlab.harness.commands._args import name_list, seed_list


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="score methods on datasets and write a leaderboard (no Docker)")
    parser.add_argument("--dataset", action="append", required=True, metavar="NAME_OR_PATH",
                        help="registered dataset, dataset folder or run folder (repeat for several)")
    add_method_args(parser)
    parser.add_argument("--localizers", metavar="GROUP|A,B", default="none",
                        help="root-cause localizers on the labelled segments: baseline, rcaeval, all or names (default: none)")
    parser.add_argument("--seeds", metavar="0,1,2", default="0", help="seeds to run every method with (default: 0)")
    parser.add_argument("--metrics", metavar="A,B", help="metric names (default: all registered)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/<UTC-time>-bench-<dataset>)")
    parser.add_argument("--resume", action="store_true", help="reuse the tasks an earlier run of this --out finished")
    parser.add_argument("--dry-run", action="store_true", help="print the plan (tasks and estimated time) and stop")
    parser.add_argument("--no-floors", action="store_true", help="leave out the reference floors always_alarm and random")
    parser.add_argument("--count-recovering", action="store_true",
                        help="count steps labelled recovering as normal (default: left out of false alarms)")
    parser.add_argument("--vus-window-s", type=float, metavar="SECONDS",
                        help="fixed VUS buffer (default: derived per dataset from the gaps between events)")
    parser.add_argument("--protocol", choices=("events", "telesto"), default="events",
                        help="how classifiers are split: event folds (default) or TELESTO's leave-one-repetition-out "
                             "3/1/1 splits per (fault type, group), every split reported (faultlab.harness.evaluation.protocol)")
    parser.add_argument("--protocol-node", default="target", metavar="target|all|SERVICE",
                        help="telesto protocol: the classified node (default: each target service)")
    parser.add_argument("--protocol-normal", action="store_true", help="telesto protocol: add a 'normal' class")
    parser.add_argument("--protocol-group-by", choices=("group", "type"), default="group",
                        help="telesto protocol: count repetitions per (type, group) (default) or per fault type alone")
    parser.add_argument("--protocol-augment", choices=("cmsf_gan",),
                        help="telesto protocol: add CMSF-GAN windows (seed 004) to every training fold")
    parser.add_argument("--workers", type=int, metavar="N", help="run the tasks on a local Dask cluster of N processes")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run the tasks on an existing Dask cluster (tcp://host:8786)")
    parser.add_argument("--notes", default="", help="a sentence printed under the command on every page (provenance)")
    parser.add_argument("--save-models", type=Path, metavar="DIR",
                        help="save each detector's fitted model (first seed) to DIR/<dataset>/<model>/ for faultlab watch")
    parser.set_defaults(func=run)


def add_method_args(parser: argparse.ArgumentParser) -> None:
    """What ``bench`` and ``check`` share: the method choice, parameters, time-outs."""
    parser.add_argument("--detectors", metavar="GROUP|A,B",
                        help="baseline (default), seed, pyod, tsbad, all, or names (mixing allowed: seed,zscore; none: no detectors)")
    parser.add_argument("--classifiers", metavar="GROUP|A,B", help="baseline (default), seed, all, names or none")
    parser.add_argument("--param", action="append", default=[], metavar="METHOD.KEY=VALUE",
                        help="a method parameter, repeatable (zscore.threshold=4, pyod:PCA.n_components=3); validated like scenario params")
    parser.add_argument("--params", action="append", default=[], metavar="FILE",
                        help="YAML/JSON file {method: {key: value}}; --param wins over it")
    parser.add_argument("--fast", action="store_true", help="every method at its CI configuration (seconds-long training)")
    parser.add_argument("--task-timeout", type=float, metavar="SECONDS",
                        help="stop one task after this long and record n/a with the reason (default: no limit)")


def method_specs(args: argparse.Namespace, kind: str, default: str) -> list[Any]:
    """``--detectors`` etc. resolved to specs with ``--fast``, ``--params`` and ``--param`` applied."""
    from faultlab.harness.evaluation.bench import parse_params, select_methods
    from faultlab.harness.evaluation.table import MethodSpec

    names = select_methods(kind, getattr(args, kind + "s"), default)
    given = parse_params(args.param, args.params)
    specs = []
    for name in names:
        params = dict(_ci_params(kind, name)) if args.fast else {}
        params.update(given.get(name, {}))
        specs.append(MethodSpec(name, params))
    return specs


def check_params_used(args: argparse.Namespace, specs: list[Any]) -> None:
    """A ``--param`` for a method that is not in the run is a typo: say so, not ignore it."""
    from faultlab.harness.evaluation.bench import parse_params

    running = {s.name for s in specs}
    for method in parse_params(args.param, args.params):
        if method not in running:
            raise BadInput(f"--param/--params name method {method!r}, which this run does not score "
                           f"(running: {', '.join(sorted(running)) or 'none'})")


def _ci_params(kind: str, name: str) -> dict[str, Any]:
    if kind == "localizer":
        return {}
    from faultlab.detectors import CLASSIFIERS, DETECTORS

    return dict(getattr((DETECTORS if kind == "detector" else CLASSIFIERS).get(name), "ci_params", {}) or {})


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed, shell-quoted (parameters with JSON survive a paste)."""
    return shlex.join(["faultlab", *(sys.argv[1:] if argv is None else argv)])


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.evaluation.bench import plan_bench, run_bench
    from faultlab.harness.reports.board import provenance, write_board
    from faultlab.harness.reports.leaderboard import markdown

    seeds = seed_list(args.seeds)
    detectors = method_specs(args, "detector", "baseline")
    classifiers = method_specs(args, "classifier", "baseline")
    localizers = method_specs(args, "localizer", "none")
    check_params_used(args, [*detectors, *classifiers, *localizers])
    datasets = [resolve_dataset(d) for d in args.dataset]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path("runs") / f"{stamp}-bench-{'+'.join(d.name for d in datasets)}"
    plan = plan_bench(datasets, detectors, classifiers, localizers, seeds, name_list(args.metrics, "--metrics"),
                      floors=not args.no_floors, options=evaluation_options(args), out=out, resume=args.resume,
                      save_models=args.save_models, workers=args.workers or 1, timeout_s=args.task_timeout)
    print(plan.render(), file=sys.stderr, flush=True)
    if args.dry_run:
        return 0
    executor = None
    if args.workers is not None or args.scheduler is not None:
        from faultlab.harness.evaluation.distributed import DaskExecutor

        executor = DaskExecutor(workers=args.workers, scheduler=args.scheduler, timeout_s=args.task_timeout)
    result = run_bench(plan, executor, timeout_s=args.task_timeout)
    if result.finished == 0:
        print(f"bench stopped ({result.interrupted}) before any task finished; nothing to report", file=sys.stderr)
        return 1
    paths = write_board(result.evaluation, out, provenance(command_line(), args.notes))
    if len(plan.datasets) == 1:
        print(markdown(result.evaluation.table, result.evaluation.settings))
    print(paths["html"].parent)
    failed = [o for o in result.failures if not o.timed_out]
    if result.interrupted:
        print(f"interrupted by {result.interrupted}: {result.finished} of {result.total} tasks finished and are on the "
              f"board; run again with --resume --out {out} to finish", file=sys.stderr)
        return 1
    if failed:
        listed = "; ".join(f"{o.task.label}: {o.error}" for o in failed)
        print(f"{len(failed)} task(s) failed (n/a on the board): {listed}", file=sys.stderr)
        return 1
    return 0


def evaluation_options(args: argparse.Namespace) -> dict[str, Any]:
    """The scoring options every task gets (what ``run_evaluation`` takes besides methods and seeds)."""
    options: dict[str, Any] = {"count_recovering": args.count_recovering, "vus_window_s": args.vus_window_s}
    if args.protocol == "telesto":
        from faultlab.harness.evaluation.protocol import ProtocolOptions

        options["protocol"] = ProtocolOptions(node=args.protocol_node, include_normal=args.protocol_normal,
                                              group_by=args.protocol_group_by, augment=args.protocol_augment)
    return options
