"""Outbound calls of one service: HTTP to the services it calls and data-store operations,
all timed, counted and bounded by a timeout, over pooled connections.

Only the callees the topology gives this service are reachable: a call to anything else is
a programming error (RuntimeError), which keeps the code honest to ``topology.json``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import aiohttp

from .metrics import DependencyError, ServiceMetrics

T = TypeVar("T")


class Upstreams:
    """A pooled aiohttp session plus timing/metrics for each outbound call."""

    def __init__(
        self, metrics: ServiceMetrics, urls: Mapping[str, str], data_stores: Mapping[str, Any], timeout_s: float = 2.0
    ) -> None:
        self.metrics = metrics
        self.urls = dict(urls)  # callee service -> base URL
        self.data_stores = dict(data_stores)  # callee database -> store object
        self.timeout_s = timeout_s
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.urls and self.session is None:
            self.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30),
            )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def store(self, name: str) -> Any:
        if name not in self.data_stores:
            raise RuntimeError(f"{self.metrics.service} does not use {name} (see topology.json)")
        return self.data_stores[name]

    async def call(
        self,
        callee: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """Call ``callee`` and return its JSON; 4xx answers keep their status, failures become 502/504."""
        if callee not in self.urls:
            raise RuntimeError(f"{self.metrics.service} may not call {callee} (see topology.json)")
        await self.start()
        assert self.session is not None
        async with self.metrics.track(callee) as outcome:
            try:
                async with self.session.request(method, self.urls[callee] + path, params=params, json=json) as resp:
                    outcome["status"] = str(resp.status)
                    body = await resp.json(content_type=None)
            except TimeoutError:
                outcome["status"] = "timeout"
                raise DependencyError(callee, 504, f"no answer within {self.timeout_s} s") from None
            except (aiohttp.ClientError, ValueError) as exc:
                outcome["status"] = "error"
                raise DependencyError(callee, 502, f"{type(exc).__name__}: {exc}") from None
        if resp.status >= 500:
            raise DependencyError(callee, 502, f"answered {resp.status}")
        if resp.status >= 400:
            detail = body.get("error", "") if isinstance(body, dict) else ""
            raise DependencyError(callee, resp.status, f"answered {resp.status} {detail}".strip())
        return body

    async def data(self, store: str, operation: Awaitable[T]) -> T:
        """Run one data-store operation (already bound to ``self.store(store)``) with metrics."""
        if store not in self.data_stores:
            raise RuntimeError(f"{self.metrics.service} does not use {store} (see topology.json)")
        async with self.metrics.track(store) as outcome:
            try:
                result = await asyncio.wait_for(operation, self.timeout_s)
            except TimeoutError:
                outcome["status"] = "timeout"
                raise DependencyError(store, 504, f"no answer within {self.timeout_s} s") from None
            except Exception as exc:  # driver errors differ per library: all mean "store failed"
                raise DependencyError(store, 503, f"{type(exc).__name__}: {exc}") from None
            outcome["status"] = "ok"
            return result

    async def check(self, timeout_s: float = 1.0) -> dict[str, str]:
        """Reachability of every callee, uncounted (``/health``): ``{name: "ok" | reason}``."""
        results: dict[str, str] = {}
        for name, store in self.data_stores.items():
            try:
                await asyncio.wait_for(store.ping(), timeout_s)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"{type(exc).__name__}: {exc}"[:200]
        if self.urls:
            await self.start()
            assert self.session is not None
        for name, url in self.urls.items():
            try:
                timeout = aiohttp.ClientTimeout(total=timeout_s)
                async with self.session.get(url + "/health", params={"shallow": "1"}, timeout=timeout) as resp:
                    results[name] = "ok" if resp.status == 200 else f"HTTP {resp.status}"
            except (TimeoutError, aiohttp.ClientError) as exc:
                results[name] = f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
        return results
