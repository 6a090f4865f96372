"""When an AnalysisRun of a Rollout decides, for a fault seen from some time on (pure).

The rules are docs/argo-rollouts-semantics.md §3.2 (scheduling: measurement k at start + initialDelay +
(k−1)·interval, 10 s after an Error), §3.5 (counters and limits, checked after every measurement, the last
check that holds wins: Error > Inconclusive > Failed; errors do not use up ``count``), §3.6 (the run is the
worst completed non-dry-run metric; a decisive metric makes the run terminate at once) and §9's formula
``initialDelay + failureLimit × interval``. Prometheus is assumed to answer at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.controllers.argo_rollouts.model import ERROR_RETRY_INTERVAL, MetricSpec

FaultEffect = Literal["failed", "error", "inconclusive"]
Phase = Literal["Successful", "Failed", "Error", "Inconclusive", "Running"]
DECISIVE: tuple[Phase, ...] = ("Failed", "Error", "Inconclusive")
_ORDER: dict[Phase, int] = {"Successful": 0, "Running": 1, "Inconclusive": 3, "Error": 4, "Failed": 5}
_MAX_MEASUREMENTS = 20_000
_EPSILON = 1e-9


@dataclass(frozen=True)
class Fault:
    """Measurements taken at ``t ≥ visible_from`` (``t > visible_from`` when ``strict``) see the fault.

    ``visible_from`` None: a healthy canary. ``effect`` is what a measurement that sees it becomes: Failed
    (the success condition is false), Error (the query or the condition errors, e.g. Prometheus down) or
    Inconclusive (neither condition holds); ``seen_by`` narrows it to some metrics, each with its effect.
    """

    visible_from: float | None
    effect: FaultEffect = "failed"
    strict: bool = False
    seen_by: Mapping[str, FaultEffect] | None = None  # per metric name; None: every metric, with ``effect``

    def effect_on(self, metric: str) -> FaultEffect | None:
        """What the fault makes of this metric's measurements; None when the metric does not see it."""
        return self.effect if self.seen_by is None else self.seen_by.get(metric)

    def sees(self, at: float) -> bool:
        if self.visible_from is None:
            return False
        return at > self.visible_from + _EPSILON if self.strict else at >= self.visible_from - _EPSILON


HEALTHY = Fault(None)


@dataclass(frozen=True)
class MetricOutcome:
    name: str
    phase: Phase  # Running: never completes on its own (until the run is terminated)
    at: float | None  # when it completed
    measured: tuple[float, ...]  # measurement times up to the completion or the horizon
    dry_run: bool = False
    reason: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """``phase`` at ``at``; Running (at None) until the run is terminated."""

    phase: Phase
    at: float | None
    started: float
    metrics: tuple[MetricOutcome, ...]

    @property
    def decided_at_creation(self) -> bool:
        """Decided by the measurements the AnalysisRun controller takes when the run is created (§3.1)."""
        return self.at is not None and abs(self.at - self.started) < _EPSILON

    @property
    def measured(self) -> tuple[float, ...]:
        return tuple(sorted({t for m in self.metrics if not m.dry_run for t in m.measured}))


def metric_outcome(
    metric: MetricSpec, start: float, fault: Fault, horizon: float, *, dry_run: bool = False
) -> MetricOutcome:
    """Walk the metric's measurements from ``start`` until it completes or passes ``horizon``."""
    effect = fault.effect_on(metric.name)
    if effect is None:
        fault = HEALTHY
        effect = "failed"
    count = metric.effective_count()
    interval = metric.interval
    at = start + (metric.initial_delay or 0.0)
    measured: list[float] = []
    taken = failed = inconclusive = errors = successes = 0
    while at <= horizon + _EPSILON and len(measured) < _MAX_MEASUREMENTS:
        at = _skip_healthy(metric, at, fault, horizon, count)
        if at > horizon + _EPSILON or not math.isfinite(at):
            break
        measured.append(at)
        phase: Phase = _EFFECT[effect] if fault.sees(at) else "Successful"
        if phase == "Error":
            errors += 1
            successes = 0
        else:
            taken += 1
            errors = 0
            successes = successes + 1 if phase == "Successful" else 0
            failed += phase == "Failed"
            inconclusive += phase == "Inconclusive"
        decided, reason = _limit_exceeded(metric, failed, inconclusive, errors)
        if decided is None:
            decided, reason = _count_reached(metric, taken, successes, count)
        if decided is not None:
            return MetricOutcome(metric.name, decided, at, tuple(measured), dry_run, reason)
        at += ERROR_RETRY_INTERVAL if phase == "Error" or interval is None else interval
    return MetricOutcome(metric.name, "Running", None, tuple(measured), dry_run)


_EFFECT: dict[FaultEffect, Phase] = {"failed": "Failed", "error": "Error", "inconclusive": "Inconclusive"}


def _skip_healthy(metric: MetricSpec, at: float, fault: Fault, horizon: float, count: int | None) -> float:
    """Jump over healthy measurements of an unlimited metric that cannot decide it (speed only)."""
    if count is not None or metric.consecutive_success_limit > 0 or metric.interval is None:
        return at
    if fault.visible_from is None:  # healthy: keep every time while the horizon is finite
        return at if math.isfinite(horizon) else math.inf
    target = min(horizon, fault.visible_from)
    if not math.isfinite(target):
        return math.inf  # no measurement ever sees the fault: it cannot decide
    steps = math.floor((target - at) / metric.interval) - 2
    return at + steps * metric.interval if steps > 0 else at


def _limit_exceeded(
    metric: MetricSpec, failed: int, inconclusive: int, errors: int
) -> tuple[Phase | None, str]:
    """§3.5 rule 2, the last check that holds wins."""
    phase: Phase | None = None
    reason = ""
    if metric.failure_limit >= 0 and failed > metric.failure_limit:
        phase, reason = "Failed", f"failed ({failed}) > failureLimit ({metric.failure_limit})"
    if inconclusive > metric.inconclusive_limit:
        phase = "Inconclusive"
        reason = f"inconclusive ({inconclusive}) > inconclusiveLimit ({metric.inconclusive_limit})"
    if errors > metric.consecutive_error_limit:
        phase = "Error"
        reason = f"consecutiveErrors ({errors}) > consecutiveErrorLimit ({metric.consecutive_error_limit})"
    return phase, reason


def _count_reached(
    metric: MetricSpec, taken: int, successes: int, count: int | None
) -> tuple[Phase | None, str]:
    """§3.5 rules 3 and 4."""
    limit = metric.consecutive_success_limit
    if limit > 0 and successes >= limit:
        return "Successful", f"consecutiveSuccesses ({successes}) ≥ consecutiveSuccessLimit ({limit})"
    if count is not None and taken >= count:
        if limit > 0:
            return ("Inconclusive" if metric.failure_limit >= 0 else "Failed"), "count reached"
        return "Successful", "count reached"
    return None, ""


def run_outcome(
    metrics: Sequence[tuple[MetricSpec, bool]], start: float, fault: Fault, horizon: float
) -> RunOutcome:
    """The run of ``metrics`` (each with its dry-run flag) created at ``start`` (§3.6).

    The earliest decisive non-dry-run metric ends the run (the worst of those deciding at that instant);
    otherwise the run completes when every metric has, with the worst phase, Successful if all are dry-run.
    """
    outcomes = tuple(metric_outcome(m, start, fault, horizon, dry_run=dry) for m, dry in metrics)
    deciding = [o for o in outcomes if not o.dry_run and o.phase in DECISIVE and o.at is not None]
    if deciding:
        first = min(o.at for o in deciding if o.at is not None)
        at_first = [o.phase for o in deciding if o.at is not None and abs(o.at - first) < _EPSILON]
        return RunOutcome(max(at_first, key=_ORDER.__getitem__), first, start, outcomes)
    if any(o.phase == "Running" for o in outcomes):
        return RunOutcome("Running", None, start, outcomes)
    ends = [o.at for o in outcomes if o.at is not None]
    phases = [o.phase for o in outcomes if not o.dry_run] or ["Successful"]
    return RunOutcome(max(phases, key=_ORDER.__getitem__), max(ends, default=start), start, outcomes)
