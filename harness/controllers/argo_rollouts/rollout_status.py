"""Pure status rules of a canary Rollout: weights, replica counts, pause bookkeeping, conditions and phase.

Each function cites the Argo Rollouts v1.9.1 function it follows (docs/argo-rollouts-semantics.md §2, §4, §7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.controllers.argo_rollouts.model import (
    AnalysisStep,
    CanaryStep,
    PauseCondition,
    PauseReason,
    PauseStep,
    ProgressingCondition,
    RolloutPhase,
    RolloutSpec,
    RolloutStatus,
    SetWeightStep,
)

ABORTED = "RolloutAborted"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "RolloutPaused"
RESUMED = "RolloutResumed"
UPDATED = "ReplicaSetUpdated"
AVAILABLE = "NewReplicaSetAvailable"


def current_step(spec: RolloutSpec, status: RolloutStatus) -> CanaryStep | None:
    """``GetCurrentCanaryStep``."""
    index = status.current_step_index
    return spec.steps[index] if 0 <= index < len(spec.steps) else None


def fully_promoted(status: RolloutStatus) -> bool:
    return bool(status.stable_rs) and status.stable_rs == status.current_pod_hash


def current_set_weight(spec: RolloutSpec, status: RolloutStatus) -> int:
    """``GetCurrentSetWeight``: 0 when aborted, 100 after the last step, else the last setWeight so far."""
    if status.abort:
        return 0
    if current_step(spec, status) is None:
        return 100
    return _last_set_weight(spec.steps[: status.current_step_index + 1])


def previous_set_weight(spec: RolloutSpec, index: int) -> int:
    """The last setWeight strictly before step ``index`` (traffic routing, canary not yet scaled)."""
    return _last_set_weight(spec.steps[:index])


def _last_set_weight(steps: tuple[CanaryStep, ...]) -> int:
    for step in reversed(steps):
        if isinstance(step, SetWeightStep):
            return step.weight
    return 0


def desired_canary_replicas(spec: RolloutSpec, status: RolloutStatus) -> int:
    """``CalculateReplicaCountsForTrafficRoutedCanary`` without setCanaryScale/dynamicStableScale."""
    weight = 100 if fully_promoted(status) else current_set_weight(spec, status)
    return math.ceil(weight * spec.replicas / 100)


def is_indefinite_step(spec: RolloutSpec, status: RolloutStatus) -> bool:
    """``isIndefiniteStep``: a pause/analysis step is current, or the Rollout is paused."""
    step = current_step(spec, status)
    return isinstance(step, PauseStep | AnalysisStep) or bool(status.pause_conditions) or spec.paused


@dataclass(frozen=True)
class PauseChanges:
    """What ``pauseContext`` collected during one reconcile."""

    add: tuple[PauseReason, ...] = ()
    remove: tuple[PauseReason, ...] = ()
    clear: bool = False
    add_abort: bool = False
    remove_abort: bool = False
    abort_message: str = ""

    def aborted(self, status: RolloutStatus) -> bool:
        """``IsAborted``."""
        return not self.remove_abort and (self.add_abort or status.abort)


def pause_status(
    previous: RolloutStatus, changes: PauseChanges, now: float
) -> tuple[bool, float | None, tuple[PauseCondition, ...], bool]:
    """``CalculatePauseStatus``: (abort, abortedAt, pauseConditions, controllerPause); abort drops pauses."""
    if changes.add_abort or (not changes.remove_abort and previous.abort):
        return True, previous.aborted_at if previous.aborted_at is not None else now, (), False
    if changes.clear:
        return False, None, (), False
    kept = tuple(c for c in previous.pause_conditions if c.reason not in changes.remove)
    existing = {c.reason for c in previous.pause_conditions}
    controller_pause = previous.controller_pause
    added: list[PauseCondition] = []
    for reason in changes.add:
        if reason not in existing and all(c.reason != reason for c in added):
            added.append(PauseCondition(reason, now))
            controller_pause = True
    conditions = kept + tuple(added)
    if not conditions:
        return False, None, (), False
    return False, None, conditions, controller_pause


def paused_condition(spec: RolloutSpec, status: RolloutStatus, now: float) -> ProgressingCondition | None:
    """``checkPausedConditions``: the Progressing condition to write when pausing/resuming, else None."""
    current = status.progressing
    is_paused = bool(status.pause_conditions) or spec.paused
    condition_paused = current is not None and current.reason == PAUSED
    abort_condition = current is not None and current.reason == ABORTED
    if is_paused == condition_paused or abort_condition or fully_promoted(status):
        return None
    if is_paused:
        return ProgressingCondition("Unknown", PAUSED, "Rollout is paused", now)
    return ProgressingCondition("Unknown", RESUMED, "Rollout is resumed", now)


def progress_made(previous: RolloutStatus, new: RolloutStatus) -> bool:
    """``conditions.RolloutProgressing`` (canary): replica or step progress since the last status."""
    return (
        new.updated_replicas != previous.updated_replicas
        or new.available_replicas > previous.available_replicas
        or new.stable_rs != previous.stable_rs
        or new.current_step_index != previous.current_step_index
    )


def timed_out(spec: RolloutSpec, condition: ProgressingCondition | None, now: float) -> bool:
    """``conditions.RolloutTimedOut``: no progress for more than progressDeadlineSeconds."""
    if condition is None or condition.reason in (ABORTED, PAUSED):
        return False
    if condition.reason == TIMED_OUT:
        return True
    # Argo: strictly before now, and the requeue lands just after; the emulation fires on the due time
    return condition.last_update_time + spec.progress_deadline_seconds <= now


def deadline_at(spec: RolloutSpec, status: RolloutStatus) -> float | None:
    """When a stuck setWeight step will time out (``requeueStuckRollout``), if the check applies."""
    condition = status.progressing
    if condition is None or status.abort or fully_promoted(status) or is_indefinite_step(spec, status):
        return None
    if condition.reason in (ABORTED, PAUSED, TIMED_OUT):
        return None
    return condition.last_update_time + spec.progress_deadline_seconds


def rollout_phase(spec: RolloutSpec, status: RolloutStatus) -> tuple[RolloutPhase, str]:
    """``CalculateRolloutPhase`` for a traffic-routed canary."""
    condition = status.progressing
    if condition is not None and condition.reason in (ABORTED, TIMED_OUT):
        return RolloutPhase.DEGRADED, f"{condition.reason}: {condition.message}"
    if spec.paused:
        return RolloutPhase.PAUSED, "manually paused"
    if status.pause_conditions:
        return RolloutPhase.PAUSED, str(status.pause_conditions[0].reason)
    if status.updated_replicas < spec.replicas:
        return RolloutPhase.PROGRESSING, "more replicas need to be updated"
    if status.available_replicas < status.updated_replicas:
        return RolloutPhase.PROGRESSING, "updated replicas are still becoming available"
    if not fully_promoted(status):
        return RolloutPhase.PROGRESSING, "waiting for all steps to complete"
    return RolloutPhase.HEALTHY, ""


def progressing_condition(
    spec: RolloutSpec,
    previous: RolloutStatus,
    new: RolloutStatus,
    changes: PauseChanges,
    rs_name: str,
    revision: int,
    now: float,
) -> tuple[ProgressingCondition | None, bool, str]:
    """``calculateRolloutConditions``' Progressing condition.

    Returns the condition, whether progressDeadlineAbort aborts now, and the message of a Warning
    ``RolloutAborted`` event to emit ("" for none). A condition with the same status and reason is kept as is
    (``SetRolloutCondition``), so each abort is announced once.
    """
    current = previous.progressing
    if changes.aborted(previous):
        message = f"Rollout aborted update to revision {revision}"
        message += f": {changes.abort_message}" if changes.abort_message else ""
        if current is not None and current.status == "False" and current.reason == ABORTED:
            return current, False, ""
        return ProgressingCondition("False", ABORTED, message, now), False, message
    if fully_promoted(new) and new.updated_replicas == spec.replicas:
        if current is not None and current.reason == AVAILABLE:
            return current, False, ""
        done = f'ReplicaSet "{rs_name}" has successfully progressed.'
        return ProgressingCondition("True", AVAILABLE, done, now), False, ""
    if progress_made(previous, new):
        return (
            ProgressingCondition("True", UPDATED, f'ReplicaSet "{rs_name}" is progressing.', now),
            False,
            "",
        )
    if not is_indefinite_step(spec, previous) and timed_out(spec, current, now):
        message = f'ReplicaSet "{rs_name}" has timed out progressing.'
        abort = spec.progress_deadline_abort and not previous.abort
        if current is not None and current.reason == TIMED_OUT:
            return current, abort, message if abort else ""
        return ProgressingCondition("False", TIMED_OUT, message, now), abort, message if abort else ""
    return current, False, ""
