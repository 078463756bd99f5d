"""``faultlab check --baseline FILE [--dataset NAME_OR_PATH] [--tolerance X] [--update] [--junit FILE]``.

Exit 0 when no score fell below its baseline by more than its tolerance, 1 (with the diff
table) when one did, 2 on bad input. ``--update`` rewrites (or creates) the baseline on purpose.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faultlab.harness.commands._args import float_pairs, name_list, seed_list


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="regression gate: re-score and compare with a baseline file")
    parser.add_argument("--baseline", type=Path, required=True, metavar="FILE", help="baseline JSON file")
    parser.add_argument("--dataset", metavar="NAME_OR_PATH", help="dataset to re-score on (default: the baseline's)")
    parser.add_argument("--tolerance", type=float, help="allowed drop for every metric (default: the baseline's)")
    parser.add_argument("--metric-tolerance", action="append", metavar="METRIC=X", help="allowed drop for one metric")
    parser.add_argument("--update", action="store_true", help="rewrite the baseline with the current scores")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument("--detectors", metavar="A,B", help="with --update: the detectors to hold (default: the baseline's)")
    parser.add_argument("--classifiers", metavar="A,B", help="with --update: the classifiers to hold")
    parser.add_argument("--seeds", metavar="0,1,2", help="with --update: seeds for every method")
    parser.add_argument("--no-floors", action="store_true",
                        help="with --update: leave the reference floors (always_alarm, random) out of the baseline")
    parser.add_argument("--all", action="store_true", help="print every gated score, not only the changed ones")
    parser.add_argument("--param", action="append", default=[], metavar="METHOD.KEY=VALUE",
                        help="change a baseline method's parameter (repeatable); shown as a changed configuration")
    parser.add_argument("--params", action="append", default=[], metavar="FILE", help="YAML/JSON {method: {key: value}}")
    parser.add_argument("--task-timeout", type=float, metavar="SECONDS", help="stop one method's task after this long (n/a)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.errors import BadInput
    from faultlab.harness.evaluation.bench import parse_params
    from faultlab.harness.gate.check import junit_xml, render_diff, run_check

    detectors = name_list(args.detectors, "--detectors")
    classifiers = name_list(args.classifiers, "--classifiers")
    seeds = seed_list(args.seeds)
    if not args.update and (detectors is not None or classifiers is not None or seeds is not None or args.no_floors):
        raise BadInput("--detectors, --classifiers, --seeds and --no-floors change what a baseline holds: "
                       "use them with --update")
    # Ctrl-C/SIGTERM during the re-scoring: the scores that finished are compared, the JUnit file written
    result = run_check(
        args.baseline, args.dataset, tolerance=args.tolerance,
        tolerances=float_pairs(args.metric_tolerance, "--metric-tolerance"), update=args.update,
        detectors=detectors, classifiers=classifiers, seeds=seeds, floors=False if args.no_floors else None,
        params=parse_params(args.param, args.params), task_timeout_s=args.task_timeout,
    )
    if args.junit:
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        args.junit.write_text(junit_xml(result))
    if args.update and result.interrupted:
        print(f"interrupted by {result.interrupted}: the baseline {args.baseline} was not rewritten", file=sys.stderr)
        return 1
    if args.update:
        print(f"baseline written: {args.baseline} ({len(result.diff)} scores on {result.dataset})")
        return 0
    text = render_diff(result, show_all=args.all)
    print(text, end="", file=sys.stdout if result.passed else sys.stderr)
    return 0 if result.passed else 1
