"""One shop service: ``SERVICE_NAME=catalog python3 -m app.service``.

Environment: SERVICE_NAME (one of the topology's services), PORT (8080), POSTGRES_DSN
(postgresql://shop:shop@postgres:5432/shop), REDIS_URL (redis://redis:6379/0),
CALL_TIMEOUT_S (2.0, every outbound call), and ``<CALLEE>_URL`` to override a callee's base
URL (default ``http://<callee>:<port>``). Every service also serves ``GET /health`` (its own
dependencies reachable: 200, else 503; ``?shallow=1`` only says the process answers) and
``GET /metrics``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from .handlers import SERVICE_ROUTES
from .metrics import ServiceMetrics
from .topology import Topology, load_topology
from .upstreams import Upstreams

log = logging.getLogger("shop")
DEFAULT_POSTGRES_DSN = "postgresql://shop:shop@postgres:5432/shop"
DEFAULT_REDIS_URL = "redis://redis:6379/0"
_STATE: Any = web.AppKey("shop", Upstreams) if hasattr(web, "AppKey") else "shop"


def default_urls(service: str, topology: Topology, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Base URLs of the services that ``service`` calls (``<CALLEE>_URL`` overrides)."""
    urls = {}
    for callee in topology.callees(service):
        node = topology.node(callee)
        if node.kind == "service":
            urls[callee] = env.get(f"{callee.upper()}_URL", f"http://{callee}:{node.port}")
    return urls


def default_stores(service: str, topology: Topology, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The real PostgreSQL/Redis stores for the databases ``service`` calls."""
    from .stores import PostgresStore, RedisStore

    stores: dict[str, Any] = {}
    for callee in topology.callees(service):
        if callee == "postgres":
            schema = "products" if service == "catalog" else "orders"
            stores[callee] = PostgresStore(env.get("POSTGRES_DSN", DEFAULT_POSTGRES_DSN), schema)
        elif callee == "redis":
            stores[callee] = RedisStore(env.get("REDIS_URL", DEFAULT_REDIS_URL))
    return stores


def create_app(
    service: str,
    *,
    urls: Mapping[str, str],
    stores: Mapping[str, Any],
    timeout_s: float = 2.0,
    topology: Topology | None = None,
    registry: CollectorRegistry | None = None,
) -> web.Application:
    """The aiohttp app of ``service``; ``urls``/``stores`` must be exactly its topology callees."""
    topology = topology or load_topology()
    if service not in SERVICE_ROUTES or service not in topology.services:
        raise ValueError(f"SERVICE_NAME {service!r} is not a shop service; valid: {', '.join(topology.services)}")
    callees = set(topology.callees(service))
    given = set(urls) | set(stores)
    if given != callees:
        raise ValueError(f"{service} calls {sorted(callees)} per topology.json, got {sorted(given)}")
    metrics = ServiceMetrics(service, registry)
    up = Upstreams(metrics, urls, stores, timeout_s)
    app = web.Application(middlewares=[metrics.middleware()])
    app[_STATE] = up

    async def health(request: web.Request) -> web.Response:
        if request.query.get("shallow"):
            return web.json_response({"service": service, "status": "ok"})
        checks = await up.check()
        healthy = all(v == "ok" for v in checks.values())
        return web.json_response(
            {"service": service, "status": "ok" if healthy else "unhealthy", "dependencies": checks},
            status=200 if healthy else 503,
        )

    async def on_startup(app: web.Application) -> None:
        for store in stores.values():
            await store.start()
        await up.start()

    async def on_cleanup(app: web.Application) -> None:
        await up.close()
        for store in stores.values():
            await store.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.add_routes(SERVICE_ROUTES[service](up))
    app.add_routes([web.get("/health", health), web.get("/metrics", metrics.handle_metrics)])
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    service = os.environ.get("SERVICE_NAME", "")
    topology = load_topology()
    if service not in topology.services:
        raise SystemExit(f"SERVICE_NAME must be one of {', '.join(topology.services)}, got {service!r}")
    app = create_app(
        service,
        urls=default_urls(service, topology),
        stores=default_stores(service, topology),
        timeout_s=float(os.environ.get("CALL_TIMEOUT_S", "2.0")),
        topology=topology,
    )
    log.info("%s listening on :%s", service, os.environ.get("PORT", "8080"))
    web.run_app(app, port=int(os.environ.get("PORT", "8080")), access_log=None, print=None)


if __name__ == "__main__":
    main()
