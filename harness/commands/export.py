"""``faultlab export DATASET --format timeeval|tsb-ad --out DIR``: a dataset in another benchmark's layout."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write a dataset as TimeEval or TSB-AD CSV")
    parser.add_argument("dataset", metavar="DATASET", help="registered dataset, dataset folder, run folder or FORMAT:PATH")
    parser.add_argument("--format", required=True, choices=["timeeval", "tsb-ad"], help="layout to write")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.io import export_dataset

    for file in export_dataset(resolve_dataset(args.dataset), args.format, args.out):
        print(file)
    return 0
