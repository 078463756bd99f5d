"""``faultlab testbed build | up | status [--json] | down | smoke``."""

from __future__ import annotations

import argparse
import json

from faultlab.errors import BadInput


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("testbed", help="build, start, inspect or stop the sample application stack")
    tsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    b = tsub.add_parser("build", help="build the images (a local Debian base is made when no registry answers)")
    b.set_defaults(func=_build)

    u = tsub.add_parser("up", help="start the stack and wait until every service is healthy and scraped")
    _config_args(u)
    u.add_argument("--wait", type=float, default=300.0, metavar="SECONDS", help="how long to wait for health")
    u.set_defaults(func=_up)

    s = tsub.add_parser("status", help="show URLs and container states")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=_status)

    d = tsub.add_parser("down", help="remove every container, network and volume of the project")
    d.set_defaults(func=_down)

    m = tsub.add_parser("smoke", help="up, run load for a while, print a health/metrics summary, down")
    _config_args(m)
    m.add_argument("--load-s", type=float, default=60.0, metavar="SECONDS", help="how long to run the load")
    m.add_argument("--keep-up", action="store_true", help="leave the stack running afterwards")
    m.set_defaults(func=_smoke)


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scrape-interval", type=float, default=5.0, metavar="SECONDS")
    p.add_argument("--users", type=int, default=10, help="Locust users for the constant load shape")
    p.add_argument("--shape", default="constant", help="load shape: constant, steps, sine, spike")
    p.add_argument("--shape-params", default=None, metavar="JSON", help="load shape parameters as JSON")
    p.add_argument("--seed", type=int, default=0, help="load generator seed")


def _config(args: argparse.Namespace):
    from faultlab.testbed.lifecycle import TestbedConfig

    params = {"users": args.users}
    if args.shape_params:
        try:
            params = json.loads(args.shape_params)
        except json.JSONDecodeError as exc:
            raise BadInput(f"--shape-params is not valid JSON: {exc}") from None
    return TestbedConfig(scrape_interval_s=args.scrape_interval, load_shape=args.shape, load_params=params, load_seed=args.seed)


def _build(args: argparse.Namespace) -> int:
    from faultlab.testbed.lifecycle import build

    for name, image_id in build().items():
        print(f"{name}: {image_id}")
    return 0


def _up(args: argparse.Namespace) -> int:
    from faultlab.testbed.lifecycle import up

    info = up(_config(args), wait_s=args.wait)
    print(f"testbed up: app {info['app']}, prometheus {info['prometheus']}, locust {info['locust']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from faultlab.testbed.lifecycle import status

    info = status()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"project {info['project']}: app {info['app']}, prometheus {info['prometheus']}")
        for row in info["containers"]:
            print(f"  {row['service']:<20} {row['state']:<10} {row['health']}")
        if not info["containers"]:
            print("  (nothing running)")
    return 0


def _down(args: argparse.Namespace) -> int:
    from faultlab.harness.runs.runner import clean_and_down
    from faultlab.testbed.lifecycle import TestbedConfig

    clean_and_down(TestbedConfig())
    return 0


def _smoke(args: argparse.Namespace) -> int:
    from faultlab.testbed.smoke import run_smoke

    return run_smoke(_config(args), load_s=args.load_s, keep_up=args.keep_up)
