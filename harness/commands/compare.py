"""``faultlab compare RUN_OR_SCORES ...``: runs, bench folders, scores.json files or datasets side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from faultlab.harness.commands._args import name_list, seed_list


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compare", help="put several runs, scores.json files or datasets side by side")
    parser.add_argument("sources", nargs="+", metavar="RUN_OR_SCORES",
                        help="run/bench folder, scores.json, or dataset name/folder (scored on the spot)")
    parser.add_argument("--metrics", metavar="A,B", help="metric names (default: the leaderboard's headline metrics)")
    parser.add_argument("--breakdown", default="all", help="'all' (default), 'fault_type=cpu', 'target=cart', ...")
    parser.add_argument("--detectors", metavar="A,B", help="for dataset sources: detectors to score (default: all)")
    parser.add_argument("--classifiers", metavar="A,B", help="for dataset sources: classifiers to score (default: all)")
    parser.add_argument("--seeds", metavar="0,1,2", help="for dataset sources: seeds (default: 0)")
    parser.add_argument("--no-floors", action="store_true", help="for dataset sources: leave out always_alarm and random")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the numeric table as CSV")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.reports.compare import load_source, render_markdown, side_by_side

    detectors = name_list(args.detectors, "--detectors")
    classifiers = name_list(args.classifiers, "--classifiers")
    seeds = seed_list(args.seeds)
    sources = [load_source(s, detectors, classifiers, seeds, floors=not args.no_floors) for s in args.sources]
    wide = side_by_side(sources, name_list(args.metrics, "--metrics"), args.breakdown)
    if args.csv:
        wide.to_csv(args.csv, index=False, float_format="%.6g")
    print(render_markdown(wide), end="")
    return 0
