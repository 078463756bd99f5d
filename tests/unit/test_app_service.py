"""Host smoke test of the shop: all seven services in one process, talking real HTTP to each
other, with PostgreSQL and Redis replaced by in-memory stores (the pure-logic boundary).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from faultlab.testbed.app.handlers import shipping_cost_cents
from faultlab.testbed.app.service import create_app, default_urls
from faultlab.testbed.app.stores import seed_products
from faultlab.testbed.app.topology import load_topology

TOPOLOGY = load_topology()
# Start order: callees before callers, so each caller knows its callees' URLs.
START_ORDER = ["catalog", "cart", "payment", "shipping", "recommendation", "checkout", "gateway"]


class FakePostgres:
    """Products and orders in memory, with the PostgresStore methods."""

    def __init__(self) -> None:
        self.products = {p["id"]: p for p in seed_products()}
        self.orders: list[dict[str, Any]] = []
        self.fail = False
        self.delay_s = 0.0

    async def _gate(self) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise ConnectionRefusedError("connection refused")

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def ping(self) -> None:
        await self._gate()

    async def list_products(self, category: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        await self._gate()
        rows = [p for p in self.products.values() if category in (None, p["category"])]
        return rows[offset : offset + limit]

    async def get_product(self, product_id: int) -> dict[str, Any] | None:
        await self._gate()
        return self.products.get(product_id)

    async def create_order(self, user: str, amount_cents: int, items: list[dict[str, Any]]) -> int:
        await self._gate()
        self.orders.append({"user": user, "amount_cents": amount_cents, "items": items})
        return len(self.orders)


class FakeRedis:
    """Carts and quotes in memory, with the RedisStore methods."""

    def __init__(self) -> None:
        self.carts: dict[str, dict[str, dict[str, int]]] = {}
        self.quotes: dict[str, str] = {}

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    async def cart_get(self, user: str) -> dict[str, dict[str, int]]:
        return {k: dict(v) for k, v in self.carts.get(user, {}).items()}

    async def cart_add(self, user: str, product_id: int, quantity: int, price_cents: int) -> None:
        line = self.carts.setdefault(user, {}).setdefault(str(product_id), {"quantity": 0, "price_cents": 0})
        line["quantity"] += quantity
        line["price_cents"] = price_cents

    async def cart_clear(self, user: str) -> None:
        self.carts.pop(user, None)

    async def quote_get(self, key: str) -> str | None:
        return self.quotes.get(key)

    async def quote_set(self, key: str, value: str, ttl_s: int) -> None:
        self.quotes[key] = value


class Shop:
    """The running services, their fake stores and a client session."""

    def __init__(self) -> None:
        self.pg, self.redis = FakePostgres(), FakeRedis()
        self.servers: dict[str, TestServer] = {}
        self.session: ClientSession | None = None

    async def start(self, timeout_s: float = 2.0) -> None:
        for name in START_ORDER:
            urls = {c: str(self.servers[c].make_url("")).rstrip("/") for c in default_urls(name, TOPOLOGY, env={})}
            stores = {db: {"postgres": self.pg, "redis": self.redis}[db] for db in TOPOLOGY.callees(name) if db in TOPOLOGY.databases}
            server = TestServer(create_app(name, urls=urls, stores=stores, timeout_s=timeout_s))
            await server.start_server()
            self.servers[name] = server
        self.session = ClientSession()

    async def stop(self) -> None:
        assert self.session is not None
        await self.session.close()
        for server in reversed(list(self.servers.values())):
            await server.close()

    async def request(self, service: str, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        assert self.session is not None
        async with self.session.request(method, self.servers[service].make_url(path), **kw) as resp:
            return resp.status, await resp.json(content_type=None)

    async def metrics(self, service: str) -> dict[tuple[str, tuple], float]:
        assert self.session is not None
        async with self.session.get(self.servers[service].make_url("/metrics")) as resp:
            text = await resp.text()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text)
            for s in fam.samples
        }


def run_shop(scenario: Callable[[Shop], Awaitable[None]], timeout_s: float = 2.0) -> None:
    async def main() -> None:
        shop = Shop()
        await shop.start(timeout_s)
        try:
            await scenario(shop)
        finally:
            await shop.stop()

    asyncio.run(main())


def test_routes_match_topology_endpoints() -> None:
    for name in TOPOLOGY.services:
        stores = {db: FakeRedis() for db in TOPOLOGY.callees(name) if db in TOPOLOGY.databases}
        app = create_app(name, urls=default_urls(name, TOPOLOGY, env={}), stores=stores)
        routes = {f"{r.method} {r.resource.canonical}" for r in app.router.routes() if r.method != "HEAD"}
        assert routes == set(TOPOLOGY.node(name).endpoints) | {"GET /health", "GET /metrics"}, name


def test_app_refuses_callees_outside_the_topology() -> None:
    with pytest.raises(ValueError, match="per topology.json"):
        create_app("recommendation", urls={"catalog": "http://x", "cart": "http://y"}, stores={})
    with pytest.raises(ValueError, match="not a shop service"):
        create_app("postgres", urls={}, stores={})


def test_default_urls_follow_topology_and_env() -> None:
    assert default_urls("checkout", TOPOLOGY, env={"PAYMENT_URL": "http://127.0.0.1:9"}) == {
        "cart": "http://cart:8080",
        "payment": "http://127.0.0.1:9",
        "shipping": "http://shipping:8080",
    }


def test_shopping_flow_end_to_end() -> None:
    prices = {p["id"]: p["price_cents"] for p in seed_products()}

    async def scenario(shop: Shop) -> None:
        status, body = await shop.request("gateway", "GET", "/products", params={"limit": "5", "offset": "10"})
        assert status == 200 and [p["id"] for p in body["products"]] == [11, 12, 13, 14, 15]

        status, body = await shop.request("gateway", "GET", "/products/42")
        assert status == 200 and body["id"] == 42 and body["price_cents"] == prices[42]
        status, _ = await shop.request("gateway", "GET", "/products/999")
        assert status == 404

        status, body = await shop.request("gateway", "GET", "/recommendations", params={"user": "u1", "product_id": "42"})
        assert status == 200 and len(body["products"]) == 5
        assert {p["category"] for p in body["products"]} == {shop.pg.products[42]["category"]}
        assert 42 not in [p["id"] for p in body["products"]]

        for pid, qty in ((3, 2), (7, 1)):
            status, _ = await shop.request("gateway", "POST", "/cart/u1", json={"product_id": pid, "quantity": qty})
            assert status == 200
        status, cart = await shop.request("gateway", "GET", "/cart/u1")
        assert cart["total_cents"] == 2 * prices[3] + prices[7]

        status, order = await shop.request("gateway", "POST", "/checkout", json={"user": "u1", "zip": "10115"})
        assert status == 200
        assert order["shipping_cents"] == shipping_cost_cents("10115", 3) == 390 + 45 * 1 + 120 * 2
        assert order["amount_cents"] == 2 * prices[3] + prices[7] + 675
        assert shop.pg.orders == [{"user": "u1", "amount_cents": order["amount_cents"], "items": cart["items"]}]
        assert shop.redis.carts == {}
        status, _ = await shop.request("gateway", "POST", "/checkout", json={"user": "u1"})
        assert status == 400  # empty cart is the client's problem

        # Every outbound call seen is an edge of the graph, and every edge was used.
        seen = set()
        for name in TOPOLOGY.services:
            for (metric, labels), value in (await shop.metrics(name)).items():
                if metric == "dependency_requests_total" and value > 0:
                    seen.add((dict(labels)["service"], dict(labels)["dependency"]))
        assert seen == set(TOPOLOGY.edges)

        gw = await shop.metrics("gateway")
        key = lambda **kv: tuple(sorted({"service": "gateway", **kv}.items()))  # noqa: E731
        assert gw[("http_requests_total", key(method="GET", endpoint="/products/{id}", status="404"))] == 1
        assert gw[("http_requests_total", key(method="POST", endpoint="/cart/{user}", status="200"))] == 2
        assert gw[("http_request_duration_seconds_count", key(method="GET", endpoint="/products/{id}"))] == 2
        assert gw[("http_requests_in_flight", key())] == 0
        assert ("http_request_errors_total", key(endpoint="/products/{id}")) not in gw  # 4xx are not errors
        # catalog answered 200 for /products, /products/42 and the two cart additions, 404 once.
        assert gw[("dependency_requests_total", key(dependency="catalog", status="200"))] == 4
        assert gw[("dependency_requests_total", key(dependency="catalog", status="404"))] == 1

    run_shop(scenario)


def test_database_failure_propagates_as_5xx_with_error_counters() -> None:
    async def scenario(shop: Shop) -> None:
        shop.pg.fail = True
        status, body = await shop.request("gateway", "GET", "/products")
        assert status == 502 and "catalog" in body["error"]
        status, _ = await shop.request("catalog", "GET", "/products")
        assert status == 503

        cat = await shop.metrics("catalog")
        assert cat[("http_request_errors_total", (("endpoint", "/products"), ("service", "catalog")))] == 2
        assert cat[("dependency_requests_total", (("dependency", "postgres"), ("service", "catalog"), ("status", "error")))] == 2
        gw = await shop.metrics("gateway")
        assert gw[("http_request_errors_total", (("endpoint", "/products"), ("service", "gateway")))] == 1
        assert gw[("dependency_requests_total", (("dependency", "catalog"), ("service", "gateway"), ("status", "503")))] == 1

        status, health = await shop.request("catalog", "GET", "/health")
        assert status == 503 and health["dependencies"]["postgres"].startswith("ConnectionRefusedError")
        status, health = await shop.request("gateway", "GET", "/health")
        assert status == 200 and set(health["dependencies"]) == {"catalog", "cart", "recommendation", "checkout"}
        assert ("http_requests_total", (("endpoint", "/health"),)) not in await shop.metrics("catalog")

    run_shop(scenario)


def test_slow_dependency_times_out_as_504() -> None:
    async def scenario(shop: Shop) -> None:
        shop.pg.delay_s = 0.5
        status, body = await shop.request("catalog", "GET", "/products/1")
        assert status == 504 and "postgres" in body["error"]
        cat = await shop.metrics("catalog")
        assert cat[("dependency_requests_total", (("dependency", "postgres"), ("service", "catalog"), ("status", "timeout")))] == 1
        assert cat[("http_request_errors_total", (("endpoint", "/products/{id}"), ("service", "catalog")))] == 1
        # Gateway has the same timeout as catalog: it sees either catalog's 504 or its own timeout.
        status, body = await shop.request("gateway", "GET", "/products/1")
        assert status in (502, 504) and "catalog" in body["error"]

    run_shop(scenario, timeout_s=0.2)
