"""Canary status writes, as ``pkg/canary/status.go`` performs them (pure, spec §1.2).

Two kinds of write:
- ``sync_status`` (``SyncStatus``): sets phase, canaryWeight, failedChecks and iterations together
  (unset ones become 0), ``lastAppliedSpec`` = current template hash, and ``lastPromotedSpec`` too when
  the phase is Initialized.
- ``set_phase`` (``SetStatusPhase``): only the phase; canaryWeight and iterations are reset unless the
  new phase is Progressing, Waiting or Promoting (v1.43+: Promoting keeps the weight, PR #1851);
  WaitingPromotion sets iterations to ``analysis.iterations − 1``; Initialized/Succeeded copy
  lastAppliedSpec to lastPromotedSpec. failedChecks is never touched.
Every write sets ``lastTransitionTime``; the Promoted condition is rewritten only when its status or
reason changes, keeping its lastTransitionTime when the status (True/False/Unknown) is unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from harness.controllers.flagger.gofmt import compute_hash
from harness.controllers.flagger.model import CanaryStatus, Phase, PromotedCondition

ConditionStatus = Literal["True", "False", "Unknown"]
_KEEPS_WEIGHT = frozenset({Phase.PROGRESSING, Phase.WAITING, Phase.PROMOTING})


def condition_for(phase: Phase, target_kind: str) -> tuple[ConditionStatus, str]:
    """(status, message) of the Promoted condition for ``phase`` (``MakeStatusConditions``)."""
    table: dict[Phase, tuple[ConditionStatus, str]] = {
        Phase.INITIALIZING: ("Unknown", f"New {target_kind} detected, starting initialization."),
        Phase.INITIALIZED: ("True", f"{target_kind} initialization completed."),
        Phase.WAITING: ("Unknown", "Waiting for approval."),
        Phase.WAITING_PROMOTION: ("Unknown", "Waiting for approval."),
        Phase.PROGRESSING: ("Unknown", "New revision detected, progressing canary analysis."),
        Phase.PROMOTING: ("Unknown", "Canary analysis completed, starting primary rolling update."),
        Phase.FINALISING: ("Unknown", "Canary analysis completed, routing all traffic to primary."),
        Phase.SUCCEEDED: ("True", "Canary analysis completed successfully, promotion finished."),
        Phase.FAILED: ("False", f"Canary analysis failed, {target_kind} scaled to zero."),
    }
    return table.get(phase, ("Unknown", f"New {target_kind} detected, starting initialization."))


def next_condition(
    current: PromotedCondition | None, phase: Phase, target_kind: str, now: float
) -> PromotedCondition | None:
    """The rewritten condition, or None when status and reason are unchanged (no rewrite)."""
    status, message = condition_for(phase, target_kind)
    if current is not None and current.status == status and current.reason == phase:
        return None
    transition = current.last_transition_time if current is not None and current.status == status else now
    return PromotedCondition(phase, status, message, transition, now)


def _with_condition(status: CanaryStatus, phase: Phase, target_kind: str, now: float) -> CanaryStatus:
    condition = next_condition(status.condition, phase, target_kind, now)
    return status if condition is None else replace(status, condition=condition)


def set_initializing(status: CanaryStatus, target_kind: str, now: float) -> CanaryStatus:
    """``setPhaseInitializing`` (informer sync of a Canary without conditions)."""
    updated = replace(status, phase=Phase.INITIALIZING, last_transition_time=now)
    return _with_condition(updated, Phase.INITIALIZING, target_kind, now)


def sync_status(
    status: CanaryStatus,
    *,
    phase: Phase,
    template_hash: str,
    target_kind: str,
    now: float,
    canary_weight: int = 0,
    failed_checks: int = 0,
    iterations: int = 0,
) -> CanaryStatus:
    """``SyncStatus`` (full status sync)."""
    updated = replace(
        status,
        phase=phase,
        canary_weight=canary_weight,
        failed_checks=failed_checks,
        iterations=iterations,
        last_applied_spec=template_hash,
        last_promoted_spec=template_hash if phase == Phase.INITIALIZED else status.last_promoted_spec,
        last_transition_time=now,
    )
    return _with_condition(updated, phase, target_kind, now)


def set_phase(
    status: CanaryStatus, phase: Phase, *, analysis_iterations: int, target_kind: str, now: float
) -> CanaryStatus:
    """``SetStatusPhase``."""
    updated = replace(status, phase=phase, last_transition_time=now)
    if phase not in _KEEPS_WEIGHT:
        iterations = analysis_iterations - 1 if phase == Phase.WAITING_PROMOTION else 0
        updated = replace(updated, canary_weight=0, iterations=iterations)
    if phase in (Phase.INITIALIZED, Phase.SUCCEEDED):
        updated = replace(updated, last_promoted_spec=status.last_applied_spec)
    return _with_condition(updated, phase, target_kind, now)


def set_failed_checks(status: CanaryStatus, value: int, now: float) -> CanaryStatus:
    return replace(status, failed_checks=value, last_transition_time=now)


def set_weight(status: CanaryStatus, value: int, now: float) -> CanaryStatus:
    return replace(status, canary_weight=value, last_transition_time=now)


def set_iterations(status: CanaryStatus, value: int, now: float) -> CanaryStatus:
    return replace(status, iterations=value, last_transition_time=now)


def has_spec_changed(status: CanaryStatus, template_hash: str) -> bool:
    """``hasSpecChanged``: new template unless it equals lastPromotedSpec (manual rollback)."""
    if not status.last_applied_spec:
        return True
    if status.last_promoted_spec == template_hash:
        return False
    return status.last_applied_spec != template_hash


def checksum(status: CanaryStatus) -> str:
    """Webhook ``checksum``: hash of {trackedConfigs, lastAppliedSpec} (config tracking not modelled)."""
    return compute_hash(f"TrackedConfigs:<nil>,LastAppliedSpec:{status.last_applied_spec}")
