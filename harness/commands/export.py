"""``faultlab export DATASET --format timeeval|tsb-ad|rcaeval --out DIR``: a dataset in another benchmark's layout.

TimeEval and TSB-AD files get a ``<stem>.faultlab.json`` sidecar beside them (column table,
graph, candidates, timestamps, fault labels) that ``faultlab import`` reads back; ``rcaeval``
writes one ``<service>_<fault>/<n>/`` case per labelled fault (see ``faultlab.harness.io.rcaeval``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ["timeeval", "tsb-ad", "rcaeval"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write a dataset as TimeEval or TSB-AD CSV, or as RCAEval cases")
    parser.add_argument("dataset", metavar="DATASET", help="registered dataset, dataset folder, run folder or FORMAT:PATH")
    parser.add_argument("--format", required=True, choices=FORMATS,
                        help="layout to write (rcaeval: one case per fault, the fault-free steps before it, up to 600 s, "
                             "and the fault)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.io import export_dataset

    for file in export_dataset(resolve_dataset(args.dataset), args.format, args.out):
        print(file)
    return 0
