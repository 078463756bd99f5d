"""``faultlab import FORMAT PATH --out DIR [--option KEY=VALUE ...]``: foreign data -> a dataset folder.

Formats: ``timeeval``, ``tsb-ad``, ``smd``, ``microservice`` (see ``faultlab.harness.io``). The
folder it writes is scored by ``bench`` and ``check`` like a recorded one; ``--dataset
FORMAT:PATH`` does the same import on the fly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from faultlab.errors import BadInput


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import", help="turn TimeEval / TSB-AD / SMD / microservice RCA data into a dataset folder")
    parser.add_argument("format", metavar="FORMAT", help="timeeval, tsb-ad, smd or microservice")
    parser.add_argument("path", type=Path, metavar="PATH", help="the file or folder to read")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--name", help="dataset name (default: from the file or folder name)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="format option, e.g. interval_s=60 (tsb-ad, smd), machine=machine-1-1 (smd), "
                             "pod_rule='^(.+)-[a-z0-9]+-[a-z0-9]{5}$' and pod_aggregate=sum (microservice)")
    parser.set_defaults(func=run)


def parse_options(items: list[str]) -> dict[str, str]:
    """``["a=1"]`` -> ``{"a": "1"}``; BadInput names an item without ``=``."""
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--option {item!r}: expected KEY=VALUE")
        options[key.strip()] = value
    return options


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.io import import_dataset

    options = parse_options(args.option)
    if args.name:
        options["name"] = args.name
    data = import_dataset(args.format, args.path, options)
    path = data.save(args.out)
    faults = len(set(data.labels["fault_id"]) - {""})
    print(f"{data.name}: {len(data.metrics)} steps at {data.scrape_interval_s:g} s, {data.metrics.shape[1]} series, "
          f"{faults} labelled anomal{'y' if faults == 1 else 'ies'}")
    print(path)
    return 0
