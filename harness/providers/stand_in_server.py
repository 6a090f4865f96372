"""What the router stand-in processes share: forwarding a request to an endpoint, the admin API
(``StandInRouter``: ``PUT/GET /config``, ``GET /metrics``, ``GET /healthz``), and serving the proxy and
admin ports until SIGTERM.

A provider's stand-in (``harness.providers.traefik.router``, ``harness.providers.linkerd.router``) picks
the endpoint and records its own metrics; ``Forwarder.forward`` raises ``TimeoutError`` on a backend
timeout and ``aiohttp.ClientError``/``OSError`` when the backend refused or dropped the connection, so
each provider answers and classifies those as its real counterpart does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from aiohttp import ClientSession, ClientTimeout, DummyCookieJar, TCPConnector, hdrs, web
from multidict import CIMultiDict
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ValidationError
from yarl import URL

HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Content-Length",
    )
)


class Forwarder:
    """One pooled aiohttp session that relays a request to an endpoint and returns its answer."""

    def __init__(self, backend_timeout: float | None) -> None:
        self._backend_timeout = backend_timeout
        self._session: ClientSession | None = None

    async def start(self) -> None:
        connector = TCPConnector(limit=0, keepalive_timeout=90.0, force_close=False, ttl_dns_cache=None)
        self._session = ClientSession(
            connector=connector,
            timeout=ClientTimeout(total=self._backend_timeout, connect=30.0),
            auto_decompress=False,
            skip_auto_headers=(hdrs.USER_AGENT, hdrs.ACCEPT_ENCODING, hdrs.ACCEPT),
            cookie_jar=DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def forward(self, request: web.BaseRequest, endpoint: str) -> web.Response:
        """The backend's answer; raises TimeoutError, aiohttp.ClientError or OSError when there is none."""
        assert self._session is not None
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
        peer = request.remote or ""
        prior = request.headers.get(hdrs.X_FORWARDED_FOR)
        headers[hdrs.X_FORWARDED_FOR] = f"{prior}, {peer}" if prior else peer
        headers[hdrs.X_FORWARDED_PROTO] = "http"
        headers[hdrs.X_FORWARDED_HOST] = request.host
        body = await request.read() if request.body_exists else None
        url = URL(endpoint + request.raw_path, encoded=True)
        async with self._session.request(
            request.method, url, headers=headers, data=body, allow_redirects=False
        ) as upstream:
            payload = await upstream.read()
            out = CIMultiDict((k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP)
            return web.Response(status=upstream.status, body=payload, headers=out)


def error_response(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)


def invalid_config(exc: ValidationError) -> web.Response:
    """The admin API's 400 for a ``PUT /config`` body pydantic refused, naming each field."""
    problems = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()]
    return web.json_response({"error": "invalid config", "problems": problems}, status=400)


def metrics_response(body: bytes) -> web.Response:
    response = web.Response(body=body)
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


async def serve(
    proxy: Handler,
    admin: web.Application,
    args: argparse.Namespace,
    *,
    on_start: Callable[[], Awaitable[None]],
    on_stop: Callable[[], Awaitable[None]],
    log: logging.Logger,
) -> None:
    """Run until SIGTERM/SIGINT, then stop accepting and let in-flight requests finish."""
    await on_start()
    proxy_server = web.Server(proxy, access_log=None, handler_cancellation=True)
    proxy_runner = web.ServerRunner(proxy_server, handle_signals=False)
    admin_runner = web.AppRunner(admin, access_log=None, handle_signals=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        for runner, port in ((proxy_runner, args.port), (admin_runner, args.admin_port)):
            await runner.setup()
            await web.TCPSite(runner, args.host, port, backlog=1024, shutdown_timeout=5.0).start()
        log.warning("router listening on %s:%d (admin %d)", args.host, args.port, args.admin_port)
        await stop.wait()
    finally:
        await admin_runner.cleanup()
        await proxy_runner.cleanup()
        await on_stop()


UpdateT = TypeVar("UpdateT", bound=BaseModel)


class StandInRouter(ABC, Generic[UpdateT]):
    """A stand-in's proxy handler and its admin API; a provider supplies routing, configuration and metrics.

    ``PUT /config`` parses the body as ``update_model`` (a 400 naming each refused field) and answers with
    the configuration after it; ``GET /config`` answers with the current one.
    """

    def __init__(self, update_model: type[UpdateT], backend_timeout: float | None) -> None:
        self._update_model = update_model
        self.forwarder = Forwarder(backend_timeout)

    @abstractmethod
    async def proxy(self, request: web.BaseRequest) -> web.StreamResponse: ...

    @abstractmethod
    def current_config(self) -> BaseModel: ...

    @abstractmethod
    def apply_update(self, update: UpdateT) -> BaseModel:
        """Apply ``update`` (rebuilding the routing state when it changes something); the new config."""

    @abstractmethod
    def metrics_body(self) -> bytes: ...

    async def put_config(self, request: web.Request) -> web.Response:
        try:
            update = self._update_model.model_validate_json(await request.read())
        except ValidationError as exc:
            return invalid_config(exc)
        return web.json_response(self.apply_update(update).model_dump(mode="json"))

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.current_config().model_dump(mode="json"))

    async def get_metrics(self, request: web.Request) -> web.Response:
        return metrics_response(self.metrics_body())

    def admin_app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/config", self.put_config)
        app.router.add_get("/config", self.get_config)
        app.router.add_get("/metrics", self.get_metrics)
        app.router.add_get("/healthz", healthz)
        return app

    async def serve(self, args: argparse.Namespace, log: logging.Logger) -> None:
        """Run until SIGTERM/SIGINT, then stop accepting and let in-flight requests finish."""
        await serve(
            self.proxy,
            self.admin_app(),
            args,
            on_start=self.forwarder.start,
            on_stop=self.forwarder.close,
            log=log,
        )


def common_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The arguments every stand-in takes (``stand_in_client.stand_in_argv`` writes them)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--service-port", type=int, default=80)
    parser.add_argument(
        "--backend-timeout", type=float, default=None, help="seconds; answer 504 after it (default: none)"
    )
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib event loop")
    return parser


def run_main(args: argparse.Namespace, main: Callable[[argparse.Namespace], Awaitable[None]]) -> None:
    """Configure logging and run ``main(args)`` on uvloop when it is installed."""
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s router: %(message)s")
    runner: Callable[[Awaitable[None]], None] = asyncio.run  # type: ignore[assignment]
    if not args.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            runner = uvloop.run  # type: ignore[assignment]
    runner(main(args))
