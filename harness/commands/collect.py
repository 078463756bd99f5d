"""``faultlab collect --prometheus URL --start T --end T [--labels FILE] [--queries FILE] --out DIR``.

Builds a dataset folder from any Prometheus (not only the testbed's): the testbed's catalogue
of series, or your own PromQL list (``--queries``), labelled from a ground-truth journal or an
incident CSV (``--labels``). Times are ISO 8601 (UTC unless an offset is given) or unix seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("collect", help="build a dataset from any Prometheus and a ground-truth journal or incident CSV")
    parser.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--start", required=True, metavar="T", help="first step (ISO 8601 or unix seconds)")
    parser.add_argument("--end", required=True, metavar="T", help="last step (ISO 8601 or unix seconds)")
    parser.add_argument("--step-s", type=float, default=5.0, help="grid step in seconds (default 5)")
    parser.add_argument("--labels", type=Path, metavar="FILE", help="ground_truth.jsonl or an incident CSV (start,end,service,type)")
    parser.add_argument("--queries", type=Path, metavar="FILE",
                        help="YAML list of {metric, query, kind, group, unit[, service]} (default: the testbed catalogue)")
    parser.add_argument("--groups", metavar="A,B", help="catalogue groups to keep (cpu, memory, network, disk, application)")
    parser.add_argument("--graph", type=Path, metavar="FILE", help="graph.json with the services' call graph")
    parser.add_argument("--train-end", metavar="T", help="end of the fault-free period (default: the first labelled step)")
    parser.add_argument("--name", default="collected", help="dataset name (default: collected)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.set_defaults(func=run)


def parse_time(text: str | None) -> Any:
    """Unix seconds or ISO 8601 as a UTC timestamp (None stays None); ValueError when neither."""
    from faultlab.harness.collect.transform import to_utc

    if text is None:
        return None
    try:
        return to_utc(float(text))
    except ValueError:
        return to_utc(text)


def run(args: argparse.Namespace) -> int:
    from faultlab.errors import BadInput
    from faultlab.harness.commands._args import name_list
    from faultlab.harness.io.prometheus import collect_any

    times = {}
    for flag, text in (("--start", args.start), ("--end", args.end), ("--train-end", args.train_end)):
        try:
            times[flag] = parse_time(text)
        except ValueError as exc:
            raise BadInput(f"{flag}: {text!r} is neither unix seconds nor an ISO 8601 time ({exc})") from None
    data = collect_any(
        args.prometheus, times["--start"], times["--end"], step_s=args.step_s, labels=args.labels, queries=args.queries,
        graph=args.graph, train_end=times["--train-end"], name=args.name, groups=name_list(args.groups, "--groups"),
    )
    path = data.save(args.out)
    faults = len(set(data.labels["fault_id"]) - {""})
    print(f"{data.name}: {len(data.metrics)} steps at {data.scrape_interval_s:g} s, "
          f"{data.metrics.shape[1]} series, {faults} labelled fault(s)")
    print(path)
    return 0
