"""In-memory fakes of the Flagger emulation's ports, shared by tests and demos.

- ``FakeRouter``: a TraefikService (weights in percent, canary entry absent at 0; both 0 is an error).
- ``FakeWorkloads``: target and ``<target>-primary`` Deployments whose rollouts finish after a delay
  (or never), with the Deployment conditions Flagger's readiness check reads.
- ``FakeMetrics``: scripted values per query or per builtin metric; values may raise NoValuesFound or
  MetricsError, depend on time, or change per call.
- ``FakeWebhooks``: scripted results per hook name; every call is recorded with its payload.
- ``RecordingEventSink``: keeps the events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.clock import Clock
from harness.controllers.flagger.model import CanaryEvent, WebhookSpec
from harness.controllers.flagger.ports import DeploymentCondition, DeploymentState, WebhookResult
from harness.errors import HarnessError, MetricsError


class FakeRouterError(HarnessError):
    """A TraefikService update the real router would refuse."""


class FakeRouter:
    """Flagger's Traefik router over an in-memory TraefikService."""

    def __init__(self, clock: Clock | None = None, *, fail_set_routes: bool = False) -> None:
        self._clock = clock
        self.services: tuple[tuple[str, int], ...] = (("primary", 100),)
        self.history: list[tuple[float, int, int]] = []  # (at, primary, canary) per SetRoutes
        self.fail_set_routes = fail_set_routes

    def set_routes(self, primary_weight: int, canary_weight: int) -> None:
        if self.fail_set_routes:
            raise FakeRouterError("traefikservice podinfo update failed: injected error")
        if primary_weight == 0 and canary_weight == 0:
            raise FakeRouterError("RoutingRule has no destinations")
        services: list[tuple[str, int]] = [("primary", primary_weight)]
        if canary_weight > 0:
            services.append(("canary", canary_weight))
        self.services = tuple(services)
        self.history.append((self._clock.now() if self._clock else 0.0, primary_weight, canary_weight))

    def get_routes(self) -> tuple[int, int]:
        primary = next((w for name, w in self.services if name == "primary"), 0)
        return primary, 100 - primary


@dataclass
class FakeDeployment:
    """One Deployment: ``ready_after`` seconds after each change its pods are available (None: never).

    ``progress_deadline_seconds`` is the Deployment's own ``spec.progressDeadlineSeconds``; past it an
    unfinished rollout gets ``Progressing=False/ProgressDeadlineExceeded``.
    """

    name: str
    template_hash: str
    replicas: int
    ready_after: float | None = 0.0
    progress_deadline_seconds: float = 600.0
    changed_at: float = 0.0
    generation: int = 1
    exists: bool = True

    def state(self, now: float) -> DeploymentState:
        done = self.replicas == 0 or (
            self.ready_after is not None and now >= self.changed_at + self.ready_after
        )
        available = self.replicas if done else 0
        if done:
            conditions = (
                DeploymentCondition("Progressing", "True", "NewReplicaSetAvailable", self.changed_at),
                DeploymentCondition("Available", "True", "MinimumReplicasAvailable", self.changed_at),
            )
        else:
            stuck = now - self.changed_at > self.progress_deadline_seconds
            progress = (
                DeploymentCondition("Progressing", "False", "ProgressDeadlineExceeded", self.changed_at)
                if stuck
                else DeploymentCondition("Progressing", "True", "ReplicaSetUpdated", self.changed_at)
            )
            conditions = (
                progress,
                DeploymentCondition("Available", "False", "MinimumReplicasUnavailable", self.changed_at),
            )
        return DeploymentState(
            name=self.name,
            generation=self.generation,
            observed_generation=self.generation,
            replicas=self.replicas,
            updated_replicas=self.replicas,
            available_replicas=available,
            status_replicas=self.replicas,
            conditions=conditions,
            template_hash=self.template_hash,
        )

    def change(self, now: float) -> None:
        self.changed_at = now
        self.generation += 1


class FakeWorkloads:
    """The target (canary) Deployment and ``<target>-primary``; implements ``ports.Workloads``."""

    def __init__(
        self,
        clock: Clock,
        *,
        target: str = "podinfo",
        template_hash: str = "rev-1",
        replicas: int = 1,
        canary_ready_after: float | None = 0.0,
        primary_ready_after: float | None = 0.0,
        deployment_deadline: float = 600.0,
    ) -> None:
        self._clock = clock
        self.user_replicas = replicas
        self.canary = FakeDeployment(
            target, template_hash, replicas, canary_ready_after, deployment_deadline, clock.now()
        )
        self.primary = FakeDeployment(
            f"{target}-primary",
            template_hash,
            0,
            primary_ready_after,
            deployment_deadline,
            clock.now(),
            exists=False,
        )
        self.calls: list[tuple[float, str, Any]] = []

    # ---- test controls ---------------------------------------------------------------------------------
    def set_template(self, template_hash: str, *, ready_after: float | None = None) -> None:
        """The user changes the target's pod template (a new revision)."""
        self.canary.template_hash = template_hash
        if ready_after is not None:
            self.canary.ready_after = ready_after
        self.canary.change(self._clock.now())

    # ---- ports.Workloads -------------------------------------------------------------------------------
    def target_template_hash(self) -> str:
        return self.canary.template_hash

    def ensure_primary(self) -> None:
        if not self.primary.exists:
            self.primary.exists = True
            self.primary.replicas = self.user_replicas if self.user_replicas > 0 else 1
            self.primary.template_hash = self.canary.template_hash
            self.primary.change(self._clock.now())
            self.calls.append((self._clock.now(), "ensure_primary", None))

    def primary_state(self) -> DeploymentState:
        return self.primary.state(self._clock.now())

    def canary_state(self) -> DeploymentState:
        return self.canary.state(self._clock.now())

    def scale_canary(self, replicas: int) -> None:
        self.calls.append((self._clock.now(), "scale_canary", replicas))
        if replicas != self.canary.replicas:
            self.canary.replicas = replicas
            self.canary.change(self._clock.now())

    def target_replicas(self) -> int:
        return self.user_replicas

    def promote(self) -> None:
        self.calls.append((self._clock.now(), "promote", self.canary.template_hash))
        self.primary.template_hash = self.canary.template_hash
        self.primary.change(self._clock.now())


MetricValue = float | BaseException | Callable[[float], "float | BaseException"] | Sequence[Any]


def builtin_metric_of(promql: str) -> str | None:
    """Which Traefik builtin a rendered query is, recognised by its shape."""
    if "traefik_service_request_duration_seconds_bucket" not in promql:
        return None
    if "histogram_quantile(" in promql:
        return "request-duration"
    if 'code!~"5.."' in promql:
        return "request-success-rate"
    return None


@dataclass
class FakeMetrics:
    """Scripted ``MetricsProvider``: ``values`` keyed by exact PromQL or builtin metric name.

    A value is a float; an exception instance (raised); a callable of the clock time returning either;
    or a sequence consumed one element per call (the last repeats).
    """

    clock: Clock
    values: dict[str, MetricValue] = field(default_factory=dict)
    online: bool | BaseException = True
    calls: list[tuple[float, str]] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)

    def is_online(self) -> bool:
        if isinstance(self.online, BaseException):
            raise self.online
        return self.online

    def query(self, promql: str) -> float:
        self.calls.append((self.clock.now(), promql))
        key = promql if promql in self.values else builtin_metric_of(promql)
        if key is None or key not in self.values:
            raise MetricsError(f"error response: Status 400 Bad Request: no scripted value for {promql!r}")
        value = self._resolve(key, self.values[key])
        if isinstance(value, BaseException):
            raise value
        return float(value)

    def _resolve(self, key: str, value: MetricValue) -> Any:
        if isinstance(value, Sequence) and not isinstance(value, str):
            count = self._counts.get(key, 0)
            self._counts[key] = count + 1
            value = value[min(count, len(value) - 1)]
        if callable(value) and not isinstance(value, BaseException):
            return value(self.clock.now())
        return value


HookScript = bool | WebhookResult | Callable[[Mapping[str, Any]], "bool | WebhookResult"] | Sequence[Any]


@dataclass(frozen=True)
class HookCall:
    at: float
    name: str
    type: str
    payload: Mapping[str, Any]


@dataclass
class FakeWebhooks:
    """Scripted ``WebhookCaller``: per hook name a bool / result / callable(payload) / per-call list.

    Unscripted hooks succeed (HTTP 200). Calls are kept in ``calls`` (event hooks included).
    """

    clock: Clock
    scripts: dict[str, HookScript] = field(default_factory=dict)
    calls: list[HookCall] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)

    def call(self, hook: WebhookSpec, payload: Mapping[str, Any]) -> WebhookResult:
        self.calls.append(HookCall(self.clock.now(), hook.name, hook.type, dict(payload)))
        script: Any = self.scripts.get(hook.name, True)
        if isinstance(script, Sequence) and not isinstance(script, str):
            count = self._counts.get(hook.name, 0)
            self._counts[hook.name] = count + 1
            script = script[min(count, len(script) - 1)]
        if callable(script):
            script = script(payload)
        if isinstance(script, WebhookResult):
            return script
        return WebhookResult(True) if script else WebhookResult(False, "Forbidden")

    def calls_of(self, name: str) -> list[HookCall]:
        return [c for c in self.calls if c.name == name]


@dataclass
class RecordingEventSink:
    events: list[CanaryEvent] = field(default_factory=list)

    def emit(self, event: CanaryEvent) -> None:
        self.events.append(event)

    @property
    def messages(self) -> list[str]:
        return [e.message for e in self.events]
