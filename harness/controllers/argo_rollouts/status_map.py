"""The Rollout's status, events and measurements in the vocabulary the verdicts speak (pure).

``CanaryStatus`` is Flagger's shape; the mapping (docs/argo-rollouts-semantics.md, "Status mapping"):

- before the update, the stable revision routed: ``Initialized``;
- ``Degraded`` with ``status.abort`` → ``Failed`` (the rollback);
- ``Healthy`` after the update (stable = the new pod hash) → ``Succeeded``;
- ``Progressing``, ``Paused`` and a ``Degraded`` without abort (a deadline that does not abort) →
  ``Progressing``, with ``paused_reason`` = the first pause condition's reason;
- ``canaryWeight`` = ``status.canary.weights.canary.weight`` (0 before the first write);
- ``failedChecks`` = Failed measurements (not dry-run) of the update's AnalysisRuns.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.controllers.argo_rollouts.analysis_run import AnalysisRunState
from harness.controllers.argo_rollouts.model import (
    AnalysisPhase,
    Measurement,
    RolloutEvent,
    RolloutPhase,
    RolloutStatus,
)
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, MetricResult, Phase


def canary_phase(status: RolloutStatus, *, updating: bool) -> Phase:
    if not updating:
        return Phase.INITIALIZED
    if status.phase == RolloutPhase.DEGRADED and status.abort:
        return Phase.FAILED
    if status.phase == RolloutPhase.HEALTHY and status.stable_rs == status.current_pod_hash:
        return Phase.SUCCEEDED
    return Phase.PROGRESSING


def failed_checks(runs: Iterable[AnalysisRunState]) -> int:
    """Failed measurements of these runs, dry-run metrics left out (they never affect the Rollout)."""
    return sum(result.failed for run in runs for result in run.results if result.name not in run.dry_run)


def canary_status(
    status: RolloutStatus,
    runs: Iterable[AnalysisRunState],
    *,
    updating: bool,
    since: float,
) -> CanaryStatus:
    """The Rollout's status as a ``CanaryStatus``; ``since`` = when this mapped phase began."""
    phase = canary_phase(status, updating=updating)
    paused = str(status.pause_conditions[0].reason) if status.pause_conditions else ""
    return CanaryStatus(
        phase=phase,
        canary_weight=status.canary_weight or 0,
        failed_checks=failed_checks(runs) if updating else 0,
        last_applied_spec=status.current_pod_hash,
        last_promoted_spec=status.stable_rs,
        last_transition_time=since,
        paused_reason=paused if phase == Phase.PROGRESSING else "",
    )


def canary_event(event: RolloutEvent, phase: Phase) -> CanaryEvent:
    """Argo's event with its own reason; the message names the object when it is an AnalysisRun."""
    return CanaryEvent(at=event.at, type=event.type, message=event.message, phase=phase, reason=event.reason)


def metric_result(metric: str, query: str, measurement: Measurement) -> MetricResult:
    """One measurement as check evidence: passed = Successful; the value parsed from Argo's text."""
    error = measurement.message or None
    if measurement.phase == AnalysisPhase.INCONCLUSIVE:
        error = error or "Inconclusive: neither condition held"
    return MetricResult(
        at=measurement.finished_at,
        metric=metric,
        query=query,
        value=first_value(measurement.value),
        passed=measurement.phase == AnalysisPhase.SUCCESSFUL,
        error=error,
    )


def first_value(text: str) -> float | None:
    """The first number of Argo's value text ("0.97", "[0.97,1]", "NaN", "[]"); None when there is none."""
    inner = text.strip().removeprefix("[").removesuffix("]")
    head = inner.split(",", 1)[0].strip()
    if not head:
        return None
    try:
        value = float(head)
    except ValueError:
        return None
    return value
