"""``faultlab bench --dataset NAME_OR_PATH [--detectors A,B] [--classifiers C] [--seeds 0,1,2] [--out DIR]``.

Scores detectors and classifiers on a recorded (or registered) dataset and writes the same
reports as ``faultlab run``: scores.json, leaderboard.md/.csv/.html and plots/. No Docker.
The reference floors (``always_alarm``, ``random``) are scored too unless ``--no-floors``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from faultlab.harness.commands._args import name_list, seed_list


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="score detectors on a dataset and write a leaderboard (no Docker)")
    parser.add_argument("--dataset", action="append", required=True, metavar="NAME_OR_PATH",
                        help="registered dataset, dataset folder or run folder (repeat for several)")
    parser.add_argument("--detectors", metavar="A,B", help="detector names (default: all registered; 'none' for none)")
    parser.add_argument("--classifiers", metavar="A,B", help="classifier names (default: all registered; 'none' for none)")
    parser.add_argument("--seeds", metavar="0,1,2", default="0", help="seeds to run every method with (default: 0)")
    parser.add_argument("--metrics", metavar="A,B", help="metric names (default: all registered)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/<UTC-time>-bench-<dataset>)")
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
    parser.add_argument("--localizers", metavar="A,B",
                        help="root-cause localizers scored on the labelled segments (faultlab list localizers; default: none)")
    parser.add_argument("--workers", type=int, metavar="N", help="run the grid on a local Dask cluster of N processes (default: serial)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run the grid on an existing Dask cluster (tcp://host:8786)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.detectors import CLASSIFIERS
    from faultlab.detectors.floors import scored_detectors
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.evaluation import run_evaluation
    from faultlab.harness.reports.leaderboard import markdown, write_reports

    detectors = name_list(args.detectors, "--detectors")
    classifiers = name_list(args.classifiers, "--classifiers")
    seeds = seed_list(args.seeds)
    datasets = [resolve_dataset(d) for d in args.dataset]
    protocol = None
    if args.protocol == "telesto":
        from faultlab.harness.evaluation.protocol import ProtocolOptions

        protocol = ProtocolOptions(node=args.protocol_node, include_normal=args.protocol_normal,
                                   group_by=args.protocol_group_by, augment=args.protocol_augment)
    evaluate = run_evaluation
    grid = None
    if args.workers is not None or args.scheduler is not None:
        from faultlab.harness.evaluation.distributed import DaskGrid

        evaluate = grid = DaskGrid(evaluate, workers=args.workers, scheduler=args.scheduler)
    evaluation = evaluate(
        datasets,
        scored_detectors() if detectors is None else detectors,
        CLASSIFIERS.names() if classifiers is None else classifiers,
        seeds,
        name_list(args.metrics, "--metrics"),
        floors=not args.no_floors,
        count_recovering=args.count_recovering,
        vus_window_s=args.vus_window_s,
        protocol=protocol,
        localizers=name_list(args.localizers, "--localizers"),
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or Path("runs") / f"{stamp}-bench-{'+'.join(d.name for d in datasets)}"
    paths = write_reports(evaluation, out, extra={"command": "bench", "datasets_given": args.dataset, "seeds": seeds})
    print(markdown(evaluation.table, evaluation.settings))
    print(paths["html"].parent)
    if grid is not None:
        grid.raise_failures()  # after the reports: the tasks that did finish are in them
    return 0
