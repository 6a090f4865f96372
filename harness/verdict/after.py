"""After the rollback: did the error rate recover, and did the primary stay untouched? (pure)

Requests in flight at the rollback are answered after it but were sent before it (a hung request is only
recorded when the client gives up), so neither measure counts what may predate the rollback.
"""

from __future__ import annotations

from harness.model import NO_VERSION, LoadBucket, Measure
from harness.scenario.model import Expectations
from harness.scenario.policy import Policy
from harness.verdict.evidence import Evidence
from harness.verdict.measure import Terminal, baseline_window, first_mark, recovery_time, tally


def recovery_measure(
    expect: Expectations, policy: Policy, ev: Evidence, trigger: float | None, end: Terminal | None
) -> Measure:
    limit = expect.recovery_within_seconds
    if trigger is None or end is None or end.outcome != "rolled-back":
        return Measure("recovery_within", None, limit, "s", None, note="no rollback to recover from")
    lo, hi = baseline_window(ev.marks, trigger)
    baseline = tally(b for b in ev.load if lo <= b.start + b.duration / 2 < hi).rate or 0.0
    threshold = max(baseline * policy.max_error_rate_ratio, policy.error_rate_floor)
    # Failures answered after the rollback by requests that may have been sent before it (a hung request
    # is only recorded when the client gives up) say nothing about recovery.
    in_flight = [
        b for b in ev.load if b.bad and b.start + b.duration > end.at and _may_predate(b, end.at, ev)
    ]
    after = [b for b in ev.load if b.start + b.duration > end.at and b not in in_flight]
    ratio, floor = policy.max_error_rate_ratio, policy.error_rate_floor
    note = f"error rate ≤ {threshold:.4f} (baseline {baseline:.4f} × {ratio:g}, floor {floor:g})"
    if in_flight:
        note += (
            f"; {sum(b.bad for b in in_flight)} failures of requests in flight at the rollback not counted"
        )
    if not after:
        return Measure("recovery_within", None, limit, "s", None, note="no load after the rollback; " + note)
    took = recovery_time(after, end.at, threshold)
    if took is None:
        return Measure("recovery_within", None, limit, "s", False, note="never recovered; " + note)
    return Measure("recovery_within", round(took, 3), limit, "s", limit is None or took <= limit, note=note)


def primary_untouched_measure(ev: Evidence, trigger: float | None, end: Terminal | None) -> Measure:
    if trigger is None:
        return Measure("primary_untouched", None, "untouched", "", None, note="trigger unknown")
    problems = []
    if any("template spec to" in e.message and e.at >= trigger for e in ev.events):
        problems.append("Flagger copied the canary template to the primary")
    promoted_specs = {
        s.status.last_promoted_spec for s in ev.samples if s.at >= trigger and s.status.last_promoted_spec
    }
    if len(promoted_specs) > 1:
        problems.append("lastPromotedSpec changed")
    if first_mark(ev.marks, "promotion", after=trigger) is not None:
        problems.append("a promotion was recorded")
    strangers = sorted({b.version for b in ev.load} - {ev.stable_version, ev.canary_version, NO_VERSION})
    if strangers:
        problems.append(f"unknown versions served traffic: {', '.join(strangers)}")
    if end is not None and end.outcome == "rolled-back":
        # One interval covers the bucket holding the rollback; slow answers sent before it are not late.
        grace = end.at + ev.interval_seconds
        late = tally(
            b for b in ev.load if b.version == ev.canary_version and not _may_predate(b, grace, ev)
        ).requests
        if late:
            problems.append(f"{late} requests answered by the canary version after the rollback")
    measured = "; ".join(problems) or "untouched"
    return Measure("primary_untouched", measured, "untouched", "", not problems)


def _may_predate(bucket: LoadBucket, at: float, ev: Evidence) -> bool:
    """Whether a request answered in ``bucket`` may have been sent before ``at`` (its slowest latency)."""
    earliest_sent = bucket.start - bucket.latency_max_ms / 1000 * ev.time_scale
    return earliest_sent < at
