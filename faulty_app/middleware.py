"""The outermost ASGI layer: version header, metrics, fault application, last-resort 500.

It wraps the whole Starlette app, so every answer (404, 405, 500, injected faults) carries
``X-App-Version`` and is counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faulty_app.decide import NO_FAULT, Decision, RequestInfo
from faulty_app.runtime import Runtime

log = logging.getLogger("faulty_app")
CORRUPT_KEY = "faulty_app.corrupt"  # scope flag read by the route handlers
CLIENT_GONE = 499  # metrics status for requests abandoned by the client before any answer
ROUTE_LABELS = {
    path: path
    for path in ("/", "/api/orders", "/healthz", "/readyz", "/metrics", "/version", "/admin/faults")
}
_EMPTY: Mapping[str, str] = {}
_JSON = (b"content-type", b"application/json")


class FaultyApp:
    """ASGI wrapper around the Starlette app."""

    def __init__(self, inner: ASGIApp, runtime: Runtime) -> None:
        self.inner = inner
        self.runtime = runtime
        self._never: asyncio.Future[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        runtime = self.runtime
        if runtime.dying:  # a crash is imminent: never answer
            await self._wait_forever()
        started = time.perf_counter()
        status = CLIENT_GONE
        version_header = runtime.version_header

        async def send_with_version(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), version_header]
            await send(message)

        decision = NO_FAULT
        try:
            path = scope["path"]
            if runtime.engine.is_business(path):
                decision = runtime.engine.on_business_request(self._request_info(scope))
            if decision is NO_FAULT:
                await self.inner(scope, receive, send_with_version)
            else:
                await self._faulted(decision, scope, receive, send_with_version)
        except Exception:
            log.exception("unhandled error on %s", scope.get("path"))
            if status == CLIENT_GONE:
                await _send_json(send_with_version, 500, b'{"error":"internal server error"}')
        finally:
            runtime.metrics.observe(
                ROUTE_LABELS.get(scope["path"], "other"), status, time.perf_counter() - started
            )
            if decision.corrupt and 200 <= status < 300:
                runtime.metrics.validation_failures.inc()
            if decision.crash_code is not None:
                runtime.crash_after_response(decision.crash_code)

    def _request_info(self, scope: Scope) -> RequestInfo:
        engine = self.runtime.engine
        if not (engine.needs_headers or engine.needs_cookies):
            return RequestInfo(scope["path"], _EMPTY, _EMPTY)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        cookies = cookie_parser(headers.get("cookie", "")) if engine.needs_cookies else _EMPTY
        return RequestInfo(scope["path"], headers, cookies)

    async def _faulted(self, decision: Decision, scope: Scope, receive: Receive, send: Send) -> None:
        self.runtime.engine.apply_side_effects(decision)
        if decision.hang_ms is not None:
            await _hang(decision.hang_ms / 1000, receive, send)
            return
        if decision.delay_ms > 0:
            await sleep_at_least(decision.delay_ms / 1000)
        if decision.status is not None:
            body = b'{"error":"injected fault","kinds":"%s"}' % ",".join(decision.applied).encode()
            await _send_json(send, decision.status, body)
            return
        if decision.corrupt:
            scope[CORRUPT_KEY] = True
        await self.inner(scope, receive, send)

    async def _wait_forever(self) -> None:
        if self._never is None:
            self._never = asyncio.get_running_loop().create_future()
        await self._never


async def sleep_at_least(seconds: float) -> None:
    """``asyncio.sleep`` may wake up to a millisecond early (libuv timers); never return early."""
    deadline = time.perf_counter() + seconds
    remaining = seconds
    while remaining > 0:
        await asyncio.sleep(remaining)
        remaining = deadline - time.perf_counter()


async def _hang(hold_seconds: float, receive: Receive, send: Send) -> None:
    """Answer nothing until the client leaves; if it is still there after ``hold_seconds``, 504."""
    try:
        await asyncio.wait_for(_until_disconnect(receive), hold_seconds)
    except TimeoutError:
        await _send_json(send, 504, b'{"error":"injected hang reached its hold time"}')


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_json(send: Send, status: int, body: bytes) -> None:
    headers = [_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
