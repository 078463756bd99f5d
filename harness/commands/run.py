"""``faultlab run SCENARIO [--keep-up] [--out DIR]``: prints the run folder's path at the end."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario file end to end into runs/<time>-<name>/")
    p.add_argument("scenario", help="scenario YAML file (faultlab schema prints its format)")
    p.add_argument("--keep-up", action="store_true", help="leave the testbed running afterwards")
    p.add_argument("--out", default=None, metavar="DIR", help="folder for run folders (default: the scenario's output.dir)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from faultlab.harness.runner import run_scenario

    result = run_scenario(args.scenario, keep_up=args.keep_up, out=args.out)
    leaderboard = result.folder.path / "leaderboard.md"
    if leaderboard.exists():
        print(leaderboard.read_text())
    if not result.complete:
        print(f"run incomplete: {result.error}")
    print(result.folder.path)
    return 0 if result.complete else 1
