"""An in-memory Gateway API router for the Flagger emulation: Flagger's HTTPRoute, applied like Linkerd.

``FakeHTTPRouteRouter`` is the ``TrafficRouter`` of ``gatewayapi:v1beta1`` without a process: ``set_routes``
stores the route Flagger writes for the Canary (``flagger_httproute``, A/B rules included), ``get_routes``
reads the weights back (``route_weights``), and ``backend_for`` says where one request would go under the
current route (``harness.providers.linkerd.httproute``). Before the first ``set_routes`` there is no route
and the apex Service selects the primary, as before Flagger's Reconcile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.clock import Clock
from harness.controllers.flagger.gateway_api import flagger_httproute, route_weights
from harness.controllers.flagger.model import CanarySpec
from harness.errors import HarnessError
from harness.providers.linkerd.httproute import HTTPRoute, Request, RouteError, RouteTable


class FakeRouteError(HarnessError):
    """A route Flagger's Gateway API router could not write."""


class FakeHTTPRouteRouter:
    """Flagger's ``GatewayAPIV1Beta1Router`` over an in-memory HTTPRoute."""

    def __init__(self, spec: CanarySpec, clock: Clock | None = None, *, seed: str = "0") -> None:
        self._spec = spec
        self._clock = clock
        self._seed = seed
        self.route: HTTPRoute | None = None
        self._table: RouteTable | None = None
        self.history: list[tuple[float, int, int]] = []  # (at, primary, canary) per SetRoutes

    def set_routes(self, primary_weight: int, canary_weight: int) -> None:
        try:
            route = flagger_httproute(self._spec, primary_weight, canary_weight)
        except RouteError as exc:
            raise FakeRouteError(str(exc)) from exc
        self.route = route
        self._table = RouteTable(route, seed=f"{self._seed}/{len(self.history)}")
        self.history.append((self._clock.now() if self._clock else 0.0, primary_weight, canary_weight))

    def get_routes(self) -> tuple[int, int]:
        if self.route is None:
            raise FakeRouteError(f"HTTPRoute {self._spec.service_name}.{self._spec.namespace} not found")
        return route_weights(self.route, self._spec.service_name)

    def backend_for(
        self, headers: Iterable[tuple[str, str]] | Mapping[str, str] = (), path: str = "/"
    ) -> str | None:
        """The backend Service one GET would reach; None when no rule matches (Linkerd's 404)."""
        if self._table is None:
            return f"{self._spec.service_name}-primary"
        return self._table.decide(Request.of("GET", path, headers)).backend
