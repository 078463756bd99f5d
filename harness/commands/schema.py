"""``faultlab schema``: print the scenario JSON Schema (for editors; see faultlab.harness.scenario.schema)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("schema", help="print the scenario file JSON Schema")
    parser.add_argument("--out", type=Path, help="write it to this file instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faultlab.harness.scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        print(text, end="")
    return 0
