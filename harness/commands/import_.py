"""``faultlab import FORMAT PATH --out DIR [--option KEY=VALUE ...]``: foreign data -> a dataset folder.

Formats: ``timeeval``, ``tsb-ad``, ``smd``, ``microservice``, ``rcaeval`` (see ``faultlab.harness.io``).
The folder it writes is scored by ``bench`` and ``check`` like a recorded one; ``--dataset
FORMAT:PATH`` does the same import on the fly. It prints what the import changed (rows read,
duplicated timestamps dropped, rows re-ordered, gap steps, values filled, non-finite values
masked) and the train/test split with where it came from (the file, ``train_end``, or the rows
before the first anomaly, with a warning); the same summary is kept in meta.json
(``import.summary``). Non-finite numbers (``inf``, ``-inf``, ``1e400``) are masked and filled
like gaps, never stored, and counted with the place of the first one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faultlab.errors import BadInput

OPTIONS_HELP = (
    "format option (repeatable): train_end=TIME|ROWS (every format: an ISO 8601 time, or N = the first N rows "
    "are the fault-free part; default: the file's own split, else the rows before the first anomaly, with a warning); "
    "order=strict|sort (timeeval, microservice, rcaeval; default strict: a time jump back or a repeated timestamp is "
    "an error; sort sorts by time and keeps the last of repeated timestamps); fill_gaps=true|false (timeeval: default "
    "false, rows keep their timestamps; microservice: default true, files share one regular grid; rcaeval: default "
    "false, fills inside a case only); sidecar=true|false (timeeval, tsb-ad, rcaeval: read <name>.faultlab.json, "
    "default true); columns=FILE (microservice, rcaeval: CSV or YAML name,group,unit overriding the groups and units "
    "guessed from metric names); duration_s=S (rcaeval: fault length from inject_time, default to the end of the "
    "case); interval_s=S (tsb-ad, smd); machine=NAME (smd); pod_rule=REGEX and pod_aggregate=mean|sum (microservice)"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import", help="turn TimeEval / TSB-AD / SMD / microservice / RCAEval data into a dataset folder",
        description="Reads a foreign dataset and writes a Faultlab dataset folder. It prints what it changed: rows read, "
                    "duplicated timestamps dropped, rows re-ordered, gap steps, values filled and non-finite values, and "
                    "the train/test split with where it came from. Non-finite numbers (inf, -inf, 1e400) are never stored: "
                    "they are masked (mask.parquet) and filled like gaps, and counted with the place of the first one.",
    )
    parser.add_argument("format", metavar="FORMAT", help="timeeval, tsb-ad, smd, microservice or rcaeval")
    parser.add_argument("path", type=Path, metavar="PATH", help="the file or folder to read")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--name", help="dataset name (default: from the file or folder name)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help=OPTIONS_HELP)
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
    from faultlab.harness.io.summary import summary_lines

    options = parse_options(args.option)
    if args.name:
        options["name"] = args.name
    data = import_dataset(args.format, args.path, options)
    path = data.save(args.out)
    faults = len(set(data.labels["fault_id"]) - {""})
    print(f"{data.name}: {len(data.metrics)} steps at {data.scrape_interval_s:g} s, {data.metrics.shape[1]} series, "
          f"{faults} labelled anomal{'y' if faults == 1 else 'ies'}")
    for line in summary_lines(data.meta.get("import", {}).get("summary", {})):
        print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout)
    print(path)
    return 0
