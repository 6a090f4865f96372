"""What the Flagger emulation needs from the world. Local and test implementations provide these.

The controller never imports a client library; it talks only to these protocols.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from harness.controllers.flagger.model import CanaryEvent, WebhookSpec


class TrafficRouter(Protocol):
    """The TraefikService of the Canary: weights in percent; the canary entry is absent at weight 0."""

    def set_routes(self, primary_weight: int, canary_weight: int) -> None: ...

    def get_routes(self) -> tuple[int, int]:
        """Return (primary_weight, canary_weight) where canary = 100 - primary, as Flagger's GetRoutes."""
        ...


@dataclass(frozen=True)
class DeploymentCondition:
    """A Deployment status condition (``Progressing`` / ``Available``); times are emulated seconds."""

    type: Literal["Progressing", "Available"]
    status: Literal["True", "False", "Unknown"]
    reason: str
    last_update_time: float


@dataclass(frozen=True)
class DeploymentState:
    """The fields of ``apps/v1 Deployment`` that Flagger's readiness check reads (spec §2.7)."""

    name: str
    generation: int
    observed_generation: int
    replicas: int  # spec.replicas
    updated_replicas: int
    available_replicas: int
    status_replicas: int  # status.replicas (old + new pods)
    conditions: tuple[DeploymentCondition, ...] = ()
    template_hash: str = ""


class Workloads(Protocol):
    """The target Deployment (canary) and the ``<target>-primary`` Deployment."""

    def target_template_hash(self) -> str: ...

    def ensure_primary(self) -> None:
        """Create ``<target>-primary`` from the target template if it does not exist."""
        ...

    def primary_state(self) -> DeploymentState: ...

    def canary_state(self) -> DeploymentState: ...

    def scale_canary(self, replicas: int) -> None:
        """Scale the target Deployment; 0 scales it down."""
        ...

    def target_replicas(self) -> int:
        """spec.replicas of the target as the user wrote it (before Flagger scaled it to 0)."""
        ...

    def promote(self) -> None:
        """Copy the target's pod template onto the primary (starts the primary's rolling update)."""
        ...


class MetricsProvider(Protocol):
    """Prometheus, or the embedded evaluator. Queries are Flagger's PromQL strings, verbatim."""

    def is_online(self) -> bool:
        """Flagger's check: ``vector(1)`` must return 1."""
        ...

    def query(self, promql: str) -> float:
        """Instant query. Raises ``NoValuesFound`` on empty/NaN, ``MetricsError`` on any other failure."""
        ...


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    detail: str = ""  # the error text Flagger would show (response body, or transport error)


class WebhookCaller(Protocol):
    def call(self, hook: WebhookSpec, payload: Mapping[str, Any]) -> WebhookResult: ...


class EventSink(Protocol):
    def emit(self, event: CanaryEvent) -> None: ...
