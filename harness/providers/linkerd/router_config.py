"""The Linkerd stand-in's configuration document (``PUT /config``): the HTTPRoute and the endpoints.

Shared by the stand-in process and its client; pydantic validates it at the admin API, and the route is
read with ``harness.providers.linkerd.route_manifest.from_manifest`` so a route the stand-in cannot apply
is a 400 naming the field. ``route`` None is the state before Flagger's first Reconcile: the apex Service
selects the primary pods (kube-proxy, no HTTPRoute).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from harness.providers.base import Side
from harness.providers.linkerd.httproute import HTTPRoute
from harness.providers.linkerd.route_manifest import from_manifest
from harness.providers.stand_in_config import Endpoints


class ConfigUpdate(BaseModel):
    """Body of ``PUT /config``: either part may be left out to keep it unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: dict[str, Any] | None = None  # an HTTPRoute object (route_manifest.to_manifest)
    endpoints: Endpoints | None = None

    @field_validator("route")
    @classmethod
    def _readable(cls, route: dict[str, Any] | None) -> dict[str, Any] | None:
        if route is not None:
            from_manifest(route)  # RouteError is a ValueError: pydantic reports it as a 400
        return route

    @model_validator(mode="after")
    def _something(self) -> ConfigUpdate:
        if self.route is None and self.endpoints is None:
            raise ValueError("expected 'route' and/or 'endpoints'")
        return self


class LinkerdRouterConfig(BaseModel):
    """The whole configuration; ``generation`` counts changes (each one rebuilds the route table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: dict[str, Any] | None = None
    endpoints: Endpoints = Endpoints()
    generation: int = 0

    def apply(self, update: ConfigUpdate) -> LinkerdRouterConfig:
        """The configuration after ``update``; the same object when nothing changes."""
        route = update.route if update.route is not None else self.route
        endpoints = update.endpoints or self.endpoints
        if route == self.route and endpoints == self.endpoints:
            return self
        return LinkerdRouterConfig(route=route, endpoints=endpoints, generation=self.generation + 1)

    def http_route(self) -> HTTPRoute | None:
        return from_manifest(self.route) if self.route is not None else None


def backend_side(apex: str, backend: str) -> Side | None:
    """Which side a backendRef names: ``<apex>-primary`` / ``<apex>-canary``; None for any other."""
    if backend == f"{apex}-primary":
        return "primary"
    if backend == f"{apex}-canary":
        return "canary"
    return None
