"""A Rollout's status in Flagger's vocabulary (``CanaryStatus``), the one the verdicts and reports speak.

Pure, and shared: the local plug-in maps its emulated Rollout through it, the kubernetes backend the Rollout
the API server returns, so both backends judge one status the same way. Input is the Rollout's ``status``
dict with Argo Rollouts v1.9.1's field names (``pkg/apis/rollouts/v1alpha1/types.go`` ``RolloutStatus``)
and the ``status`` dicts of the update's AnalysisRuns (``AnalysisRunStatus``); times go through ``seconds``
(numbers as written by an emulation, or RFC 3339 strings with a converter).

Mapping (docs/argo-rollouts-semantics.md §7, the phase rules of ``CalculateRolloutPhase``):

- ``Degraded`` with ``abort`` → Failed (the rollback; entered at ``abortedAt``);
- ``Degraded`` without ``abort`` (progress deadline, no ``progressDeadlineAbort``) → Progressing: the canary
  keeps its traffic, nothing was rolled back;
- ``Healthy`` once ``stableRS`` is the pod hash of the update (not the one before it) → Succeeded, entered at
  the Progressing condition's ``lastUpdateTime`` (NewReplicaSetAvailable); ``Healthy`` before → Initialized;
- ``Paused`` / ``Progressing`` → Progressing;
- canaryWeight: ``canary.weights.canary.weight`` as the controller last routed it; failedChecks: Failed
  measurements of the non-dry-run metrics (``metricResults[].failed``); iterations: the step; paused_reason:
  the first ``pauseConditions[].reason`` while Progressing.

``status_map.canary_status`` is the same mapping over the emulation's frozen ``RolloutStatus``;
``tests/kube/test_argo_canary_view.py`` checks the two agree on the emulation's serialized statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from harness.controllers.flagger.model import CanaryStatus, Phase, PromotedCondition

Seconds = Callable[[object], float | None]


def numeric_seconds(value: object) -> float | None:
    """A time written as run-clock seconds (an emulation's status); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a time in seconds, found {value!r}")
    return float(value)


def canary_weight(status: Mapping[str, Any]) -> int:
    """``status.canary.weights.canary.weight``: what the controller last routed to the canary (0 if unset)."""
    weights = (status.get("canary") or {}).get("weights") or {}
    return int((weights.get("canary") or {}).get("weight") or 0)


def failed_measurements(analysis_runs: Sequence[Mapping[str, Any]]) -> int:
    """Failed measurements over the runs' metrics that count (dry-run metrics never abort)."""
    total = 0
    for run in analysis_runs:
        for result in run.get("metricResults") or ():
            if not result.get("dryRun"):
                total += int(result.get("failed") or 0)
    return total


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == kind:
            return dict(condition)
    return None


def _phase(status: Mapping[str, Any], updated_from: str | None) -> Phase:
    phase = str(status.get("phase") or "")
    if phase == "Degraded":
        return Phase.FAILED if status.get("abort") else Phase.PROGRESSING
    if phase == "Healthy":
        stable = str(status.get("stableRS") or "")
        updated = updated_from is not None and stable != "" and stable != updated_from
        return Phase.SUCCEEDED if updated and stable == status.get("currentPodHash") else Phase.INITIALIZED
    if phase in ("Paused", "Progressing"):
        return Phase.PROGRESSING
    return Phase.NONE


def canary_status_from_rollout(
    status: Mapping[str, Any],
    *,
    updated_from: str | None,
    analysis_runs: Sequence[Mapping[str, Any]] = (),
    seconds: Seconds = numeric_seconds,
) -> CanaryStatus:
    """The Rollout ``status`` (and its update's AnalysisRun statuses) as a ``CanaryStatus``.

    ``updated_from`` is ``status.currentPodHash`` before the trigger (None: nothing triggered yet), which
    tells the Healthy of the stable revision from the Healthy after a promotion.
    """
    phase = _phase(status, updated_from)
    progressing = _condition(status, "Progressing")
    updates = [seconds(c.get("lastUpdateTime")) for c in status.get("conditions") or ()]
    written = max((u for u in updates if u is not None), default=0.0)
    entered: float | None = None
    if phase == Phase.FAILED:
        entered = seconds(status.get("abortedAt"))
        if entered is None and progressing is not None:
            entered = seconds(progressing.get("lastUpdateTime"))
    elif phase == Phase.SUCCEEDED and progressing is not None:
        entered = seconds(progressing.get("lastUpdateTime"))
    condition = None
    if entered is not None:
        state: Literal["True", "False"] = "True" if phase == Phase.SUCCEEDED else "False"
        condition = PromotedCondition(
            reason=phase,
            status=state,
            message=str(status.get("message") or ""),
            last_transition_time=entered,
            last_update_time=entered,
        )
    pauses = status.get("pauseConditions") or ()
    paused = str(pauses[0].get("reason") or "") if pauses and phase == Phase.PROGRESSING else ""
    return CanaryStatus(
        phase=phase,
        canary_weight=canary_weight(status),
        failed_checks=failed_measurements(analysis_runs),
        iterations=int(status.get("currentStepIndex") or 0),
        last_applied_spec=str(status.get("currentPodHash") or ""),
        last_promoted_spec=str(status.get("stableRS") or ""),
        last_transition_time=max(written, entered or 0.0),
        condition=condition,
        paused_reason=paused,
    )
