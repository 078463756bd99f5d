"""``faultlab run SCENARIO [--keep-up] [--out DIR]``: prints the run folder's path at the end."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario file end to end into runs/<time>-<name>/")
    p.add_argument("scenario", help="scenario YAML file (faultlab schema prints its format)")
    p.add_argument("--keep-up", action="store_true", help="leave the testbed running afterwards")
    p.add_argument("--dry-run", action="store_true", help="validate and print the resolved plan; start nothing (= faultlab validate)")
    p.add_argument("--out", default=None, metavar="DIR", help="folder for run folders (default: the scenario's output.dir)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from faultlab.harness.runs.runner import run_scenario

    if args.dry_run:
        from faultlab.harness.commands.validate import validate

        return validate(args.scenario)
    result = run_scenario(args.scenario, keep_up=args.keep_up, out=args.out)
    leaderboard = result.folder.path / "leaderboard.md"
    if leaderboard.exists():
        print(leaderboard.read_text())
    print(result.folder.path)
    if not result.complete:
        print(f"faultlab run: incomplete run in {result.folder.path}: {result.error}", file=sys.stderr)
    return 0 if result.complete else 1
