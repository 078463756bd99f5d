"""The shop's request handlers, one small group per service (routes per ``topology.json``).

Each handler does a little real work (parsing, JSON, a hash or a sort) and calls only its
topology callees through :class:`~.upstreams.Upstreams`, so faults in one service show up
where the call graph says they should.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .upstreams import Upstreams

Routes = list[web.RouteDef]
QUOTE_TTL_S = 300


def _int_arg(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"{name} must be an integer"}), content_type="application/json") from None
    return max(low, min(high, number))


def _digest(payload: Any) -> str:
    """A content hash (ETag-like): the small, honest CPU cost of each answer."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "body must be JSON"}), content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "body must be a JSON object"}), content_type="application/json")
    return body


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


# ---- gateway: the public API, fans out to the services ------------------------------------------
def gateway_routes(up: Upstreams) -> Routes:
    async def products(request: web.Request) -> web.Response:
        params = {k: v for k, v in request.query.items() if k in ("category", "limit", "offset")}
        items = await up.call("catalog", "GET", "/products", params=params)
        return web.json_response({"products": items["products"], "etag": _digest(items)})

    async def product(request: web.Request) -> web.Response:
        return web.json_response(await up.call("catalog", "GET", f"/products/{request.match_info['id']}"))

    async def recommendations(request: web.Request) -> web.Response:
        params = {k: v for k, v in request.query.items() if k in ("user", "product_id", "limit")}
        return web.json_response(await up.call("recommendation", "GET", "/recommendations", params=params))

    async def get_cart(request: web.Request) -> web.Response:
        return web.json_response(await up.call("cart", "GET", f"/cart/{request.match_info['user']}"))

    async def add_to_cart(request: web.Request) -> web.Response:
        body = await _json_body(request)
        product_id = _int_arg(str(body.get("product_id", "")), "product_id", -1, -1, 10**9)
        quantity = _int_arg(str(body.get("quantity", 1)), "quantity", 1, 1, 99)
        if product_id < 0:
            raise _bad("product_id is required")
        item = await up.call("catalog", "GET", f"/products/{product_id}")
        line = {"product_id": product_id, "quantity": quantity, "price_cents": item["price_cents"]}
        return web.json_response(await up.call("cart", "POST", f"/cart/{request.match_info['user']}", json=line))

    async def checkout(request: web.Request) -> web.Response:
        body = await _json_body(request)
        return web.json_response(await up.call("checkout", "POST", "/checkout", json=body))

    return [
        web.get("/products", products),
        web.get("/products/{id}", product),
        web.get("/recommendations", recommendations),
        web.get("/cart/{user}", get_cart),
        web.post("/cart/{user}", add_to_cart),
        web.post("/checkout", checkout),
    ]


# ---- catalog: products in PostgreSQL ----------------------------------------------------------
def catalog_routes(up: Upstreams) -> Routes:
    db = up.store("postgres")

    async def products(request: web.Request) -> web.Response:
        limit = _int_arg(request.query.get("limit"), "limit", 20, 1, 100)
        offset = _int_arg(request.query.get("offset"), "offset", 0, 0, 10**6)
        category = request.query.get("category") or None
        rows = await up.data("postgres", db.list_products(category, limit, offset))
        return web.json_response({"products": rows, "count": len(rows)})

    async def product(request: web.Request) -> web.Response:
        product_id = _int_arg(request.match_info["id"], "id", 0, -1, 2**31 - 1)
        row = await up.data("postgres", db.get_product(product_id))
        if row is None:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no product {product_id}"}), content_type="application/json")
        return web.json_response(row)

    return [web.get("/products", products), web.get("/products/{id}", product)]


# ---- cart: Redis hashes -----------------------------------------------------------------------
def cart_routes(up: Upstreams) -> Routes:
    kv = up.store("redis")

    async def get_cart(request: web.Request) -> web.Response:
        user = request.match_info["user"]
        lines = await up.data("redis", kv.cart_get(user))
        items = [{"product_id": int(pid), **v} for pid, v in sorted(lines.items(), key=lambda kv_: int(kv_[0]))]
        total = sum(i["quantity"] * i["price_cents"] for i in items)
        return web.json_response({"user": user, "items": items, "total_cents": total})

    async def add(request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            product_id, quantity, price = int(body["product_id"]), int(body["quantity"]), int(body["price_cents"])
        except (KeyError, TypeError, ValueError):
            raise _bad("product_id, quantity and price_cents are required integers") from None
        await up.data("redis", kv.cart_add(request.match_info["user"], product_id, quantity, price))
        return web.json_response({"user": request.match_info["user"], "added": product_id, "quantity": quantity})

    async def clear(request: web.Request) -> web.Response:
        await up.data("redis", kv.cart_clear(request.match_info["user"]))
        return web.json_response({"user": request.match_info["user"], "cleared": True})

    return [web.get("/cart/{user}", get_cart), web.post("/cart/{user}", add), web.delete("/cart/{user}", clear)]


# ---- recommendation: ranks catalog products ---------------------------------------------------
def recommendation_routes(up: Upstreams) -> Routes:
    async def recommend(request: web.Request) -> web.Response:
        user = request.query.get("user", "anonymous")
        limit = _int_arg(request.query.get("limit"), "limit", 5, 1, 20)
        product_id = _int_arg(request.query.get("product_id"), "product_id", 0, 0, 2**31 - 1)
        params = {"limit": "50"}
        if product_id:
            seen = await up.call("catalog", "GET", f"/products/{product_id}")
            params["category"] = seen["category"]
        else:
            params["offset"] = str(int(hashlib.md5(user.encode()).hexdigest(), 16) % 150)
        candidates = (await up.call("catalog", "GET", "/products", params=params))["products"]
        ranked = sorted(
            (p for p in candidates if p["id"] != product_id),
            key=lambda p: hashlib.sha1(f"{user}:{p['id']}".encode()).hexdigest(),
        )
        return web.json_response({"user": user, "products": ranked[:limit]})

    return [web.get("/recommendations", recommend)]


# ---- checkout: cart -> shipping quote -> payment -> clear cart -------------------------------
def checkout_routes(up: Upstreams) -> Routes:
    async def checkout(request: web.Request) -> web.Response:
        body = await _json_body(request)
        user = str(body.get("user", ""))
        if not user:
            raise _bad("user is required")
        zip_code = str(body.get("zip", "10115"))
        cart = await up.call("cart", "GET", f"/cart/{user}")
        if not cart["items"]:
            raise _bad(f"cart of {user} is empty")
        count = sum(i["quantity"] for i in cart["items"])
        quote = await up.call("shipping", "POST", "/quote", json={"zip": zip_code, "items": count})
        amount = cart["total_cents"] + quote["cost_cents"]
        paid = await up.call(
            "payment", "POST", "/charge", json={"user": user, "amount_cents": amount, "items": cart["items"]}
        )
        await up.call("cart", "DELETE", f"/cart/{user}")
        return web.json_response(
            {"order_id": paid["order_id"], "amount_cents": amount, "shipping_cents": quote["cost_cents"], "items": count}
        )

    return [web.post("/checkout", checkout)]


# ---- payment: authorises and records an order row ---------------------------------------------
def payment_routes(up: Upstreams) -> Routes:
    db = up.store("postgres")

    async def charge(request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            user, amount, items = str(body["user"]), int(body["amount_cents"]), list(body["items"])
        except (KeyError, TypeError, ValueError):
            raise _bad("user, amount_cents and items are required") from None
        if amount <= 0:
            raise _bad("amount_cents must be > 0")
        authorisation = _digest({"user": user, "amount": amount, "items": items})
        order_id = await up.data("postgres", db.create_order(user, amount, items))
        return web.json_response({"order_id": order_id, "status": "paid", "authorisation": authorisation})

    return [web.post("/charge", charge)]


# ---- shipping: quotes, cached in Redis --------------------------------------------------------
def shipping_cost_cents(zip_code: str, items: int) -> int:
    """Zone from the first digit of the zip code, plus a per-item charge."""
    zone = int(zip_code[0]) if zip_code[:1].isdigit() else 9
    return 390 + 45 * zone + 120 * max(0, items - 1)


def shipping_routes(up: Upstreams) -> Routes:
    kv = up.store("redis")

    async def quote(request: web.Request) -> web.Response:
        body = await _json_body(request)
        zip_code = str(body.get("zip", ""))
        items = _int_arg(str(body.get("items", 1)), "items", 1, 1, 1000)
        key = f"{zip_code[:2]}:{items}"
        cached = await up.data("redis", kv.quote_get(key))
        if cached is not None:
            return web.json_response({"cost_cents": int(cached), "cached": True})
        cost = shipping_cost_cents(zip_code, items)
        await up.data("redis", kv.quote_set(key, str(cost), QUOTE_TTL_S))
        return web.json_response({"cost_cents": cost, "cached": False})

    return [web.post("/quote", quote)]


SERVICE_ROUTES: dict[str, Callable[[Upstreams], Routes]] = {
    "gateway": gateway_routes,
    "catalog": catalog_routes,
    "cart": cart_routes,
    "recommendation": recommendation_routes,
    "checkout": checkout_routes,
    "payment": payment_routes,
    "shipping": shipping_routes,
}
