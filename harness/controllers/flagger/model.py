"""Frozen data types shared by the Flagger emulation, the backends, the planner and the report.

Field names follow the Canary CRD (``flagger.app/v1beta1``) in snake_case. Durations are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Phase(StrEnum):
    """Canary ``status.phase`` values (spec §1.3)."""

    NONE = ""
    INITIALIZING = "Initializing"
    INITIALIZED = "Initialized"
    WAITING = "Waiting"
    PROGRESSING = "Progressing"
    WAITING_PROMOTION = "WaitingPromotion"
    PROMOTING = "Promoting"
    FINALISING = "Finalising"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"


TERMINAL_PHASES = frozenset({Phase.SUCCEEDED, Phase.FAILED})

WebhookType = Literal[
    "confirm-rollout",
    "pre-rollout",
    "rollout",
    "confirm-traffic-increase",
    "confirm-promotion",
    "post-rollout",
    "rollback",
    "event",
]


@dataclass(frozen=True)
class ThresholdRange:
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class MetricSpec:
    """``analysis.metrics[]``."""

    name: str
    interval: str | None = None  # raw Go duration string, e.g. "1m"; None when absent (§5.4)
    threshold_range: ThresholdRange | None = None
    threshold: float | None = None  # deprecated form
    query: str | None = None  # deprecated inline query
    template_ref: tuple[str, str | None] | None = None  # (name, namespace)
    template_variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WebhookSpec:
    """``analysis.webhooks[]``."""

    name: str
    url: str
    type: WebhookType = "rollout"  # empty type means rollout
    timeout_seconds: float = 10.0
    retries: int = 0
    metadata: tuple[tuple[str, str], ...] = ()
    mute_alert: bool = False
    disable_tls: bool = False


@dataclass(frozen=True)
class AlertSpec:
    """``analysis.alerts[]`` (kept for completeness; the emulation sends no alerts)."""

    name: str
    provider_name: str
    provider_namespace: str | None = None
    severity: Literal["", "info", "warn", "error"] = ""


@dataclass(frozen=True)
class AnalysisSpec:
    """``spec.analysis`` with Flagger's defaulting already applied where it is unconditional."""

    interval_seconds: float = 60.0  # effective: <10 s raised to 10 s, unparsable -> 60 s
    interval_raw: str | None = None
    threshold: int = 1  # <=0 -> 1
    max_weight: int = 0  # raw; use weights.max_weight() for the effective value
    step_weight: int = 0
    step_weights: tuple[int, ...] = ()
    step_weight_promotion: int = 0
    iterations: int = 0
    match: tuple[Any, ...] = ()
    mirror: bool = False
    mirror_weight: int = 0
    primary_ready_threshold: int = 100
    canary_ready_threshold: int = 100
    metrics: tuple[MetricSpec, ...] = ()
    webhooks: tuple[WebhookSpec, ...] = ()
    alerts: tuple[AlertSpec, ...] = ()


@dataclass(frozen=True)
class CanarySpec:
    """A Flagger ``Canary`` as the harness needs it; ``manifest`` keeps the YAML object as loaded."""

    name: str
    namespace: str
    target_kind: str
    target_name: str
    service_name: str  # spec.service.name or, if empty, the target name
    service_port: int
    service_target_port: int | str | None = None
    provider: str = "traefik"
    progress_deadline_seconds: int = 600
    skip_analysis: bool = False
    suspend: bool = False
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)
    metrics_server: str = ""  # spec.metricsServer ("" = Flagger's global -metrics-server)
    ingress_ref_name: str | None = None  # spec.ingressRef.name, for {{ ingress }}
    route_ref_name: str | None = None  # spec.routeRef.name, for {{ route }}
    autoscaler_ref: tuple[str, str] | None = None  # (kind, name) of spec.autoscalerRef
    revert_on_deletion: bool = False
    manifest: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    source: str | None = None  # file path it came from, for messages

    @property
    def ref(self) -> str:
        """``<name>.<namespace>``, as Flagger prints the Canary in events."""
        return f"{self.name}.{self.namespace}"

    @property
    def target_ref(self) -> str:
        """``<target>.<namespace>``, as Flagger prints the workload in events."""
        return f"{self.target_name}.{self.namespace}"


@dataclass(frozen=True)
class PromotedCondition:
    """``status.conditions[type=Promoted]``; times are emulated seconds on the run clock."""

    reason: Phase
    status: Literal["True", "False", "Unknown"]
    message: str
    last_transition_time: float
    last_update_time: float


@dataclass(frozen=True)
class CanaryStatus:
    """``status`` of a Canary at one instant (spec §1.2)."""

    phase: Phase = Phase.NONE
    canary_weight: int = 0
    failed_checks: int = 0
    iterations: int = 0
    last_applied_spec: str = ""
    last_promoted_spec: str = ""
    last_transition_time: float = 0.0
    condition: PromotedCondition | None = None
    # Why the controller holds the rollout without deciding (Argo Rollouts: the first pause condition's
    # reason, e.g. "InconclusiveAnalysisRun"); Flagger has no such state and leaves it empty.
    paused_reason: str = ""


@dataclass(frozen=True)
class CanaryEvent:
    """One Flagger event (Kubernetes Event reason ``Synced``)."""

    at: float  # emulated seconds
    type: Literal["Normal", "Warning"]
    message: str
    phase: Phase
    reason: str = "Synced"  # the Kubernetes Event reason (Flagger records every event as "Synced")


@dataclass(frozen=True)
class MetricResult:
    """One metric check as run on one tick, kept as evidence."""

    at: float
    metric: str
    query: str
    value: float | None  # None when the query failed / no values
    passed: bool
    error: str | None = None


@dataclass(frozen=True)
class TickRecord:
    """What one controller tick did: the status after it, and its events and checks."""

    at: float
    status: CanaryStatus
    events: tuple[CanaryEvent, ...]
    checks: tuple[MetricResult, ...]
    router_weights: tuple[int, int]  # (primary, canary) after the tick
