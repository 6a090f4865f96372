"""The router stand-in of each provider the local backend runs, and the ``TrafficRouter`` Flagger drives.

- ``traefik``: the TraefikService stand-in; its client is the TrafficRouter (weights only).
- ``gatewayapi:v1beta1`` (Linkerd): the mesh stand-in holds an HTTPRoute. ``HTTPRouteRouter`` is Flagger's
  Gateway API router: ``SetRoutes(p, c)`` writes the route Flagger builds for the Canary
  (``harness.controllers.flagger.gateway_api.flagger_httproute``, A/B match rules included) and
  ``GetRoutes`` reads the weights back from the stored route. Deploying writes the 100/0 route first, as
  Flagger's ``Reconcile`` creates it during initialization.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.controllers.base import LocalTarget
from harness.controllers.flagger.gateway_api import flagger_httproute, route_weights
from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.ports import TrafficRouter
from harness.errors import CanarySpecError, InputError, Problem, ProcessError
from harness.processes.procs import ProcessGroup
from harness.providers.linkerd.httproute import RouteError
from harness.providers.linkerd.router_client import LinkerdRouterClient, start_linkerd_router
from harness.providers.stand_in_client import AdminClient, StandInProcess
from harness.providers.traefik.router_client import start_router

BACKEND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class LocalRouter:
    """A started stand-in, the TrafficRouter Flagger's emulation drives, and its config for diagnostics."""

    stand_in: StandInProcess[AdminClient]
    traffic: TrafficRouter
    describe: Callable[[], str]

    @property
    def url(self) -> str:
        return self.stand_in.url


class HTTPRouteRouter:
    """Flagger's ``GatewayAPIV1Beta1Router`` over the Linkerd stand-in's admin API."""

    def __init__(self, client: LinkerdRouterClient, spec: CanarySpec) -> None:
        self._client = client
        self._spec = spec

    def set_routes(self, primary_weight: int, canary_weight: int) -> None:
        try:
            route = flagger_httproute(self._spec, primary_weight, canary_weight)
        except RouteError as exc:
            raise ProcessError(f"HTTPRoute {self._spec.service_name}.{self._spec.namespace}: {exc}") from exc
        self._client.put_route(route)

    def get_routes(self) -> tuple[int, int]:
        route = self._client.route()
        if route is None:
            raise ProcessError(
                f"HTTPRoute {self._spec.service_name}.{self._spec.namespace} query error: none"
            )
        return route_weights(route, self._spec.service_name)


# (processes, what to deploy, the controller's own spec, the shared Prometheus' admin port)
StartRouter = Callable[[ProcessGroup, LocalTarget, object, "int | None"], LocalRouter]


def _traefik(group: ProcessGroup, target: LocalTarget, spec: object, admin_port: int | None) -> LocalRouter:
    started = start_router(
        group,
        namespace=target.namespace,
        service=target.service,
        service_port=target.service_port,
        backend_timeout=BACKEND_TIMEOUT_SECONDS,
        admin_port=admin_port,
    )
    client = started.client
    return LocalRouter(started, client, lambda: repr(client.config()))


def _linkerd(group: ProcessGroup, target: LocalTarget, canary: object, admin_port: int | None) -> LocalRouter:
    if not isinstance(canary, CanarySpec):  # the HTTPRoute is the one Flagger writes for a Canary
        raise InputError(
            f"provider {target.provider!r}: the local Gateway API router is driven by Flagger's Canary only, "
            f"not a {type(canary).__name__}"
        )
    try:
        flagger_httproute(canary, 100, 0)  # Reconcile fails on every tick when this does: refuse up front
    except RouteError as exc:
        raise CanarySpecError(
            [Problem("spec.service", "a Canary Flagger can route", str(exc), canary.source)]
        ) from exc
    started = start_linkerd_router(
        group,
        namespace=canary.namespace,
        service=canary.service_name,
        target=canary.target_name,
        service_port=canary.service_port,
        seed=f"{canary.namespace}/{canary.name}",
        backend_timeout=BACKEND_TIMEOUT_SECONDS,
        admin_port=admin_port,
    )
    client = started.client
    traffic = HTTPRouteRouter(client, canary)
    try:
        traffic.set_routes(100, 0)
    except ProcessError:
        client.close()
        group.stop(started.process)
        raise
    return LocalRouter(started, traffic, lambda: repr(client.config()))


# Keyed by the spec's provider (a Canary's spec.provider, a Rollout's traffic router).
LOCAL_ROUTERS: dict[str, StartRouter] = {"traefik": _traefik, "gatewayapi:v1beta1": _linkerd}
