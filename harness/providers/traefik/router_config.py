"""The router's configuration document (``PUT /config``): TraefikService weights and Service endpoints.

Shared by the router process and ``RouterClient``; pydantic validates it at the admin API.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.providers.base import Side
from harness.providers.stand_in_config import SIDES, WORKLOAD_HEADER, Endpoints

__all__ = [
    "SIDES",
    "WORKLOAD_HEADER",
    "ConfigUpdate",
    "Endpoints",
    "RouterConfig",
    "Side",
    "Weights",
    "child_service_name",
]


class Weights(BaseModel):
    """TraefikService weights in percent; the canary entry is absent at weight 0; both 0 is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: int = Field(ge=0, le=100)
    canary: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _not_both_zero(self) -> Weights:
        if self.primary == 0 and self.canary == 0:
            raise ValueError("primary and canary weights are both 0 (Flagger refuses this too)")
        return self


class ConfigUpdate(BaseModel):
    """Body of ``PUT /config``: either part may be left out to keep it unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: Weights | None = None
    endpoints: Endpoints | None = None

    @model_validator(mode="after")
    def _something(self) -> ConfigUpdate:
        if self.weights is None and self.endpoints is None:
            raise ValueError("expected 'weights' and/or 'endpoints'")
        return self


class RouterConfig(BaseModel):
    """The whole configuration; ``generation`` counts changes (each one rebuilds the balancers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: Weights = Weights(primary=100, canary=0)
    endpoints: Endpoints = Endpoints()
    generation: int = 0

    def apply(self, update: ConfigUpdate) -> RouterConfig:
        """The configuration after ``update``; the same object when nothing changes."""
        weights = update.weights or self.weights
        endpoints = update.endpoints or self.endpoints
        if weights == self.weights and endpoints == self.endpoints:
            return self
        return RouterConfig(weights=weights, endpoints=endpoints, generation=self.generation + 1)


def child_service_name(namespace: str, service: str, side: Side, port: int) -> str:
    """Traefik's metric label of a TraefikService child that is a Kubernetes Service (spec §4.3)."""
    return f"{namespace}-{service}-{side}-{port}@kubernetescrd"
