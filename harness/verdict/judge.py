"""Measured figures against limits → ``Verdict`` (pure: plain data in, plain data out).

Decision rules:
- INCOMPLETE when the run did not finish (``Evidence.complete`` is false);
- INCONCLUSIVE when evidence is missing (e.g. the load generator died: failed measures are then listed
  as "on partial evidence", never a NO-GO);
- NO-GO when any judged measure failed;
- INCONCLUSIVE when a required measure could not be judged, or the configured fault never reached canary
  traffic (then the fault-dependent measures are not judged at all);
- GO only when every judged measure passed, the fault reached traffic and the evidence is complete.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.model import Decision, Measure, Verdict
from harness.scenario.model import Expectations
from harness.scenario.policy import Policy
from harness.verdict.after import primary_untouched_measure, recovery_measure
from harness.verdict.evidence import Evidence, evidence_for
from harness.verdict.measure import (
    UNKNOWN_CAUSE,
    Terminal,
    first_mark,
    max_canary_weight,
    rollback_cause,
    tally,
    terminal,
    trigger_time,
)
from harness.verdict.path import path_measures
from harness.verdict.pause import pause_measures
from harness.verdict.reach import fault_reached
from harness.verdict.samples import low_sample_checks

FAULT_DEPENDENT = frozenset(
    {
        "outcome",
        "abort_within",
        "recovery_within",
        "rollback_cause",
        "progress_deadline",
        "first_failed_check_within",
        "pause_within",
    }
)


def evaluate(expect: Expectations, policy: Policy, evidence: Evidence) -> Verdict:
    """Judge one run. Never GO on missing evidence or on a fault that did not reach traffic."""
    missing = list(evidence.missing)
    trigger = trigger_time(evidence.marks)
    if trigger is None:
        missing.append("no trigger mark: the rollout start is unknown")
    if not evidence.samples:
        missing.append("no Canary status samples")
    if not evidence.load:
        missing.append("no load data")
    end = terminal(evidence.samples, trigger) if trigger is not None else None
    reach, reach_note = fault_reached(evidence, trigger, end)
    measures = _measures(expect, policy, evidence, trigger, end)
    if reach is False:
        measures = [
            _unjudged(m, "the fault never reached traffic") if m.name in FAULT_DEPENDENT else m
            for m in measures
        ]
    if evidence.fault_configured is not None:
        measures.append(Measure("fault_reached_traffic", _yes_no(reach), "yes", "", None, note=reach_note))
    warnings = tuple(
        low_sample_checks(
            evidence.load,
            evidence.samples,
            evidence.checks,
            interval=evidence.interval_seconds,
            window=evidence.metric_window_seconds,
            minimum=policy.min_samples_per_interval,
            canary_version=evidence.canary_version,
            trigger=trigger,
            origin=trigger or 0.0,
        )
    )
    return _decide(tuple(measures), evidence.complete, tuple(missing), reach, reach_note, warnings)


def _decide(
    measures: tuple[Measure, ...],
    complete: bool,
    missing: tuple[str, ...],
    reach: bool | None,
    reach_note: str,
    warnings: tuple[str, ...],
) -> Verdict:
    failed = [
        f"{m.name}: measured {_show(m.measured)} {m.unit}, limit {_show(m.limit)} {m.unit}".replace("  ", " ")
        + (f" ({m.note})" if m.note else "")
        for m in measures
        if m.passed is False
    ]
    unjudged = [
        f"{m.name} could not be judged ({m.note or 'no data'})"
        for m in measures
        if m.passed is None and m.name != "fault_reached_traffic" and not m.note.startswith("not expected")
    ]
    if not complete:
        return Verdict(
            Decision.INCOMPLETE, measures, ("the run did not complete", *missing, *failed), warnings
        )
    if missing:  # a NO-GO on partial evidence would blame the guardrail for the harness's loss
        partial = [f"on partial evidence: {reason}" for reason in failed]
        return Verdict(Decision.INCONCLUSIVE, measures, (*missing, *partial, *unjudged), warnings)
    if failed:
        return Verdict(Decision.NO_GO, measures, tuple(failed), warnings)
    reasons = list(unjudged)
    if reach is False:
        reasons.insert(0, f"the fault never reached traffic: {reach_note}")
    if reasons:
        return Verdict(Decision.INCONCLUSIVE, measures, tuple(reasons), warnings)
    return Verdict(Decision.GO, measures, (), warnings)


def _measures(
    expect: Expectations, policy: Policy, ev: Evidence, trigger: float | None, end: Terminal | None
) -> list[Measure]:
    if expect.outcome == "paused" and end is None:
        measures = [
            *pause_measures(expect, ev.samples, trigger, _onset(ev, trigger)),
            _max_weight(expect, ev),
        ]
    else:
        measures = [_outcome(expect, ev, trigger, end), _max_weight(expect, ev)]
    if expect.outcome == "rolled-back":
        measures.append(_abort_within(expect, ev, trigger, end))
    measures += _failed_requests(expect, ev)
    if expect.max_users_hurt is not None:
        measures.append(_users_hurt(expect, ev))
    if expect.outcome == "rolled-back" and expect.recovery_within_seconds is not None:
        measures.append(recovery_measure(expect, policy, ev, trigger, end))
    if expect.primary_untouched and expect.outcome == "rolled-back":
        measures.append(primary_untouched_measure(ev, trigger, end))
    if expect.outcome != "paused" or end is not None:  # a hold is no decision: pause_within judges it
        measures.append(_decision_within(policy, ev, trigger, end))
    cause = _cause(ev, trigger, end)
    if cause == "progress-deadline" or expect.rollback_cause == "progress-deadline":
        measures.append(_progress_deadline(ev, trigger, end))
    if expect.rollback_cause is not None:
        measures.append(_rollback_cause(expect, ev, cause))
    measures += path_measures(
        expect.path, ev.samples, ev.events, trigger=trigger, onset=_onset(ev, trigger), complete=ev.complete
    )
    return measures


def _outcome(expect: Expectations, ev: Evidence, trigger: float | None, end: Terminal | None) -> Measure:
    if end is None:
        passed = False if ev.complete and ev.samples and trigger is not None else None
        return Measure(
            "outcome", "not reached", expect.outcome, "", passed, note="no Succeeded/Failed phase seen"
        )
    return Measure("outcome", end.outcome, expect.outcome, "", end.outcome == expect.outcome)


def _abort_within(expect: Expectations, ev: Evidence, trigger: float | None, end: Terminal | None) -> Measure:
    limit = expect.abort_within_seconds
    onset = _onset(ev, trigger)
    if limit is None:
        return Measure("abort_within", None, None, "s", None, note="not expected")
    if onset is None:
        return Measure("abort_within", None, limit, "s", None, note="fault onset unknown")
    if end is None or end.outcome != "rolled-back":
        passed = False if ev.complete and ev.samples else None
        return Measure("abort_within", None, limit, "s", passed, note="no rollback")
    took = max(0.0, end.at - onset)
    return Measure(
        "abort_within", round(took, 3), limit, "s", took <= limit, note="from fault onset to rollback"
    )


def _onset(ev: Evidence, trigger: float | None) -> float | None:
    """Fault onset: the first ``fault_on`` mark; the trigger for a fault in the revision (or no fault)."""
    mark = first_mark(ev.marks, "fault_on")
    if mark is not None and (ev.fault_configured is None or not ev.fault_configured.from_start):
        return mark.at
    return trigger


def _max_weight(expect: Expectations, ev: Evidence) -> Measure:
    weight = max_canary_weight(ev.samples)
    limit = expect.max_canary_weight
    if limit is None:
        return Measure("max_canary_weight", weight, None, "%", None, note="not expected")
    return Measure("max_canary_weight", weight, limit, "%", None if weight is None else weight <= limit)


def _failed_requests(expect: Expectations, ev: Evidence) -> list[Measure]:
    total = tally(ev.load)
    measures = []
    if expect.max_failed_requests is not None:
        ok = total.bad <= expect.max_failed_requests if total.requests else None
        measures.append(Measure("max_failed_requests", total.bad, expect.max_failed_requests, "requests", ok))
    if expect.max_failed_fraction is not None:
        rate = total.rate
        ok = None if rate is None else rate <= expect.max_failed_fraction
        measured = None if rate is None else round(rate, 6)
        note = f"{total.bad} of {total.requests} requests"
        measures.append(
            Measure("max_failed_fraction", measured, expect.max_failed_fraction, "", ok, note=note)
        )
    return measures


def _users_hurt(expect: Expectations, ev: Evidence) -> Measure:
    users = {u for b in ev.load if b.version == ev.canary_version for u in b.hurt_users}
    ok = len(users) <= (expect.max_users_hurt or 0) if ev.load else None
    return Measure(
        "max_users_hurt", len(users), expect.max_users_hurt, "users", ok, note="hurt by the canary version"
    )


def _decision_within(policy: Policy, ev: Evidence, trigger: float | None, end: Terminal | None) -> Measure:
    limit = policy.progress_deadline_seconds
    note = "trigger → Succeeded/Failed (policy: longest experiment without a decision)"
    if trigger is None:
        return Measure("decision_within", None, limit, "s", None, note=note)
    if end is None:
        passed = False if ev.complete and ev.samples else None
        return Measure("decision_within", None, limit, "s", passed, note="no decision; " + note)
    took = end.at - trigger
    return Measure("decision_within", round(took, 3), limit, "s", took <= limit, note=note)


def _progress_deadline(ev: Evidence, trigger: float | None, end: Terminal | None) -> Measure:
    bound = ev.progress_deadline_seconds + 2 * ev.interval_seconds
    note = "trigger → rollback ≤ progressDeadlineSeconds + 2 intervals (detection + tick phase)"
    if trigger is None or end is None or end.outcome != "rolled-back":
        return Measure("progress_deadline", None, bound, "s", None, note="no rollback; " + note)
    took = end.at - trigger
    return Measure("progress_deadline", round(took, 3), bound, "s", took <= bound, note=note)


def _cause(ev: Evidence, trigger: float | None, end: Terminal | None) -> str | None:
    if trigger is None or end is None or end.outcome != "rolled-back":
        return None
    return rollback_cause(ev.events, trigger, max(end.at, end.sample.at))


def _rollback_cause(expect: Expectations, ev: Evidence, cause: str | None) -> Measure:
    if cause is None:
        return Measure("rollback_cause", None, expect.rollback_cause, "", None, note="no rollback")
    if cause == UNKNOWN_CAUSE:
        note = (
            f"Flagger's rollback events were not received ({len(ev.events)} events recorded, none "
            "'Canary failed!'): events lost or unreadable, the cause is unknown"
        )
        return Measure("rollback_cause", None, expect.rollback_cause, "", None, note=note)
    return Measure("rollback_cause", cause, expect.rollback_cause, "", cause == expect.rollback_cause)


def _unjudged(measure: Measure, why: str) -> Measure:
    return Measure(measure.name, measure.measured, measure.limit, measure.unit, None, measure.predicted, why)


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _show(value: float | str | None) -> str:
    if value is None:
        return "nothing"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Spread:
    """min / median / max of one measure over repeated runs (None when no run measured it)."""

    name: str
    unit: str
    count: int
    minimum: float | None
    median: float | None
    maximum: float | None


@dataclass(frozen=True)
class RepeatSummary:
    runs: int
    decisions: tuple[tuple[str, int], ...]
    spreads: tuple[Spread, ...]


def summarize_repeats(
    verdicts: Sequence[Verdict], names: Sequence[str] = ("abort_within", "max_users_hurt")
) -> RepeatSummary:
    """Spread of time-to-abort and users hurt (and any other numeric measures named) for ``--repeat N``."""
    spreads = []
    for name in names:
        values = [
            float(m.measured)
            for v in verdicts
            for m in v.measures
            if m.name == name and isinstance(m.measured, int | float)
        ]
        unit = next((m.unit for v in verdicts for m in v.measures if m.name == name), "")
        spreads.append(
            Spread(
                name,
                unit,
                len(values),
                min(values, default=None),
                statistics.median(values) if values else None,
                max(values, default=None),
            )
        )
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.decision] = counts.get(verdict.decision, 0) + 1
    return RepeatSummary(len(verdicts), tuple(sorted(counts.items())), tuple(spreads))


__all__ = [
    "Evidence",
    "RepeatSummary",
    "Spread",
    "evaluate",
    "evidence_for",
    "summarize_repeats",
]
