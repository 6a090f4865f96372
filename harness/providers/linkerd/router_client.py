"""Drives the Linkerd stand-in (``harness.providers.linkerd.router``) over its admin API; starts it as a
child.

``LinkerdRouterClient`` writes and reads the HTTPRoute as an object, as Flagger's Gateway API router does
on a cluster; turning Flagger's ``SetRoutes(p, c)`` into that route is Flagger's job
(``harness.controllers.flagger.gateway_api``), joined to this client by the local backend.
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from harness.errors import ProcessError
from harness.processes.ports import LOOPBACK, free_port
from harness.processes.procs import ProcessGroup
from harness.providers.linkerd.httproute import HTTPRoute, RouteError
from harness.providers.linkerd.route_manifest import to_manifest
from harness.providers.linkerd.router_config import LinkerdRouterConfig
from harness.providers.stand_in_client import AdminClient, StandInProcess, start_stand_in


class LinkerdRouterClient(AdminClient):
    """The Linkerd stand-in's admin API: the HTTPRoute and the endpoints."""

    def put_route(self, route: HTTPRoute) -> None:
        """Replace the HTTPRoute (a 400 for a route the stand-in cannot apply is a ``ProcessError``)."""
        self._put({"route": to_manifest(route)})

    def route(self) -> HTTPRoute | None:
        """The HTTPRoute the stand-in applies; None before the first ``put_route``."""
        try:
            return self.config().http_route()
        except RouteError as exc:
            raise ProcessError(f"router at {self.admin_url} holds an unreadable route: {exc}") from exc

    def config(self) -> LinkerdRouterConfig:
        try:
            return LinkerdRouterConfig.model_validate_json(self._request("GET", "/config").content)
        except ValidationError as exc:
            raise ProcessError(f"router at {self.admin_url} returned an unreadable config: {exc}") from exc


LinkerdRouterProcess = StandInProcess[LinkerdRouterClient]


def router_argv(
    *,
    port: int,
    admin_port: int,
    namespace: str,
    service: str,
    target: str,
    service_port: int = 80,
    seed: str = "0",
    host: str = LOOPBACK,
    backend_timeout: float | None = None,
    log_level: str = "warning",
) -> list[str]:
    argv = [sys.executable, "-m", "harness.providers.linkerd.router", "--host", host, "--port", str(port)]
    argv += ["--admin-port", str(admin_port), "--namespace", namespace, "--service", service]
    argv += ["--target", target, "--service-port", str(service_port), "--seed", seed]
    argv += ["--log-level", log_level]
    if backend_timeout is not None:
        argv += ["--backend-timeout", str(backend_timeout)]
    return argv


def start_linkerd_router(
    group: ProcessGroup,
    *,
    namespace: str,
    service: str,
    target: str | None = None,
    service_port: int = 80,
    seed: str = "0",
    port: int | None = None,
    admin_port: int | None = None,
    backend_timeout: float | None = None,
    log_level: str = "warning",
    startup_timeout: float = 15.0,
) -> LinkerdRouterProcess:
    """Start the stand-in in ``group`` and wait (real seconds) until its admin API answers."""
    port = port or free_port()
    admin_port = admin_port or free_port()
    argv = router_argv(
        port=port,
        admin_port=admin_port,
        namespace=namespace,
        service=service,
        target=target or service,
        service_port=service_port,
        seed=seed,
        backend_timeout=backend_timeout,
        log_level=log_level,
    )
    return start_stand_in(
        group,
        argv,
        port=port,
        admin_port=admin_port,
        client_of=LinkerdRouterClient,
        startup_timeout=startup_timeout,
    )
