"""The outer ASGI layer in-process: a crashing handler still answers 500 with X-App-Version."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from faulty_app.app import create_app
from faulty_app.middleware import FaultyApp
from faulty_app.runtime import Runtime
from faulty_app.settings import AppSettings


def get(app, path: str) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.get(path)

    return asyncio.run(run())


class TestFaultyAppWrapper:
    def test_unhandled_exception_is_a_versioned_500_and_counted(self):
        """An exception in a route becomes a 500 carrying X-App-Version, counted in the metrics."""

        async def boom(_: Request) -> Response:
            raise RuntimeError("bug")

        runtime = Runtime(AppSettings(version="v9"))
        app = FaultyApp(Starlette(routes=[Route("/", boom)]), runtime)
        response = get(app, "/")
        assert response.status_code == 500
        assert response.headers["x-app-version"] == "v9"
        assert b'http_requests_total{code="500",route="/",version="v9"} 1.0' in runtime.render_metrics()

    def test_order_validation(self):
        """POST /api/orders checks item and quantity and echoes a verifiable body."""

        async def run() -> list[httpx.Response]:
            app = create_app(AppSettings(version="v2"))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
                bodies = [
                    {"item": "x", "quantity": 2},
                    {"item": "x", "quantity": True},
                    {"item": "", "quantity": 1},
                    {"item": "x", "quantity": 1, "extra": 1},
                    [1],
                ]
                return [await client.post("/api/orders", json=body) for body in bodies]

        from faulty_app.checksum import verify_body

        good, *bad = asyncio.run(run())
        assert good.status_code == 201
        assert verify_body(good.json())
        assert good.json()["order_id"].startswith("v2-")
        assert [r.status_code for r in bad] == [422, 422, 422, 422]
        assert [r.json()["detail"][0]["loc"] for r in bad] == [
            ["body", "quantity"],
            ["body", "item"],
            ["body", "extra"],
            ["body"],
        ]
