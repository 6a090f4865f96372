"""Starlette routes and the app factory. Handlers are small; bodies are precomputed where static."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from faulty_app.admin import admin_routes
from faulty_app.checksum import with_checksum
from faulty_app.http_util import JSON, BodyTooLarge, dumps, json_response, read_limited
from faulty_app.metrics import CONTENT_TYPE_LATEST
from faulty_app.middleware import CORRUPT_KEY, FaultyApp
from faulty_app.runtime import ExitFn, Runtime, exit_now
from faulty_app.settings import AppSettings, settings_from_env

MAX_ORDER_BYTES = 64 * 1024
SAMPLE_ORDERS = (("ord-1", "widget", 2), ("ord-2", "gadget", 1), ("ord-3", "sprocket", 12))


class Bodies:
    """Static bodies, honest and corrupted (same checksum, different content), built once."""

    def __init__(self, version: str) -> None:
        root = {"message": "hello from faulty_app", "version": version}
        self.root = dumps(with_checksum(root))
        self.root_corrupt = dumps({**with_checksum(root), "message": "hello from faulty_app?"})
        orders = [{"order_id": oid, "item": item, "quantity": qty} for oid, item, qty in SAMPLE_ORDERS]
        listing = {"orders": orders, "version": version}
        self.orders = dumps(with_checksum(listing))
        wrong = [{**orders[0], "quantity": orders[0]["quantity"] + 1}, *orders[1:]]  # type: ignore[operator]
        self.orders_corrupt = dumps({**with_checksum(listing), "orders": wrong})
        self.version = dumps({"version": version})
        self.healthy = b'{"status":"ok"}'
        self.ready = b'{"ready":true}'
        self.not_ready = b'{"ready":false}'


def build_routes(runtime: Runtime) -> list[Route]:
    """All routes; /admin/faults only when an admin token is configured."""
    bodies = Bodies(runtime.version)
    order_ids = itertools.count(1)

    async def root(request: Request) -> Response:
        return Response(
            bodies.root_corrupt if request.scope.get(CORRUPT_KEY) else bodies.root, media_type=JSON
        )

    async def list_orders(request: Request) -> Response:
        corrupt = request.scope.get(CORRUPT_KEY)
        return Response(bodies.orders_corrupt if corrupt else bodies.orders, media_type=JSON)

    async def create_order(request: Request) -> Response:
        try:
            body = await read_limited(request, MAX_ORDER_BYTES)
        except BodyTooLarge:
            return json_response(
                {"detail": [{"loc": ["body"], "msg": f"at most {MAX_ORDER_BYTES} bytes"}]}, 413
            )
        problem = _order_problem(body)
        if problem is not None:
            return json_response({"detail": [problem]}, 422)
        order: dict[str, Any] = json.loads(body)
        answer = with_checksum(
            {**order, "order_id": f"{runtime.version}-{next(order_ids)}", "version": runtime.version}
        )
        if request.scope.get(CORRUPT_KEY):
            answer["quantity"] = order["quantity"] + 1
        return Response(dumps(answer), status_code=201, media_type=JSON)

    async def healthz(_: Request) -> Response:
        return Response(bodies.healthy, media_type=JSON)

    async def readyz(_: Request) -> Response:
        if runtime.engine.ready():
            return Response(bodies.ready, media_type=JSON)
        return Response(bodies.not_ready, status_code=503, media_type=JSON)

    async def metrics(_: Request) -> Response:
        return Response(runtime.render_metrics(), media_type=CONTENT_TYPE_LATEST)

    async def version(_: Request) -> Response:
        return Response(bodies.version, media_type=JSON)

    routes = [
        Route("/", root, methods=["GET"]),
        Route("/api/orders", list_orders, methods=["GET"]),
        Route("/api/orders", create_order, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
    ]
    if runtime.settings.admin_token:
        routes.extend(admin_routes(runtime, runtime.settings.admin_token))
    return routes


def _order_problem(body: bytes) -> dict[str, Any] | None:
    """Validate ``{"item": str, "quantity": int > 0}`` by hand (no pydantic on the request path)."""
    try:
        order = json.loads(body)
    except (ValueError, RecursionError):
        return {"loc": ["body"], "msg": "expected a JSON object"}
    if not isinstance(order, dict):
        return {"loc": ["body"], "msg": "expected a JSON object"}
    extra = sorted(order.keys() - {"item", "quantity"})
    if extra:
        return {"loc": ["body", extra[0]], "msg": "unexpected field"}
    item, quantity = order.get("item"), order.get("quantity")
    if not isinstance(item, str) or not 1 <= len(item) <= 200:
        return {"loc": ["body", "item"], "msg": "expected a string of 1 to 200 characters"}
    if type(quantity) is not int or not 0 < quantity <= 1_000_000:
        return {"loc": ["body", "quantity"], "msg": "expected an integer between 1 and 1000000"}
    return None


def create_app(
    settings: AppSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    exit_fn: ExitFn = exit_now,
) -> FaultyApp:
    """The ASGI app for ``settings`` (validated already)."""
    runtime = Runtime(settings, clock=clock, rng=rng, exit_fn=exit_fn)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        runtime.start()
        yield

    return FaultyApp(Starlette(routes=build_routes(runtime), lifespan=lifespan), runtime)


def app_from_env() -> FaultyApp:
    """Factory for uvicorn workers (``--workers N``); the parent validated the environment."""
    return create_app(settings_from_env(os.environ))
