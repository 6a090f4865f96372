"""Remediation notes computed from a run's evidence (pure: record in, notes out).

Timing model (flagger-semantics §3): from the first failing check to rollback takes threshold × interval
(T·I); from a fault's onset to rollback takes [T·I + δ, (T+1)·I + δ), δ being the detection delay
(scrape interval and rate() warm-up). A fix must meet the limit in the worst case: (T+1)·I + δ ≤ limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.durations import format_duration
from harness.model import Decision, Measure
from harness.report.conditions import MIN_INTERVAL_SECONDS, RollbackConditions, weight_progression
from harness.report.evidence import MIN_CANARY_REQUESTS, interval_samples, numeric
from harness.report.journal import RunRecord

DEFAULT_DETECTION_DELAY = 10.0  # typical δ with a 5 s scrape interval and a hard fault (spec §3.2)
NICE_INTERVALS = (10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1800, 3600)


@dataclass(frozen=True)
class Note:
    """One remediation note: a topic for grouping/tests and the sentence a person reads."""

    topic: (
        str  # abort-time | no-rollback | overshoot | blast-radius | low-samples | inconclusive | incomplete
    )
    text: str


@dataclass(frozen=True)
class AbortFix:
    """Smallest single changes that bring the worst-case fault → rollback time within a limit."""

    threshold: int | None  # new threshold keeping the interval, or None when none works
    interval_seconds: float | None  # new interval keeping the threshold, or None when none works
    worst_now: float  # (T+1)·I + δ with the current spec


def remediation_notes(record: RunRecord) -> tuple[Note, ...]:
    """Every note that applies to a run, most decisive first."""
    notes: list[Note] = []
    if record.decision == Decision.INCOMPLETE:
        reason = record.incomplete_reason or "no verdict was recorded"
        notes.append(Note("incomplete", f"the run did not finish ({reason}): re-run it before deciding."))
    if record.decision == Decision.INCONCLUSIVE:
        notes.append(
            Note(
                "inconclusive",
                "the fault never reached traffic: check the fault's cohort/probability and that the load "
                "reaches the canary, then re-run.",
            )
        )
    conditions = record.rollback_conditions
    for measure in record.verdict.measures if record.verdict else ():
        if measure.passed is False and conditions is not None:
            notes += _measure_notes(measure, conditions, record)
    notes += _low_sample_notes(record)
    return tuple(notes)


def abort_time_fix(limit: float, conditions: RollbackConditions, delay: float) -> AbortFix:
    """Largest threshold T' < T, or largest 'nice' interval I' < I, with (T'+1)·I' + δ ≤ limit."""
    t, i = conditions.threshold, conditions.interval_seconds
    budget = limit - delay
    threshold = math.floor(budget / i) - 1
    intervals = [n for n in NICE_INTERVALS if n < i and n >= MIN_INTERVAL_SECONDS and (t + 1) * n <= budget]
    return AbortFix(
        threshold=threshold if 1 <= threshold < t else None,
        interval_seconds=float(max(intervals)) if intervals else None,
        worst_now=(t + 1) * i + delay,
    )


def overshoot_fix(limit: int, conditions: RollbackConditions) -> tuple[int | None, int | None]:
    """(stepWeight, maxWeight) closest to the current ones whose progression peaks ≤ limit (one at a time)."""
    step, top = conditions.step_weight, conditions.max_weight
    steps = [s for s in range(1, 101) if max(weight_progression(s, (), top), default=0) <= limit]
    tops = [m for m in range(1, limit + 1) if max(weight_progression(step, (), m), default=0) <= limit]
    return _closest(steps, step), _closest(tops, top)


def _closest(candidates: list[int], current: int) -> int | None:
    return min(candidates, key=lambda v: (abs(v - current), -v)) if candidates else None


def _measure_notes(measure: Measure, conditions: RollbackConditions, record: RunRecord) -> list[Note]:
    name = measure.name.lower()
    measured, limit = numeric(measure.measured), numeric(measure.limit)
    if ("abort" in name or "rollback" in name) and limit is not None:
        return [_abort_note(measured, limit, conditions)]
    if measured is None or limit is None:
        return []
    if "weight" in name:
        return [_overshoot_note(int(measured), int(limit), conditions)]
    if "user" in name or "request" in name:
        noun = "users hurt" if "user" in name else "bad canary requests"
        return [_blast_note(noun, measured, limit, conditions)]
    return []


def _abort_note(measured: float | None, limit: float, c: RollbackConditions) -> Note:
    if measured is None:
        criteria = "; ".join(a.describe() for a in c.criteria) or "none"
        return Note(
            "no-rollback",
            f"no rollback within the {format_duration(limit)} limit: the abort criteria ({criteria}) never "
            f"failed {c.threshold} times — add a metric that sees this fault (e.g. request-duration for "
            "latency) or tighten its range.",
        )
    delay = max(DEFAULT_DETECTION_DELAY, measured - (c.threshold + 1) * c.interval_seconds)
    fix = abort_time_fix(limit, c, delay)
    options = []
    if fix.threshold is not None:
        options.append(f"threshold {c.threshold}→{fix.threshold}")
    if fix.interval_seconds is not None:
        interval = format_duration(c.interval_seconds)
        options.append(f"interval {interval}→{format_duration(fix.interval_seconds)}")
    if not options:
        worst = (limit - delay) / 2
        fallback = f"threshold 1 with interval ≤ {format_duration(max(worst, MIN_INTERVAL_SECONDS))}"
        options.append(
            fallback if worst >= MIN_INTERVAL_SECONDS else "a longer limit (it is below 2 intervals)"
        )
    ti = format_duration(c.abort_after_first_failure_seconds)
    return Note(
        "abort-time",
        f"abort took {format_duration(measured)} against a {format_duration(limit)} limit: threshold "
        f"{c.threshold} × interval {format_duration(c.interval_seconds)} means {ti} to "
        f"{format_duration(c.abort_after_first_failure_seconds + c.interval_seconds)} (+ ≈"
        f"{format_duration(delay)} detection) from fault to rollback; {' or '.join(options)} would meet it.",
    )


def _overshoot_note(measured: int, limit: int, c: RollbackConditions) -> Note:
    steps = " → ".join(str(w) for w in c.progression)
    if c.max_weight > limit:
        return Note(
            "overshoot",
            f"canary reached {measured}% > {limit}%: maxWeight {c.max_weight} is above the limit.",
        )
    if c.peak_weight > c.max_weight and c.step_weight > 0:
        step, top = overshoot_fix(limit, c)
        options = [f"stepWeight {c.step_weight}→{step}"] if step else []
        options += [f"maxWeight {c.max_weight}→{top}"] if top else []
        options.append(f"stepWeights ending at {limit}")
        return Note(
            "overshoot",
            f"canary reached {measured}% > {limit}%: maxWeight overshoot with stepWeight {c.step_weight} "
            f"({steps}; Flagger advances while the weight is below maxWeight {c.max_weight}); "
            f"{' or '.join(options)} would stay within it.",
        )
    return Note(
        "overshoot",
        f"canary reached {measured}% > {limit}% although its steps stop at {c.peak_weight}% ({steps}): "
        "check stepWeightPromotion and the router's applied weights.",
    )


def _blast_note(noun: str, measured: float, limit: float, c: RollbackConditions) -> Note:
    ratio = limit / measured if measured else 1.0
    first = c.progression[0] if c.progression else 0
    options = []
    if first > 1:
        options.append(f"first step weight {first}%→{max(1, math.floor(first * ratio))}%")
    if c.threshold > 1:
        options.append(f"threshold {c.threshold}→{max(1, math.floor(c.threshold * ratio))}")
    hint = " or ".join(options) or "a smaller first step or a shorter interval"
    return Note(
        "blast-radius",
        f"{noun} {measured:g} > {limit:g}: lower the first step weight or the threshold — exposure grows "
        f"with weight × time to abort; e.g. {hint}.",
    )


def _low_sample_notes(record: RunRecord) -> list[Note]:
    low = [s for s in interval_samples(record) if s.low]
    warned = [w for w in (record.verdict.warnings if record.verdict else ()) if "sample" in w.lower()]
    if not low and not warned:
        return []
    total = len(interval_samples(record))
    what = (
        f"{len(low)} of {total} check windows saw fewer than {MIN_CANARY_REQUESTS} canary requests"
        if low
        else warned[0]
    )
    return [
        Note("low-samples", f"{what} (no sample, no signal): raise the load or the interval/metric window.")
    ]
