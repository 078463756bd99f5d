"""The shop's load: ``locust -f .../app/loadgen/locustfile.py --headless --host http://gateway:8080``.

* ``ShopUser`` browses, opens products, asks for recommendations, fills a cart and checks out,
  with weights and think times of a small web shop, seeded per user (LOAD_SEED).
* ``EnvShape`` drives the number of users with the pure shape named by LOAD_SHAPE
  (constant | steps | sine | spike) and LOAD_PARAMS (a JSON object; see ``shapes.py``).
* A Prometheus endpoint on LOCUST_METRICS_PORT (9646) serves the README's ``locust_*`` metrics
  read from the runner's stats at scrape time.
* Every minute, Locust's per-second request counts and chart history older than two minutes are
  dropped (``trim.py``): Locust keeps them for the whole run, so a long fault-free recording
  would show the load generator's memory growing for no reason.

Request names are grouped (``name="/products/{id}"``, ``"/cart/{user}"``): one stats entry per
route, not one per product or user, so Locust's stats stay a handful of entries however long it runs.

Works headless and with the web UI (``--autostart``), which also serves Locust's API on 8089.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

import gevent
from locust import HttpUser, LoadTestShape, events, task
from locust.runners import WorkerRunner
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# ``app`` is importable in the image (PYTHONPATH=/opt/faultlab); the folder above ``app/`` is put
# first on the path too, so the file also runs from a checkout (locust -f testbed/app/loadgen/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.loadgen.shapes import make_shape  # noqa: E402
from app.loadgen.trim import trim_stats  # noqa: E402

log = logging.getLogger("faultlab.load")
SEED = int(os.environ.get("LOAD_SEED", "0"))
PRODUCT_COUNT = 200
CATEGORIES = ("books", "games", "kitchen", "garden", "toys", "music", "sports", "tools")
QUANTILES = (0.5, 0.95, 0.99)
TRIM_EVERY_S = 60
_user_numbers = itertools.count()
random.seed(SEED)  # Locust's own task choice uses the module-level generator


class ShopUser(HttpUser):
    """One shopper: mostly browsing, sometimes buying (weights per task below)."""

    def on_start(self) -> None:
        number = next(_user_numbers)
        self.rng = random.Random(f"{SEED}:{number}")
        self.user_id = f"u{SEED}-{number}"
        self.zip_code = f"{self.rng.randint(1, 9)}{self.rng.randint(0, 9999):04d}"
        self.cart_items = 0

    def wait_time(self) -> float:
        """Think time between actions, 0.5-2.5 s."""
        return self.rng.uniform(0.5, 2.5)

    def _product_id(self) -> int:
        # A few popular products get most views (a long tail, as in real shops).
        return min(PRODUCT_COUNT, int(self.rng.paretovariate(1.2)) + self.rng.randint(0, 3))

    @task(10)
    def browse(self) -> None:
        params = {"limit": "20", "offset": str(self.rng.randrange(0, PRODUCT_COUNT, 20))}
        if self.rng.random() < 0.5:
            params = {"category": self.rng.choice(CATEGORIES), "limit": "20"}
        self.client.get("/products", params=params, name="/products")

    @task(8)
    def product_detail(self) -> None:
        self.client.get(f"/products/{self._product_id()}", name="/products/{id}")

    @task(4)
    def recommendations(self) -> None:
        params = {"user": self.user_id, "product_id": str(self._product_id())}
        self.client.get("/recommendations", params=params, name="/recommendations")

    @task(3)
    def add_to_cart(self) -> None:
        body = {"product_id": self._product_id(), "quantity": self.rng.randint(1, 3)}
        with self.client.post(f"/cart/{self.user_id}", json=body, name="/cart/{user}", catch_response=True) as resp:
            if resp.status_code == 200:
                self.cart_items += 1

    @task(2)
    def view_cart(self) -> None:
        self.client.get(f"/cart/{self.user_id}", name="/cart/{user} [GET]")

    @task(1)
    def checkout(self) -> None:
        if self.cart_items == 0:
            self.add_to_cart()
            return
        body = {"user": self.user_id, "zip": self.zip_code}
        with self.client.post("/checkout", json=body, name="/checkout", catch_response=True) as resp:
            if resp.status_code == 200:
                self.cart_items = 0


class EnvShape(LoadTestShape):
    """Users over time from LOAD_SHAPE / LOAD_PARAMS / LOAD_SEED (a pure ``shapes.Shape``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        params = json.loads(os.environ.get("LOAD_PARAMS") or "{}")
        if not isinstance(params, dict):
            raise ValueError(f"LOAD_PARAMS must be a JSON object, got {params!r}")
        self.shape = make_shape(os.environ.get("LOAD_SHAPE", "constant"), params, seed=SEED)

    def tick(self) -> tuple[int, float] | None:
        return self.shape.tick(self.get_run_time())


class LocustCollector(Collector):
    """The runner's live stats as the README's ``locust_*`` metrics (read at scrape time)."""

    def __init__(self, environment: object) -> None:
        self.environment = environment

    def collect(self):  # type: ignore[no-untyped-def]
        runner = getattr(self.environment, "runner", None)
        total = self.environment.stats.total  # type: ignore[attr-defined]
        yield GaugeMetricFamily("locust_users", "Simulated users", value=runner.user_count if runner else 0)
        yield GaugeMetricFamily("locust_requests_per_second", "Requests per second (last seconds)", value=total.current_rps)
        yield GaugeMetricFamily(
            "locust_failures_per_second", "Failures per second (last seconds)", value=total.current_fail_per_sec
        )
        latency = GaugeMetricFamily(
            "locust_response_time_seconds", "Response-time quantiles over the last seconds", labels=["quantile"]
        )
        if total.num_requests:
            for q in QUANTILES:
                value_ms = total.get_current_response_time_percentile(q)
                if value_ms is not None:
                    latency.add_metric([str(q)], value_ms / 1000.0)
        yield latency
        yield CounterMetricFamily("locust_requests", "Requests sent", value=total.num_requests)
        yield CounterMetricFamily("locust_failures", "Requests failed", value=total.num_failures)


@events.init.add_listener
def start_metrics_endpoint(environment: object, **_kwargs: object) -> None:
    """Serve ``/metrics`` (not on workers: the master holds the aggregated stats)."""
    if isinstance(getattr(environment, "runner", None), WorkerRunner):
        return
    registry = CollectorRegistry()
    registry.register(LocustCollector(environment))
    port = int(os.environ.get("LOCUST_METRICS_PORT", "9646"))
    start_http_server(port, registry=registry)
    log.info("locust metrics on :%d", port)


def _trim_forever(environment: object) -> None:
    while True:
        gevent.sleep(TRIM_EVERY_S)
        trim_stats(environment.stats, time.time())  # type: ignore[attr-defined]


@events.init.add_listener
def keep_stats_bounded(environment: object, **_kwargs: object) -> None:
    """Drop Locust's per-second counts and chart points older than two minutes, every minute."""
    gevent.spawn(_trim_forever, environment)
