"""Injector benchmark: onset latency, revert latency and achieved vs asked level per fault type.

Run against a running testbed (``faultlab testbed up``):

    python benchmarks/injectors.py [--target cart] [--duration-s 15] [--types cpu,memory_alloc]

* onset latency: scheduled start -> first sample where the effect shows in the target's cgroup
  counters (sampled from the host at 2 Hz, so resolution about 0.5 s);
* revert latency: revert call -> first sample back past the half-way mark to the baseline;
* achieved %: measured change over the baseline / asked change (None where the fault only has a
  direction, e.g. traffic anomalies).
Prints one table; ``--json FILE`` also writes the rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faultlab.injectors.cleanup import clean  # noqa: E402
from faultlab.injectors.docker_ops import DockerOps  # noqa: E402
from faultlab.injectors.executor import ExecutorConfig, inject_one  # noqa: E402
from faultlab.injectors.ground_truth import GroundTruthLog  # noqa: E402

CASES = {
    "cpu": ("cart", {"load_pct": 90, "cores": 1}),
    "memory_alloc": ("cart", {"size_mb": 200}),
    "memory_leak": ("cart", {"size_mb": 10, "every_s": 1}),
    "disk": ("cart", {"rate_mb_s": 5}),
    "network_overload": ("cart", {"bandwidth_mbit": 50}),
    "packet_loss": ("gateway", {"loss_pct": 30}),
    "pause": ("cart", {}),
    "kill": ("shipping", {}),
    "http_flood": ("gateway", {"users_factor": 5, "base_users": 4}),
    "slow_clients": ("gateway", {"connections": 40, "interval_s": 3}),
    "bot_burst": ("gateway", {"endpoint": "/products", "bots": 10, "rate_rps": 50}),
}


def _t(value: str | None) -> float | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def row(record: dict) -> dict:
    effect = record.get("effect") or {}
    onset, sched = _t(record["effect_onset"]), _t(record["scheduled_start"])
    back, reverted = _t((record.get("detail") or {}).get("returned_to_baseline_at")), _t(record["reverted_at"])
    return {
        "type": record["type"], "target": ",".join(record["targets"]), "mechanism": record["mechanism"],
        "outcome": record["outcome"],
        "onset_latency_s": None if onset is None or sched is None else round(onset - sched, 2),
        "revert_latency_s": None if back is None or reverted is None else round(back - reverted, 2),
        "asked": effect.get("expected_change"), "measured": effect.get("change"),
        "unit": effect.get("unit"), "achieved_pct": effect.get("achieved_pct"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", default=",".join(CASES))
    parser.add_argument("--target", default=None, help="override every case's target")
    parser.add_argument("--duration-s", type=float, default=15.0)
    parser.add_argument("--baseline-s", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    ops = DockerOps()
    clean(ops)
    log = GroundTruthLog(Path(tempfile.mkdtemp(prefix="faultlab-bench-")) / "gt.jsonl")
    rows = []
    for fault_type in args.types.split(","):
        target, params = CASES[fault_type]
        try:
            record = inject_one(ops, log, fault_type, args.target or target, args.duration_s, params,
                                ExecutorConfig(baseline_s=args.baseline_s, settle_s=6.0))
            rows.append(row(record))
        except Exception as exc:  # one failing type must not hide the others' figures
            rows.append({"type": fault_type, "outcome": f"error: {exc}"})
    cols = ["type", "target", "mechanism", "outcome", "onset_latency_s", "revert_latency_s",
            "asked", "measured", "unit", "achieved_pct"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(_fmt(r.get(c)) for c in cols))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
