"""Pure helpers of the Kubernetes backend: raw Canary status → ``CanaryStatus``, phase times, deadlines.

Times: Flagger writes RFC 3339 wall-clock timestamps; they become run-clock seconds relative to
``clock.wall(0)`` (the run clock's origin in wall time), times the run's time scale: at ``--time-scale S``
the cluster runs a Canary whose durations are divided by S (``harness.plan.cluster_scale``), so one real
second on the cluster is S emulated seconds on the run clock, as in local mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.backends.kubernetes.api import CanaryObject, ConditionDict
from harness.controllers.flagger.model import CanarySpec, CanaryStatus, Phase, PromotedCondition

PROMOTED = "Promoted"


def parse_time(text: str | None) -> datetime | None:
    """RFC 3339 (``2026-01-01T00:01:00Z``) → aware datetime; None for empty/absent."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_seconds(text: str | None, origin: datetime, scale: float = 1.0) -> float | None:
    moment = parse_time(text)
    return None if moment is None else (moment - origin).total_seconds() * scale


def promoted_condition(obj: CanaryObject) -> ConditionDict | None:
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type") == PROMOTED:
            return condition
    return None


def to_status(obj: CanaryObject, origin: datetime, scale: float = 1.0) -> CanaryStatus:
    """Convert the API object's ``status`` into the shared frozen model (times in run seconds)."""
    raw = obj.get("status", {})
    condition = promoted_condition(obj)
    promoted = None
    if condition is not None:
        promoted = PromotedCondition(
            reason=_phase(condition.get("reason", "")),
            status=condition.get("status", "Unknown"),
            message=condition.get("message", ""),
            last_transition_time=run_seconds(condition.get("lastTransitionTime"), origin, scale) or 0.0,
            last_update_time=run_seconds(condition.get("lastUpdateTime"), origin, scale) or 0.0,
        )
    return CanaryStatus(
        phase=_phase(raw.get("phase", "")),
        canary_weight=int(raw.get("canaryWeight", 0)),
        failed_checks=int(raw.get("failedChecks", 0)),
        iterations=int(raw.get("iterations", 0)),
        last_applied_spec=raw.get("lastAppliedSpec", ""),
        last_promoted_spec=raw.get("lastPromotedSpec", ""),
        last_transition_time=run_seconds(raw.get("lastTransitionTime"), origin, scale) or 0.0,
        condition=promoted,
    )


def _phase(value: str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        return Phase.NONE


def phase_entered_at(status: CanaryStatus) -> float | None:
    """When the current phase began: ``conditions[Promoted].lastUpdateTime``.

    Not ``status.lastTransitionTime``: Flagger rewrites that on every status write, and on every tick
    while Failed (semantics spec §1.2).
    """
    if status.condition is None or status.condition.reason != status.phase:
        return None
    return status.condition.last_update_time


def rollback_time(status: CanaryStatus) -> float | None:
    return phase_entered_at(status) if status.phase == Phase.FAILED else None


def promotion_time(status: CanaryStatus) -> float | None:
    return phase_entered_at(status) if status.phase == Phase.SUCCEEDED else None


# -- deadlines -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deadlines:
    """Wait budgets in seconds, derived from the Canary spec (semantics spec §3.1, §8.3)."""

    initialized: float
    progressing: float
    terminal: float


def weight_steps(spec: CanarySpec) -> int:
    """n: analysis ticks until the weight reaches maxWeight (or iterations for B/G)."""
    analysis = spec.analysis
    if analysis.iterations > 0:
        return analysis.iterations
    if analysis.step_weights:
        return len(analysis.step_weights)
    max_weight = analysis.max_weight if analysis.max_weight > 0 else 100
    return math.ceil(max_weight / analysis.step_weight) if analysis.step_weight > 0 else 1


CONTROL_LOOP_SECONDS = 10.0  # Flagger's -control-loop-interval (real time, never scaled)


def deadlines_for(
    spec: CanarySpec,
    *,
    rollout_seconds: float,
    slack_intervals: int = 2,
    margin_seconds: float = 30.0,
    time_scale: float = 1.0,
) -> Deadlines:
    """Initialized: 2 intervals + primary rollout; Progressing: 1 interval + control loop;
    terminal: (n + threshold + 3 + slack)·interval + progress deadline.

    ``spec`` is in run-clock (emulated) seconds; the rollout, control loop and margin are real seconds
    on the cluster and count ``time_scale`` times as much on the run clock.
    """
    interval = spec.analysis.interval_seconds
    terminal_ticks = weight_steps(spec) + spec.analysis.threshold + 3 + slack_intervals
    real = time_scale
    return Deadlines(
        initialized=2 * interval + (rollout_seconds + margin_seconds) * real,
        progressing=interval + (CONTROL_LOOP_SECONDS + margin_seconds) * real,
        terminal=terminal_ticks * interval + spec.progress_deadline_seconds + margin_seconds * real,
    )


def traefik_weights(service: Mapping[str, Any], apex: str) -> tuple[int, int] | None:
    """(primary, canary) weights the router applies, from Flagger's TraefikService ``<apex>`` (§4.1).

    Flagger lists the canary entry only while its weight is > 0, so a missing entry is weight 0. None when
    the object has no ``spec.weighted.services`` (not reconciled yet).
    """
    entries = (service.get("spec") or {}).get("weighted", {}).get("services")
    if not isinstance(entries, list):
        return None
    weights = {e.get("name"): int(e.get("weight", 0)) for e in entries if isinstance(e, dict)}
    if f"{apex}-primary" not in weights:
        return None
    return weights[f"{apex}-primary"], weights.get(f"{apex}-canary", 0)


def httproute_weights(route: Mapping[str, Any], apex: str) -> tuple[int, int] | None:
    """(primary, canary) weights from Flagger's HTTPRoute ``<apex>`` as its Gateway API router reads them
    back (``GetRoutes``): the rules with exactly two backendRefs, the last one winning (an A/B route's
    primary-only rule is skipped). None when no such rule exists (not reconciled yet)."""
    found: tuple[int, int] | None = None
    for rule in (route.get("spec") or {}).get("rules") or []:
        refs = rule.get("backendRefs") if isinstance(rule, dict) else None
        if not isinstance(refs, list) or len(refs) != 2:
            continue
        weights = {r.get("name"): int(r.get("weight", 1)) for r in refs if isinstance(r, dict)}
        if f"{apex}-primary" in weights:
            found = weights[f"{apex}-primary"], weights.get(f"{apex}-canary", 0)
    return found
