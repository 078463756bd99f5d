"""Traffic anomalies of the DCRNN paper (seed 002): HTTP flood, slow clients, bot burst.

Run inside a helper container from the Locust image (stdlib only, so it runs on any Python 3):

    python3 attacks.py flood --url http://gateway:8080 --users 50 --duration-s 20
    python3 attacks.py slow --url http://gateway:8080 --connections 50 --duration-s 20
    python3 attacks.py bot --url http://gateway:8080 --endpoint /products --bots 20 --rate-rps 100

* flood: ``users`` threads request the gateway's read endpoints back to back (an application-
  layer flood, "requesting resource-intensive pages").
* slow: ``connections`` sockets send a request line and then one header every ``interval_s``
  without ever finishing the request ("low-and-slow": hold connections, not bandwidth); a
  connection the server closes is reopened. Bounded by ``connections`` and the duration.
* bot: ``bots`` threads hammer one endpoint at ``rate_rps`` requests/s in total.

Prints one JSON summary line (requests, errors, connections held) at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

FLOOD_PATHS = ("/products", "/products/1", "/products/2", "/recommendations", "/cart/u1")


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.errors = 0

    def add(self, ok: bool) -> None:
        with self.lock:
            self.requests += 1
            self.errors += 0 if ok else 1


def _get(url: str, counter: Counter, timeout_s: float = 5.0) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            resp.read()
        counter.add(True)
    except (urllib.error.URLError, OSError, ValueError):
        counter.add(False)


def flood(base: str, users: int, duration_s: float, seed: int) -> dict:
    counter = Counter()
    end = time.monotonic() + duration_s

    def user(i: int) -> None:
        rng = random.Random(seed + i)
        while time.monotonic() < end:
            _get(base + rng.choice(FLOOD_PATHS), counter)

    _run_threads(user, users)
    return {"mode": "flood", "requests": counter.requests, "errors": counter.errors}


def bot(base: str, endpoint: str, bots: int, rate_rps: float, duration_s: float) -> dict:
    counter = Counter()
    end = time.monotonic() + duration_s
    period_s = bots / rate_rps

    def one(i: int) -> None:
        next_t = time.monotonic() + period_s * i / bots
        while time.monotonic() < end:
            _get(base + endpoint, counter)
            next_t += period_s
            time.sleep(max(0.0, next_t - time.monotonic()))

    _run_threads(one, bots)
    return {"mode": "bot", "requests": counter.requests, "errors": counter.errors}


def slow(base: str, connections: int, interval_s: float, duration_s: float) -> dict:
    url = urlparse(base)
    host, port = url.hostname or "localhost", url.port or 80
    end = time.monotonic() + duration_s
    socks: list[socket.socket | None] = [None] * connections
    opened = 0

    def open_one() -> socket.socket | None:
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(f"GET /products HTTP/1.1\r\nHost: {host}\r\n".encode())
            return s
        except OSError:
            return None

    held_max = 0
    while time.monotonic() < end:
        for i in range(connections):
            s = socks[i]
            if s is not None:
                try:
                    s.sendall(f"X-Faultlab-{random.randint(1, 9999)}: slow\r\n".encode())
                except OSError:
                    s.close()
                    s = None
            if s is None:
                s = open_one()
                opened += s is not None
            socks[i] = s
        held_max = max(held_max, sum(s is not None for s in socks))
        time.sleep(min(interval_s, max(0.0, end - time.monotonic())))
    for s in socks:
        if s is not None:
            s.close()
    return {"mode": "slow", "connections_opened": opened, "held_max": held_max}


def _run_threads(fn, n: int) -> None:
    threads = [threading.Thread(target=fn, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="faultlab traffic anomalies")
    parser.add_argument("mode", choices=["flood", "slow", "bot"])
    parser.add_argument("--url", default="http://gateway:8080")
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--interval-s", type=float, default=5.0)
    parser.add_argument("--endpoint", default="/products")
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--rate-rps", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    if args.mode == "flood":
        result = flood(base, args.users, args.duration_s, args.seed)
    elif args.mode == "slow":
        result = slow(base, args.connections, args.interval_s, args.duration_s)
    else:
        result = bot(base, args.endpoint, args.bots, args.rate_rps, args.duration_s)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
