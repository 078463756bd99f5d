"""Testbed benchmark: cold build, warm up-to-healthy, idle cost, sustained request rate and p99.

    python benchmarks/testbed.py [--skip-cold] [--users 10,25,50,100] [--step-s 60]

Cold build removes the project's images (and the debootstrap base, and the build cache) first,
so it measures what a fresh machine without the images pays. The load steps recreate the
Locust container with a constant shape; Locust runs on the same 2 cores as the shop, so the
figures are the testbed's capacity *with* its own load generator, which is how it is used.
Prints a table and writes benchmarks/results/testbed.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

# This file is benchmarks/testbed.py: put the repository first so `testbed` is the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.harness.runs.runner import restart_load  # noqa: E402
from faultlab.testbed.baseimage import LOCAL_BASE  # noqa: E402
from faultlab.testbed.lifecycle import TestbedConfig, build, down, up  # noqa: E402
from faultlab.testbed.smoke import by_service, prom_query  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def cold_build(config: TestbedConfig) -> float:
    down(config)
    for image in [*config.images.values(), LOCAL_BASE]:
        subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)
    subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True)
    t = time.monotonic()
    build(config)
    return time.monotonic() - t


def warm_up(config: TestbedConfig) -> float:
    down(config)
    t = time.monotonic()
    up(config)
    return time.monotonic() - t


def stack_cost(url: str, window_s: int) -> tuple[float, float]:
    cpu = sum(by_service(prom_query(url, f"sum by (service) (rate(container_cpu_usage_seconds_total[{window_s}s]))")).values())
    mem = sum(by_service(prom_query(url, "sum by (service) (container_memory_working_set_bytes)")).values())
    return cpu, mem / 2**20


def load_step(config: TestbedConfig, users: int, step_s: int) -> dict:
    cfg = replace(config, load_shape="constant", load_params={"users": users, "spawn_rate": max(5, users)})
    restart_load(cfg)
    time.sleep(step_s)
    url, w = cfg.prometheus_url, f"{step_s - 15}s"
    rate = sum(by_service(prom_query(url, f"sum by (service) (rate(http_requests_total{{service='gateway'}}[{w}]))")).values())
    errors = sum(
        by_service(prom_query(url, f"sum by (service) (rate(http_requests_total{{service='gateway',status=~'5..'}}[{w}]))")).values()
    )
    p99 = prom_query(
        url, f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{service='gateway'}}[{w}])))"
    )
    cpu, mem = stack_cost(url, step_s - 15)
    return {
        "users": users,
        "gateway_rps": rate,
        "error_pct": 100 * errors / rate if rate else 0.0,
        "p99_ms": float(p99[0]["value"][1]) * 1000 if p99 else float("nan"),
        "stack_cpu_cores": cpu,
        "stack_mem_mb": mem,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="do not remove images for the cold build")
    parser.add_argument("--users", default="10,25,50,100", help="Locust users per load step")
    parser.add_argument("--step-s", type=int, default=60, help="seconds per load step")
    parser.add_argument("--keep-up", action="store_true")
    args = parser.parse_args()
    config = TestbedConfig(load_params={"users": 0})
    out: dict = {}
    if not args.skip_cold:
        out["cold_build_s"] = cold_build(config)
    out["warm_up_to_healthy_s"] = warm_up(config)
    time.sleep(45)  # no load: what the stack costs by itself
    out["idle_cpu_cores"], out["idle_mem_mb"] = stack_cost(config.prometheus_url, 30)
    out["load_steps"] = [load_step(config, int(u), args.step_s) for u in args.users.split(",")]
    if not args.keep_up:
        down(config)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "testbed.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"{'measure':<32}{'value':>12}")
    for key in ("cold_build_s", "warm_up_to_healthy_s", "idle_cpu_cores", "idle_mem_mb"):
        if key in out:
            print(f"{key:<32}{out[key]:>12.2f}")
    print(f"\n{'users':>6}{'gateway req/s':>15}{'errors %':>10}{'p99 ms':>10}{'stack cpu':>11}{'stack MB':>10}")
    for s in out["load_steps"]:
        print(
            f"{s['users']:>6}{s['gateway_rps']:>15.1f}{s['error_pct']:>10.2f}{s['p99_ms']:>10.0f}"
            f"{s['stack_cpu_cores']:>11.2f}{s['stack_mem_mb']:>10.0f}"
        )


if __name__ == "__main__":
    main()
