"""Each service's Prometheus metrics (names and labels per testbed/README.md) and the
aiohttp middleware that records them.

Every app gets its own registry so several services can share one process (the host tests);
``/metrics`` and ``/health`` are not counted, so scrapes and health checks do not show up as
load. Outbound calls are timed with :meth:`ServiceMetrics.track`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger("shop")
UNINSTRUMENTED = frozenset({"/metrics", "/health"})
# Milliseconds to seconds: the shop answers in a few ms, faults push it to seconds.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DependencyError(Exception):
    """An outbound call failed; ``http_status`` is what this service answers with."""

    def __init__(self, dependency: str, http_status: int, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.http_status = http_status
        self.detail = detail


class ServiceMetrics:
    """The six application metric families of one service, in their own registry."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "http_requests", "HTTP requests served", ["service", "method", "endpoint", "status"], registry=r
        )
        self.duration = Histogram(
            "http_request_duration_seconds", "Time to serve a request", ["service", "method", "endpoint"],
            buckets=BUCKETS_S, registry=r,
        )
        self.in_flight = Gauge("http_requests_in_flight", "Requests being served", ["service"], registry=r)
        self.errors = Counter(
            "http_request_errors", "Requests that raised or answered 5xx", ["service", "endpoint"], registry=r
        )
        self.dep_requests = Counter(
            "dependency_requests", "Outbound calls (services and databases)", ["service", "dependency", "status"],
            registry=r,
        )
        self.dep_duration = Histogram(
            "dependency_request_duration_seconds", "Time of outbound calls", ["service", "dependency"],
            buckets=BUCKETS_S, registry=r,
        )
        self.in_flight.labels(service)  # export 0 from the start

    @asynccontextmanager
    async def track(self, dependency: str) -> AsyncIterator[dict[str, str]]:
        """Time one outbound call; the caller sets ``outcome["status"]`` (default ``error``)."""
        outcome = {"status": "error"}
        start = time.perf_counter()
        try:
            yield outcome
        finally:
            self.dep_duration.labels(self.service, dependency).observe(time.perf_counter() - start)
            self.dep_requests.labels(self.service, dependency, outcome["status"]).inc()

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        """Counts, times and error-maps every request (DependencyError -> its status, bugs -> 500)."""

        @web.middleware
        async def instrument(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            resource = request.match_info.route.resource
            endpoint = resource.canonical if resource is not None else "unmatched"
            if endpoint in UNINSTRUMENTED:
                return await handler(request)
            gauge = self.in_flight.labels(self.service)
            gauge.inc()
            start = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            except DependencyError as exc:
                status = exc.http_status
                return web.json_response({"error": str(exc), "service": self.service}, status=status)
            except asyncio.CancelledError:
                status = 499  # client went away (nginx's convention)
                raise
            except Exception as exc:  # a bug: answer 500 rather than drop the connection
                log.exception("%s %s failed", request.method, endpoint)
                return web.json_response({"error": type(exc).__name__, "service": self.service}, status=500)
            finally:
                gauge.dec()
                self.duration.labels(self.service, request.method, endpoint).observe(time.perf_counter() - start)
                self.requests.labels(self.service, request.method, endpoint, str(status)).inc()
                if status >= 500:
                    self.errors.labels(self.service, endpoint).inc()

        return instrument

    async def handle_metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
