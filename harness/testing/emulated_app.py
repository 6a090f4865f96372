"""One namespace of ``EmulatedCluster``: the app's Deployments, canary pods, routes, event receiver, and
the Flagger ports its ``FlaggerController`` drives (router, workloads, metrics, webhooks, events).

``ClusterClock`` is cluster (real) time seen through the harness's scaled ``FakeClock``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from harness.backends.kubernetes.api import CanaryObject, CanaryStatusDict, ConditionDict, DeploymentInfo
from harness.clock import FakeClock
from harness.controllers.flagger.controller import FlaggerController
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, WebhookSpec
from harness.controllers.flagger.ports import DeploymentState, WebhookResult
from harness.testing.http_route import FakeHTTPRouteRouter

APP = "faulty-app"


class ClusterClock:
    """Cluster (real) time seen through the harness's scaled ``FakeClock``."""

    scale = 1.0

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now() / self._clock.scale

    def sleep(self, seconds: float) -> None:
        self._clock.advance(seconds * self._clock.scale)

    def wall(self, at: float | None = None) -> datetime:
        return self._clock.wall(0.0) + timedelta(seconds=self.now() if at is None else at)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fault_error_rate(faults: Sequence[Mapping[str, Any]]) -> float:
    """The fraction of requests the app fails with these faults (only ``http_errors`` is modelled)."""
    rate = sum(float(f.get("rate", 1.0)) for f in faults if f.get("kind") == "http_errors")
    return min(rate, 1.0)


def canary_status_dict(status: CanaryStatus, clock: FakeClock) -> CanaryStatusDict:
    """A Canary ``status`` as Flagger writes it (RFC 3339 times of the cluster clock)."""
    wall = ClusterClock(clock).wall
    out: CanaryStatusDict = {
        "phase": status.phase.value,
        "canaryWeight": status.canary_weight,
        "failedChecks": status.failed_checks,
        "iterations": status.iterations,
        "lastAppliedSpec": status.last_applied_spec,
        "lastPromotedSpec": status.last_promoted_spec,
        "lastTransitionTime": stamp(wall(status.last_transition_time)),
    }
    c = status.condition
    if c is not None:
        condition: ConditionDict = {
            "type": "Promoted",
            "status": c.status,
            "reason": c.reason.value,
            "message": c.message,
            "lastUpdateTime": stamp(wall(c.last_update_time)),
            "lastTransitionTime": stamp(wall(c.last_transition_time)),
        }
        out["conditions"] = [condition]
    return out


@dataclass
class EmulatedApp:
    """One namespace's app: the target's template, the primary's copy, canary pods, routes, events."""

    namespace: str
    answer: Callable[[str, str], float]  # (namespace, PromQL) → what Prometheus answers
    clock: FakeClock = field(default_factory=FakeClock)  # the run clock of the run that owns the namespace
    template_env: dict[str, str] = field(default_factory=dict)
    template_annotations: dict[str, str] = field(default_factory=dict)
    declared_replicas: int = 1
    canary_replicas: int = 1
    primary_hash: str | None = None
    runtime_faults: list[Mapping[str, Any]] = field(default_factory=list)
    weights: tuple[int, int] = (100, 0)
    events: list[dict[str, Any]] = field(default_factory=list)
    controller: FlaggerController | None = None
    next_tick: float = 0.0  # cluster seconds
    history: list[tuple[float, CanaryObject]] = field(default_factory=list)  # (clock time, object)
    manifest: dict[str, Any] = field(default_factory=dict)
    last_status: CanaryStatus | None = None
    http_route: FakeHTTPRouteRouter | None = None  # gatewayapi:*: the HTTPRoute Flagger writes (Linkerd)
    ingress_routes: list[dict[str, Any]] = field(default_factory=list)  # the applied IngressRoutes

    # -- Flagger ports ---------------------------------------------------------------------------
    def set_routes(self, primary_weight: int, canary_weight: int) -> None:
        if self.http_route is not None:
            self.http_route.set_routes(primary_weight, canary_weight)
        self.weights = (primary_weight, canary_weight)

    def get_routes(self) -> tuple[int, int]:
        return self.weights

    def target_template_hash(self) -> str:
        text = json.dumps([self.template_env, self.template_annotations], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def ensure_primary(self) -> None:
        if self.primary_hash is None:
            self.primary_hash = self.target_template_hash()

    def primary_state(self) -> DeploymentState:
        return DeploymentState(f"{APP}-primary", 1, 1, 1, 1, 1, 1, template_hash=self.primary_hash or "")

    def canary_state(self) -> DeploymentState:
        replicas = self.canary_replicas
        available = 0 if self.crashes() else replicas
        return DeploymentState(APP, 2, 2, replicas, replicas, available, replicas)

    def scale_canary(self, replicas: int) -> None:
        self.canary_replicas = replicas

    def target_replicas(self) -> int:
        return self.declared_replicas

    def promote(self) -> None:
        self.primary_hash = self.target_template_hash()

    def is_online(self) -> bool:
        return True

    def query(self, promql: str) -> float:
        return self.answer(self.namespace, promql)

    def call(self, hook: WebhookSpec, payload: Mapping[str, Any]) -> WebhookResult:
        if hook.type == "event":  # Flagger POSTs to the namespace's event receiver
            self.events.append(copy.deepcopy(dict(payload)))
        return WebhookResult(True)

    def emit(self, event: CanaryEvent) -> None:
        pass  # Kubernetes Events are not read by the backend (lossy, semantics spec §7.2)

    # -- state -----------------------------------------------------------------------------------
    def canary_faults(self) -> list[Mapping[str, Any]]:
        return [*json.loads(self.template_env.get("FAULTS", "[]")), *self.runtime_faults]

    def crashes(self) -> bool:
        return any(f.get("kind") == "crash" and f.get("on_startup") for f in self.canary_faults())


def app_deployments(app: EmulatedApp | None, namespace: str) -> list[DeploymentInfo]:
    """A run namespace's Deployments: the target (not ready while it crashes), the primary, the receiver."""
    if app is None:
        return []
    canary_ready = 0 if app.crashes() else app.canary_replicas
    return [
        DeploymentInfo(namespace, APP, app.canary_replicas, canary_ready, app.canary_replicas,
                       canary_ready, 2, 2, template_env=dict(app.template_env)),
        DeploymentInfo(namespace, f"{APP}-primary", 1, 1, 1, 1, 1, 1),
        DeploymentInfo(namespace, "event-receiver", 1, 1, 1, 1, 1, 1),  # applied with the app
    ]  # fmt: skip
