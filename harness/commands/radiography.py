"""``faultlab radiography RUN --group cpu --service-metric error_rate``: SYRROCA's radiography PNG."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from faultlab.errors import BadInput


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "radiography", help="fit lstm_ae on a run/dataset and draw a group's MSE against a service metric (KDE)"
    )
    parser.add_argument("run", metavar="RUN", help="run folder, dataset folder or registered dataset name")
    parser.add_argument("--group", required=True, help="metric group: cpu, memory, network, disk or application")
    parser.add_argument("--service-metric", default="error_rate",
                        help="a column (gateway:error_rate) or a metric summed over services (default: error_rate)")
    parser.add_argument("--out", type=Path, help="PNG file (default: RUN/plots/radiography-<group>.png, or ./ for a name)")
    parser.add_argument("--params", default="{}", metavar="JSON", help='lstm_ae parameters, e.g. \'{"max_epochs": 5}\'')
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.reports.radiography import write_radiography

    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        raise BadInput(f"--params {args.params!r} is not JSON: {exc.msg}") from None
    if not isinstance(params, dict):
        raise BadInput(f"--params {args.params!r} must be a JSON object")
    data = resolve_dataset(args.run)
    out = args.out
    if out is None:
        folder = Path(args.run)
        base = folder / "plots" if folder.is_dir() and (folder / "dataset").is_dir() else Path(".")
        out = base / f"radiography-{args.group}.png"
    print(write_radiography(data, args.group, args.service_metric, out, params, args.seed))
    return 0
