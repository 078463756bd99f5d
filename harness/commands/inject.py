"""``faultlab inject TYPE --target SERVICE --duration SECONDS [--param KEY=VALUE ...]`` and ``faultlab clean``."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

from faultlab.errors import BadInput

DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration_s(text: str) -> float:
    """``60``, ``60s``, ``2m`` or ``1h`` -> seconds."""
    match = DURATION_RE.match(text)
    if not match:
        raise BadInput(f"--duration {text!r}: expected seconds like 60, 60s, 2m or 1h")
    return float(match.group(1)) * UNIT_S[match.group(2)]


def parse_params(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are read as YAML scalars (``30`` -> 30, ``true`` -> True)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            params[key.strip()] = value
    return params


def _inject(args: argparse.Namespace) -> int:
    from faultlab.injectors import FAULTS
    from faultlab.injectors.docker_ops import DockerOps
    from faultlab.injectors.executor import ExecutorConfig, inject_one
    from faultlab.injectors.ground_truth import GroundTruthLog

    fault_cls = FAULTS.get(args.type)
    params = parse_params(args.param or [])
    fault_cls.validate_params(params)
    duration_s = parse_duration_s(args.duration)
    config = ExecutorConfig(baseline_s=args.baseline_s, settle_s=args.settle_s,
                            preflight=not args.no_preflight)
    record = inject_one(DockerOps(), GroundTruthLog(args.log), args.type, args.target, duration_s,
                        params, config, fault_id=args.fault_id,
                        scrape_interval_s=args.scrape_interval_s)
    print(json.dumps(record, indent=None))
    return 0 if record.get("outcome") in ("reverted", "applied") else 1


def _clean(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from faultlab.injectors.cleanup import clean
    from faultlab.injectors.docker_ops import DockerOps

    report = clean(DockerOps())
    print(json.dumps(asdict(report)))
    return 1 if report.errors else 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    inject = subparsers.add_parser("inject", help="apply one fault by hand and log it")
    inject.add_argument("type", help="fault type (faultlab list faults)")
    inject.add_argument("--target", required=True, help="compose service (or container) name")
    inject.add_argument("--duration", required=True, help="seconds (60, 60s, 2m)")
    inject.add_argument("--param", action="append", metavar="KEY=VALUE", help="fault parameter")
    inject.add_argument("--log", type=Path, default=Path("runs/manual/ground_truth.jsonl"),
                        help="ground-truth journal to append to")
    inject.add_argument("--baseline-s", type=float, default=60.0,
                        help="seconds of counters sampled before the fault (the baseline)")
    inject.add_argument("--settle-s", type=float, default=5.0,
                        help="seconds observed after revert (return to baseline)")
    inject.add_argument("--scrape-interval-s", type=float, default=5.0)
    inject.add_argument("--fault-id", default=None)
    inject.add_argument("--no-preflight", action="store_true")
    inject.set_defaults(func=_inject)
    clean_parser = subparsers.add_parser("clean", help="remove every leftover of any fault")
    clean_parser.set_defaults(func=_clean)
