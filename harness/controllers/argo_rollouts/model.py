"""Frozen spec and status types of the Argo Rollouts emulation (docs/argo-rollouts-semantics.md §1, §3, §7).

Durations are seconds (float). Field names follow the CRDs (``pkg/apis/rollouts/v1alpha1`` at v1.9.1) so a
reader can map each one back; defaults are the controller's (``utils/defaults/defaults.go``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30
DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
ERROR_RETRY_INTERVAL = 10.0  # analysis/analysis.go DefaultErrorRetryInterval
DEFAULT_PROMETHEUS_TIMEOUT = 30.0

# ---- AnalysisTemplate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrometheusProvider:
    address: str
    query: str
    timeout: float = DEFAULT_PROMETHEUS_TIMEOUT


@dataclass(frozen=True)
class MetricSpec:
    """One ``spec.metrics[]`` entry; strings may still hold ``{{args.x}}`` placeholders."""

    name: str
    provider: PrometheusProvider
    interval: float | None = None
    initial_delay: float | None = None
    count: int | None = None  # None or 0: see effective_count
    success_condition: str = ""
    failure_condition: str = ""
    failure_limit: int = 0  # -1 disables
    inconclusive_limit: int = 0
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    consecutive_success_limit: int = 0

    def effective_count(self) -> int | None:
        """``Metric.EffectiveCount``: the count, 1 when neither count nor interval is set, else unlimited."""
        if not self.count:
            return 1 if self.interval is None else None
        return self.count


@dataclass(frozen=True)
class Argument:
    """An ``args[]`` entry of a template or of a Rollout's analysis."""

    name: str
    value: str | None = None
    pod_template_hash: Literal["Stable", "Latest"] | None = None  # valueFrom.podTemplateHashValue
    field_path: str | None = None  # valueFrom.fieldRef.fieldPath (metadata.name / metadata.namespace)


@dataclass(frozen=True)
class AnalysisTemplate:
    name: str
    metrics: tuple[MetricSpec, ...]
    args: tuple[Argument, ...] = ()
    dry_run: tuple[str, ...] = ()  # metricName regular expressions
    file: str | None = None


# ---- Rollout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutAnalysis:
    """``analysis`` of a step, or the background ``strategy.canary.analysis`` (with ``starting_step``)."""

    templates: tuple[str, ...]
    args: tuple[Argument, ...] = ()
    dry_run: tuple[str, ...] = ()
    starting_step: int | None = None


@dataclass(frozen=True)
class SetWeightStep:
    weight: int


@dataclass(frozen=True)
class PauseStep:
    duration: float | None = None  # None: pause {} (indefinite)
    written: str | None = None  # the duration as written, for "Rollout step i/n completed (pause: 1m)"


@dataclass(frozen=True)
class AnalysisStep:
    analysis: RolloutAnalysis


CanaryStep = SetWeightStep | PauseStep | AnalysisStep


def step_string(step: CanaryStep) -> str:
    """``utils/rollout/rolloututil.go`` ``CanaryStepString``."""
    if isinstance(step, SetWeightStep):
        return f"setWeight: {step.weight}"
    if isinstance(step, PauseStep):
        return "pause" if step.written is None else f"pause: {step.written}"
    return "analysis"


@dataclass(frozen=True)
class RolloutSpec:
    name: str
    namespace: str
    canary_service: str
    stable_service: str
    traefik_service: str  # trafficRouting.traefik.weightedTraefikServiceName
    steps: tuple[CanaryStep, ...]
    replicas: int = 1
    background: RolloutAnalysis | None = None
    progress_deadline_seconds: int = DEFAULT_PROGRESS_DEADLINE_SECONDS
    progress_deadline_abort: bool = False
    abort_scale_down_delay_seconds: int | None = None  # None: unset (30 s); 0: no delay (§6)
    scale_down_delay_seconds: int = DEFAULT_SCALE_DOWN_DELAY_SECONDS
    paused: bool = False  # spec.paused
    file: str | None = None

    def abort_scale_down_delay(self) -> float | None:
        """Seconds before an aborted canary is scaled down; None = at once (explicit 0, see §6)."""
        if self.abort_scale_down_delay_seconds is None:
            return float(DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS)
        return float(self.abort_scale_down_delay_seconds) if self.abort_scale_down_delay_seconds else None


@dataclass(frozen=True)
class RolloutBundle:
    """The Argo Rollouts controller's spec: one Rollout and the AnalysisTemplates it names, by name.

    ``manifests`` keeps the documents as loaded (Rollout first), for the report; not compared.
    """

    rollout: RolloutSpec
    templates: Mapping[str, AnalysisTemplate] = field(hash=False)
    manifests: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, hash=False)


# ---- status ----------------------------------------------------------------------------------------


class AnalysisPhase(StrEnum):
    NONE = ""
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    @property
    def completed(self) -> bool:
        return self in _COMPLETED


_COMPLETED = frozenset(
    {AnalysisPhase.SUCCESSFUL, AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE}
)
# utils/analysis/helpers.go analysisStatusOrder, best to worst
PHASE_ORDER = (
    AnalysisPhase.SUCCESSFUL,
    AnalysisPhase.RUNNING,
    AnalysisPhase.PENDING,
    AnalysisPhase.INCONCLUSIVE,
    AnalysisPhase.ERROR,
    AnalysisPhase.FAILED,
)


def is_worse(current: AnalysisPhase, new: AnalysisPhase) -> bool:
    rank = {phase: index for index, phase in enumerate(PHASE_ORDER)}
    return rank.get(new, 0) > rank.get(current, 0)


@dataclass(frozen=True)
class Measurement:
    phase: AnalysisPhase
    started_at: float
    finished_at: float
    value: str = ""  # Argo's text: "0.97", "[0.97,1]", "NaN", "[]"
    message: str = ""


@dataclass(frozen=True)
class MetricResult:
    name: str
    phase: AnalysisPhase = AnalysisPhase.RUNNING
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0
    measurements: tuple[Measurement, ...] = ()
    dry_run: bool = False
    message: str = ""


class RolloutPhase(StrEnum):
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    DEGRADED = "Degraded"
    HEALTHY = "Healthy"


class PauseReason(StrEnum):
    CANARY_PAUSE_STEP = "CanaryPauseStep"
    INCONCLUSIVE_ANALYSIS = "InconclusiveAnalysisRun"


@dataclass(frozen=True)
class PauseCondition:
    reason: PauseReason
    start_time: float


@dataclass(frozen=True)
class RunRef:
    """``status.canary.current{Step,Background}AnalysisRunStatus``: name and the phase the Rollout saw."""

    name: str
    status: AnalysisPhase


@dataclass(frozen=True)
class ProgressingCondition:
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    last_update_time: float


@dataclass(frozen=True)
class RolloutStatus:
    phase: RolloutPhase
    message: str
    current_step_index: int
    canary_weight: int | None  # status.canary.weights.canary.weight; None before the first write
    abort: bool = False
    aborted_at: float | None = None
    pause_conditions: tuple[PauseCondition, ...] = ()
    controller_pause: bool = False
    stable_rs: str = ""
    current_pod_hash: str = ""
    step_run: RunRef | None = None
    background_run: RunRef | None = None
    progressing: ProgressingCondition | None = None
    updated_replicas: int = 0  # pods of the new ReplicaSet
    available_replicas: int = 0  # available pods of all ReplicaSets

    @property
    def stable_weight(self) -> int | None:
        return None if self.canary_weight is None else 100 - self.canary_weight

    def pause_condition(self, reason: PauseReason) -> PauseCondition | None:
        return next((c for c in self.pause_conditions if c.reason == reason), None)


@dataclass(frozen=True)
class RolloutEvent:
    """A Kubernetes Event the controller would record (on the Rollout or on an AnalysisRun)."""

    at: float
    type: Literal["Normal", "Warning"]
    reason: str
    message: str
    object_kind: Literal["Rollout", "AnalysisRun"] = "Rollout"
    object_name: str = ""
