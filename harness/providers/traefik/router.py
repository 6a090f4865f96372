"""The Traefik stand-in: a reverse proxy with TraefikService weights, run as its own process.

    python -m harness.providers.traefik.router --host 127.0.0.1 --port P --admin-port A \\
        --namespace NS --service SVC --service-port 80 [--backend-timeout S] [--log-level info]

Requests on ``--port`` go to the primary or canary child Service by Traefik's EDF weighted round robin
(spec §4.4); each child round-robins over its ready endpoints. No endpoints → 503, backend refused or
dropped the connection → 502, backend timeout → 504, as Traefik answers. Unlike Traefik, every answer
names the child that served it (``WORKLOAD_HEADER: primary|canary``), so the harness can attribute
requests by workload even when both run the same version (Promoting, Finalising). The admin port serves
``PUT/GET /config``, ``GET /metrics`` (Traefik's service metrics, exact names and labels, spec §4.3) and
``GET /healthz``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import ClientError, web
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest

from harness.providers.stand_in_server import StandInRouter, common_parser, error_response, run_main
from harness.providers.traefik.router_config import (
    SIDES,
    WORKLOAD_HEADER,
    ConfigUpdate,
    RouterConfig,
    Side,
    child_service_name,
)
from harness.providers.traefik.wrr import WeightedRoundRobin

log = logging.getLogger("harness.providers.traefik.router")

DURATION_BUCKETS = (0.1, 0.3, 1.2, 5.0)  # Traefik's defaults


@dataclass(frozen=True)
class ServiceIds:
    namespace: str
    service: str
    port: int

    def label(self, side: Side) -> str:
        return child_service_name(self.namespace, self.service, side, self.port)


class TraefikMetrics:
    """``traefik_service_requests_total`` and ``traefik_service_request_duration_seconds``."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # Traefik exports no *_created series
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("code", "method", "protocol", "service")
        self._requests = Counter(
            "traefik_service_requests",
            "How many HTTP requests processed on a service, partitioned by "
            "status code, protocol, and method.",
            labels,
            registry=self.registry,
        )
        self._durations = Histogram(
            "traefik_service_request_duration_seconds",
            "How long it took to process the request on a service, partitioned by status code, protocol, "
            "and method.",
            labels,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[int, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, service: str, method: str, code: int, seconds: float) -> None:
        key = (code, method, service)
        children = self._children.get(key)
        if children is None:
            values = (str(code), method, "http", service)
            children = (self._requests.labels(*values), self._durations.labels(*values))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        # Go's client writes le="5" where prometheus_client writes le="5.0"; match Traefik's bytes.
        return generate_latest(self.registry).replace(b'le="5.0"', b'le="5"')


class _Child:
    """One child Service of the TraefikService: round robin over its endpoints."""

    def __init__(self, side: Side, label: str, endpoints: Sequence[str]) -> None:
        self.side = side
        self.label = label
        self.endpoints = tuple(endpoints)
        self._next = 0

    def next_endpoint(self) -> str | None:
        if not self.endpoints:
            return None
        url = self.endpoints[self._next % len(self.endpoints)]
        self._next += 1
        return url


class _Balancer:
    """The TraefikService built from one configuration; replaced wholesale on every change."""

    def __init__(self, config: RouterConfig, ids: ServiceIds) -> None:
        self.config = config
        weights = {"primary": config.weights.primary, "canary": config.weights.canary}
        self.children: dict[str, _Child] = {
            side: _Child(side, ids.label(side), getattr(config.endpoints, side))
            for side in SIDES
            if weights[side] > 0
        }
        self.wrr = WeightedRoundRobin((side, weights[side]) for side in SIDES)

    def pick(self) -> _Child:
        return self.children[self.wrr.next()]


class Router(StandInRouter[ConfigUpdate]):
    """Proxy and admin handlers around the current ``_Balancer``."""

    def __init__(self, ids: ServiceIds, backend_timeout: float | None) -> None:
        super().__init__(ConfigUpdate, backend_timeout)
        self.ids = ids
        self.metrics = TraefikMetrics()
        self._balancer = _Balancer(RouterConfig(), ids)

    # ---- proxy port

    async def proxy(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        child = self._balancer.pick()
        endpoint = child.next_endpoint()
        response: web.StreamResponse
        if endpoint is None:
            response = _error(503, "no available server")
        else:
            try:
                response = await self._forward(request, endpoint)
            except asyncio.CancelledError:
                # The client gave up (its own timeout): Traefik records 499 "client closed request" with
                # the time until then. Without this a hung canary stays invisible to Flagger's metrics.
                elapsed = time.perf_counter() - started
                self.metrics.observe(child.label, request.method, CLIENT_CLOSED_REQUEST, elapsed)
                raise
        self.metrics.observe(child.label, request.method, response.status, time.perf_counter() - started)
        response.headers[WORKLOAD_HEADER] = child.side
        return response

    async def _forward(self, request: web.BaseRequest, endpoint: str) -> web.StreamResponse:
        try:
            return await self.forwarder.forward(request, endpoint)
        except TimeoutError:
            return _error(504, "Gateway Timeout")
        except (ClientError, OSError) as exc:
            log.debug("backend %s failed: %r", endpoint, exc)
            return _error(502, "Bad Gateway")

    # ---- admin port

    def current_config(self) -> RouterConfig:
        return self._balancer.config

    def apply_update(self, update: ConfigUpdate) -> RouterConfig:
        current = self._balancer.config
        new = current.apply(update)
        if new is not current:
            self._balancer = _Balancer(new, self.ids)
            log.info("config %d: weights %s endpoints %s", new.generation, new.weights, new.endpoints)
        return new

    def metrics_body(self) -> bytes:
        return self.metrics.render()


CLIENT_CLOSED_REQUEST = 499


_error = error_response


async def serve_router(args: argparse.Namespace) -> None:
    """Run until SIGTERM/SIGINT, then stop accepting and let in-flight requests finish."""
    router = Router(ServiceIds(args.namespace, args.service, args.service_port), args.backend_timeout)
    await router.serve(args, log)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = common_parser("python -m harness.providers.traefik.router", __doc__.split("\n")[0])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    run_main(parse_args(argv), serve_router)


if __name__ == "__main__":
    main()
