"""The ``faultlab`` command line: a thin layer over the Python API.

Each command group lives in ``harness/commands/<name>.py`` and exposes
``add_parser(subparsers)``, which registers its sub-command(s) and sets ``func`` on the parsed
namespace. Errors are caught once here: ``BadInput`` exits 2, ``RunFailed`` and an interruption
(SIGTERM, SIGHUP, Ctrl-C) exit 1, and each prints one sentence to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from faultlab.errors import BadInput, Interrupted, RunFailed
from faultlab.interrupt import interruptible

# One line per command module; adding a command is one module plus one line here.
COMMAND_MODULES = [
    "faultlab.harness.commands.testbed",
    "faultlab.harness.commands.schema",
    "faultlab.harness.commands.inject",
    "faultlab.harness.commands.run",
    "faultlab.harness.commands.validate",
    "faultlab.harness.commands.list",
    "faultlab.harness.commands.bench",
    "faultlab.harness.commands.check",
    "faultlab.harness.commands.compare",
    "faultlab.harness.commands.import_",
    "faultlab.harness.commands.export",
    "faultlab.harness.commands.radiography",
    "faultlab.harness.commands.collect",
    "faultlab.harness.commands.watch",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faultlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with interruptible():  # SIGTERM, SIGHUP and Ctrl-C: one clean line, exit 1
            code = args.func(args)
    except BadInput as exc:
        print(f"faultlab: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"faultlab: failed: {exc}", file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt) as exc:
        reason = exc.reason if isinstance(exc, Interrupted) else "SIGINT (Ctrl-C)"
        print(f"faultlab: interrupted by {reason}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
