"""Drives the Linkerd stand-in (``harness.providers.linkerd.router``) over its admin API; starts it as a
child.

``LinkerdRouterClient`` writes and reads the HTTPRoute as an object, as Flagger's Gateway API router does
on a cluster; turning Flagger's ``SetRoutes(p, c)`` into that route is Flagger's job
(``harness.controllers.flagger.gateway_api``), joined to this client by the local backend.
"""

from __future__ import annotations

from typing import Unpack

from harness.errors import ProcessError
from harness.processes.procs import ProcessGroup
from harness.providers.linkerd.httproute import HTTPRoute, RouteError
from harness.providers.linkerd.route_manifest import to_manifest
from harness.providers.linkerd.router_config import LinkerdRouterConfig
from harness.providers.stand_in_client import AdminClient, StandInOptions, StandInProcess, start_stand_in


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
        return self._get_config(LinkerdRouterConfig)


LinkerdRouterProcess = StandInProcess[LinkerdRouterClient]


def start_linkerd_router(
    group: ProcessGroup, *, target: str | None = None, seed: str = "0", **options: Unpack[StandInOptions]
) -> LinkerdRouterProcess:
    """Start the stand-in in ``group`` and wait (real seconds) until its admin API answers; ``target``
    (the Deployment) defaults to the service."""
    return start_stand_in(
        group,
        "harness.providers.linkerd.router",
        client_of=LinkerdRouterClient,
        extra=["--target", target or options["service"], "--seed", seed],
        **options,
    )
