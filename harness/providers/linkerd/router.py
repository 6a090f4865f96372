"""The Linkerd stand-in: a meshed client's outbound proxy applying Flagger's HTTPRoute, as its own process.

    python -m harness.providers.linkerd.router --host 127.0.0.1 --port P --admin-port A \\
        --namespace NS --service APEX --target DEPLOYMENT --service-port 80 [--seed S] [--backend-timeout S]

Requests on ``--port`` are routed as Linkerd routes traffic addressed to the apex Service
(``harness.providers.linkerd.httproute``): the best-ranked matching rule of the HTTPRoute (ties: the
earlier rule), then a random backend by weight (seeded), a backend without ready endpoints redrawn; each
side round-robins over its endpoints. Before the first route (Flagger's Reconcile) the apex Service selects
the primary. No matching rule → 404 (the proxy's ``NoRoute``), no available backend → 503, backend
refused or dropped the connection → 502, backend timeout → 504. Every answer a workload served names it
(``WORKLOAD_HEADER: primary|canary``); router-made answers carry none.

``GET /metrics`` on the admin port is what linkerd-viz' Prometheus stores from the pods' inbound proxies
(``harness.providers.linkerd.metrics``, compact labels): ``request_total``, ``response_total`` with
``classification`` (5xx and connection errors are failures) and ``response_latency_ms_bucket``, labelled
``deployment="<target>-primary"`` or ``"<target>"``. Router-made 404/503s reach no pod and are not counted.
The admin port also serves ``PUT/GET /config`` (``harness.providers.linkerd.router_config``) and
``GET /healthz``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence

from aiohttp import ClientError, web
from yarl import URL

from harness.providers.base import Side
from harness.providers.linkerd.httproute import Request, RouteTable
from harness.providers.linkerd.metrics import CONNECTION_ERROR, TIMEOUT_ERROR, InboundMetrics, InboundTarget
from harness.providers.linkerd.plugin import deployment_label
from harness.providers.linkerd.router_config import ConfigUpdate, LinkerdRouterConfig, backend_side
from harness.providers.stand_in_config import SIDES, WORKLOAD_HEADER
from harness.providers.stand_in_server import StandInRouter, common_parser, error_response, run_main

log = logging.getLogger("harness.providers.linkerd.router")


class _Mesh:
    """The routing state built from one configuration; replaced wholesale on every change."""

    def __init__(self, config: LinkerdRouterConfig, apex: str, seed: str) -> None:
        self.config = config
        self.apex = apex
        route = config.http_route()
        self.table = RouteTable(route, seed=f"{seed}/{config.generation}") if route is not None else None
        self._next = dict.fromkeys(SIDES, 0)

    def _ready(self, backend: str) -> bool:
        side = backend_side(self.apex, backend)
        return side is not None and bool(self.config.endpoints.of(side))

    def route(self, request: Request) -> tuple[int, Side | None]:
        """(the router's own status when no workload is chosen, else 0; the side chosen)."""
        if self.table is None:
            return (0, "primary") if self.config.endpoints.primary else (503, None)
        decision = self.table.decide(request, self._ready)
        if decision.rule_index is None:
            return 404, None
        if decision.backend is None:
            return 503, None
        return 0, backend_side(self.apex, decision.backend)

    def next_endpoint(self, side: Side) -> str:
        endpoints = self.config.endpoints.of(side)
        url = endpoints[self._next[side] % len(endpoints)]
        self._next[side] += 1
        return url


class LinkerdRouter(StandInRouter[ConfigUpdate]):
    """Proxy and admin handlers around the current ``_Mesh``."""

    def __init__(
        self, namespace: str, apex: str, target: str, *, seed: str, backend_timeout: float | None
    ) -> None:
        super().__init__(ConfigUpdate, backend_timeout)
        self.namespace, self.apex, self.target, self.seed = namespace, apex, target, seed
        self.metrics = InboundMetrics(compact=True)
        self._mesh = _Mesh(LinkerdRouterConfig(), apex, seed)
        self._targets: dict[tuple[Side, str], InboundTarget] = {}

    def _inbound(self, side: Side, endpoint: str) -> InboundTarget:
        key = (side, endpoint)
        found = self._targets.get(key)
        if found is None:
            url = URL(endpoint)
            deployment = deployment_label(self.namespace, self.target, side, 0)
            address = f"{url.host}:{url.port}"
            found = InboundTarget(self.namespace, deployment, f"{deployment}-{url.port}", address)
            self._targets[key] = found
        return found

    # ---- proxy port

    async def proxy(self, request: web.BaseRequest) -> web.StreamResponse:
        mesh = self._mesh
        status, side = mesh.route(Request.of(request.method, request.raw_path, list(request.headers.items())))
        if side is None:
            return error_response(status, "no route" if status == 404 else "no available endpoints")
        endpoint = mesh.next_endpoint(side)
        target, authority = self._inbound(side, endpoint), request.host
        started = time.perf_counter()
        response: web.StreamResponse
        try:
            response = await self.forwarder.forward(request, endpoint)
        except asyncio.CancelledError:
            self.metrics.record_unanswered(target, authority=authority)
            raise
        except TimeoutError:
            self.metrics.record(target, None, 0.0, error=TIMEOUT_ERROR, authority=authority)
            response = error_response(504, "Gateway Timeout")
        except (ClientError, OSError) as exc:
            log.debug("backend %s failed: %r", endpoint, exc)
            self.metrics.record(target, None, 0.0, error=CONNECTION_ERROR, authority=authority)
            response = error_response(502, "Bad Gateway")
        else:
            self.metrics.record(target, response.status, time.perf_counter() - started, authority=authority)
        response.headers[WORKLOAD_HEADER] = side
        return response

    # ---- admin port

    def current_config(self) -> LinkerdRouterConfig:
        return self._mesh.config

    def apply_update(self, update: ConfigUpdate) -> LinkerdRouterConfig:
        current = self._mesh.config
        new = current.apply(update)
        if new is not current:
            self._mesh = _Mesh(new, self.apex, self.seed)
            log.info("config %d: endpoints %s", new.generation, new.endpoints)
        return new

    def metrics_body(self) -> bytes:
        return self.metrics.render().encode("utf-8")


async def serve_router(args: argparse.Namespace) -> None:
    """Run until SIGTERM/SIGINT, then stop accepting and let in-flight requests finish."""
    router = LinkerdRouter(
        args.namespace,
        args.service,
        args.target or args.service,
        seed=args.seed,
        backend_timeout=args.backend_timeout,
    )
    await router.serve(args, log)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = common_parser("python -m harness.providers.linkerd.router", __doc__.split("\n")[0])
    parser.add_argument("--target", default="", help="the Deployment (default: --service)")
    parser.add_argument("--seed", default="0", help="seeds the weighted backend draws")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    run_main(parse_args(argv), serve_router)


if __name__ == "__main__":
    main()
