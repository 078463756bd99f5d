"""The shop's data: PostgreSQL (products, orders) and Redis (carts, shipping quotes).

One pool per process, opened at start-up (retrying until the database answers) and closed
at shutdown; handlers never connect per request. The drivers are imported lazily so a
service loads only what it uses.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

log = logging.getLogger("shop")

PRODUCT_COUNT = 200
CATEGORIES = ("books", "games", "kitchen", "garden", "toys", "music", "sports", "tools")
_ADJECTIVES = ("classic", "compact", "deluxe", "eco", "handmade", "modern", "rugged", "vintage")
_NOUNS = ("kit", "set", "lamp", "mug", "board", "guide", "ball", "box", "rack", "tin")
CART_TTL_S = 86400


def seed_products(count: int = PRODUCT_COUNT) -> list[dict[str, Any]]:
    """The catalog's deterministic seed rows (the same on every start: seeding is idempotent)."""
    rows = []
    for pid in range(1, count + 1):
        category = CATEGORIES[pid % len(CATEGORIES)]
        name = f"{_ADJECTIVES[(pid + pid // 8) % len(_ADJECTIVES)]} {category} {_NOUNS[(pid * 7) % len(_NOUNS)]} {pid}"
        rows.append(
            {
                "id": pid,
                "name": name,
                "category": category,
                "price_cents": 199 + (pid * 7919) % 19800,
                "description": f"A {name} for everyday use. Item {pid} of the {category} range.",
            }
        )
    return rows


async def retry_until_ready(what: str, attempt: Any, max_wait_s: float = 2.0) -> Any:
    """Await ``attempt()`` until it succeeds (databases start after the services)."""
    delay = 0.2
    while True:
        try:
            return await attempt()
        except Exception as exc:
            log.info("%s not ready (%s: %s); retrying in %.1f s", what, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_wait_s)


_PRODUCTS_DDL = """
CREATE TABLE IF NOT EXISTS products (
    id integer PRIMARY KEY,
    name text NOT NULL,
    category text NOT NULL,
    price_cents integer NOT NULL,
    description text NOT NULL
);
CREATE INDEX IF NOT EXISTS products_category ON products (category);
"""
_ORDERS_DDL = """
CREATE TABLE IF NOT EXISTS orders (
    id bigserial PRIMARY KEY,
    user_id text NOT NULL,
    amount_cents integer NOT NULL,
    items jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
_COLUMNS = "id, name, category, price_cents, description"


class PostgresStore:
    """Products (catalog) and orders (payment) over an asyncpg pool."""

    def __init__(self, dsn: str, schema: str) -> None:
        self.dsn = dsn
        self.schema = schema  # "products" or "orders": what this service creates at start
        self.pool: Any = None

    async def start(self) -> None:
        import asyncpg

        async def connect() -> Any:
            pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=4, command_timeout=10)
            try:
                async with pool.acquire() as conn, conn.transaction():
                    # Concurrent CREATE ... IF NOT EXISTS from two services can collide:
                    # serialise them on an advisory lock.
                    await conn.execute("SELECT pg_advisory_xact_lock(4242)")
                    if self.schema == "products":
                        await conn.execute(_PRODUCTS_DDL)
                        await conn.executemany(
                            f"INSERT INTO products ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                            [tuple(r.values()) for r in seed_products()],
                        )
                    else:
                        await conn.execute(_ORDERS_DDL)
            except Exception:
                await pool.close()
                raise
            return pool

        self.pool = await retry_until_ready("postgres", connect)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def ping(self) -> None:
        await self.pool.fetchval("SELECT 1")

    async def list_products(self, category: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        if category:
            rows = await self.pool.fetch(
                f"SELECT {_COLUMNS} FROM products WHERE category = $1 ORDER BY id LIMIT $2 OFFSET $3",
                category, limit, offset,
            )
        else:
            rows = await self.pool.fetch(f"SELECT {_COLUMNS} FROM products ORDER BY id LIMIT $1 OFFSET $2", limit, offset)
        return [dict(r) for r in rows]

    async def get_product(self, product_id: int) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(f"SELECT {_COLUMNS} FROM products WHERE id = $1", product_id)
        return dict(row) if row is not None else None

    async def create_order(self, user: str, amount_cents: int, items: list[dict[str, Any]]) -> int:
        return int(
            await self.pool.fetchval(
                "INSERT INTO orders (user_id, amount_cents, items) VALUES ($1, $2, $3::jsonb) RETURNING id",
                user, amount_cents, json.dumps(items),
            )
        )


class RedisStore:
    """Carts (hash per user: product id -> quantity, and a price hash) and cached quotes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client: Any = None

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.from_url(self.url, decode_responses=True, max_connections=32, socket_timeout=5)
        await retry_until_ready("redis", self.client.ping)

    async def close(self) -> None:
        if self.client is not None:
            closer = getattr(self.client, "aclose", None) or self.client.close
            await closer()

    async def ping(self) -> None:
        await self.client.ping()

    async def cart_get(self, user: str) -> dict[str, dict[str, int]]:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(f"cart:{user}")
            pipe.hgetall(f"cart:{user}:price")
            quantities, prices = await pipe.execute()
        return {pid: {"quantity": int(q), "price_cents": int(prices.get(pid, 0))} for pid, q in quantities.items()}

    async def cart_add(self, user: str, product_id: int, quantity: int, price_cents: int) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(f"cart:{user}", str(product_id), quantity)
            pipe.hset(f"cart:{user}:price", str(product_id), price_cents)
            pipe.expire(f"cart:{user}", CART_TTL_S)
            pipe.expire(f"cart:{user}:price", CART_TTL_S)
            await pipe.execute()

    async def cart_clear(self, user: str) -> None:
        await self.client.delete(f"cart:{user}", f"cart:{user}:price")

    async def quote_get(self, key: str) -> str | None:
        return await self.client.get(f"quote:{key}")

    async def quote_set(self, key: str, value: str, ttl_s: int) -> None:
        await self.client.set(f"quote:{key}", value, ex=ttl_s)
