"""Blast limits of a cohort experiment (pure): the cohort boundary, users hurt by cohort, segment faults.

Judged over ``LoadBucket``s that carry the users' cohort and route (the Locust child records both) and
that the canary workload served (``harness.verdict.attribution.canary_load``: the router's workload
header on the local backend, an estimate from the status timeline elsewhere). Times are emulated seconds.

- ``cohort_boundary``: no request from outside the experiment's cohorts was answered by the canary
  workload. A leak is a failed Measure with the count and the first leaked request: time, cohort, the
  headers its users send, route, status and workload. Without the workload header the window must end
  when promotion starts (the estimate cannot tell the workloads apart afterwards).
- ``users_hurt``: distinct users the canary gave a bad answer, inside vs outside the experiment's cohorts.
- ``segment_regression``: a fault scoped to one cohort or route, measured on the canary's answers inside
  that segment against the aggregate Flagger's checks see (they sum over all canary traffic), with
  whether Flagger's checks rolled it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.model import LoadBucket, Measure
from harness.scenario.cohorts import OUTSIDE, request_headers
from harness.scenario.model import Cohort

Window = tuple[float, float]  # [start, end) in emulated seconds, by bucket midpoint


def _in(buckets: Iterable[LoadBucket], window: Window | None) -> list[LoadBucket]:
    if window is None:
        return [b for b in buckets if b.requests > 0]
    lo, hi = window
    return [b for b in buckets if b.requests > 0 and lo <= b.start + b.duration / 2 < hi]


def cohort_boundary(
    canary_served: Sequence[LoadBucket],
    inside: Iterable[str],
    cohorts: Sequence[Cohort],
    window: Window | None = None,
    trigger: float | None = None,
) -> Measure:
    """0 canary answers to requests outside ``inside`` cohorts in ``window``; else NO-GO with the first
    (its time on the run clock, or after ``trigger`` when given)."""
    allowed = frozenset(inside)
    served = _in(canary_served, window)
    leaked = sorted(
        (b for b in served if b.cohort not in allowed), key=lambda b: (b.start, b.cohort, b.route, b.status)
    )
    count = sum(b.requests for b in leaked)
    reached = sum(b.requests for b in served if b.cohort in allowed)
    if not leaked:
        note = f"{reached} canary answers, all to cohorts {sorted(allowed)}"
        return Measure("cohort_boundary", 0, 0, "requests", True, note=note)
    first = leaked[0]
    declared = {c.name: c for c in cohorts}
    headers = request_headers(declared.get(first.cohort))
    shown = ", ".join(f"{name}: {value}" for name, value in headers) or "no cohort headers"
    origin = trigger or 0.0
    when = f"{first.start - origin:.0f}–{first.start + first.duration - origin:.0f} s"
    when = f"first at {when}" if trigger is None else f"first {when} after the trigger"
    note = (
        f"{count} requests from outside {sorted(allowed)} answered by the canary; {when}: "
        f"{first.first_user or 'a user'} "
        f"(cohort {_cohort_label(first.cohort)}; {shown}) {first.route or 'a request'} → {first.status} from "
        f"workload {first.workload or 'canary (estimated)'}, version {first.version}; "
        f"{reached} canary answers to the cohorts"
    )
    return Measure("cohort_boundary", count, 0, "requests", False, note=note)


def _cohort_label(name: str) -> str:
    return "none: outside every cohort" if name == OUTSIDE else (name or "not recorded")


def users_hurt(
    canary_served: Sequence[LoadBucket],
    inside: Iterable[str],
    window: Window | None = None,
    *,
    inside_limit: int | None = None,
    outside_limit: int | None = None,
) -> tuple[Measure, Measure]:
    """Distinct users hurt by the canary inside and outside ``inside`` (a limit of None is not judged)."""
    allowed = frozenset(inside)
    hurt_in: set[str] = set()
    hurt_out: set[str] = set()
    for bucket in _in(canary_served, window):
        (hurt_in if bucket.cohort in allowed else hurt_out).update(bucket.hurt_users)
    return (
        _limit("users_hurt_inside_cohort", len(hurt_in), inside_limit, sorted(hurt_in)),
        _limit("users_hurt_outside_cohort", len(hurt_out), outside_limit, sorted(hurt_out)),
    )


def _limit(name: str, count: int, limit: int | None, users: list[str]) -> Measure:
    shown = ", ".join(users[:5]) + (" …" if len(users) > 5 else "")
    if limit is None:  # "not expected" keeps an unjudged figure from making the run INCONCLUSIVE
        return Measure(name, count, None, "users", None, note=f"not expected; hurt: {shown or 'nobody'}")
    return Measure(name, count, limit, "users", count <= limit, note=shown or "nobody")


SegmentKind = Literal["cohort", "route"]


@dataclass(frozen=True)
class SegmentFinding:
    """Canary answers inside one segment vs all canary answers (what the aggregate checks see)."""

    kind: SegmentKind
    name: str
    segment_requests: int
    segment_bad: int
    canary_requests: int
    canary_bad: int
    min_success_rate: float  # the success-rate check's threshold, percent
    caught: bool | None  # Flagger rolled back on failed checks; None = run undecided

    @property
    def segment_success(self) -> float | None:
        return None if not self.segment_requests else 100 * (1 - self.segment_bad / self.segment_requests)

    @property
    def aggregate_success(self) -> float | None:
        return None if not self.canary_requests else 100 * (1 - self.canary_bad / self.canary_requests)

    @property
    def regressed(self) -> bool:
        """The segment's canary answers break the success-rate threshold."""
        seg = self.segment_success
        return seg is not None and seg < self.min_success_rate

    @property
    def hidden(self) -> bool:
        """The segment breaks the threshold but the aggregate stays above it."""
        agg = self.aggregate_success
        return self.regressed and agg is not None and self.min_success_rate <= agg


def segment_finding(
    canary_served: Sequence[LoadBucket],
    kind: SegmentKind,
    name: str,
    window: Window | None,
    *,
    min_success_rate: float,
    caught: bool | None,
) -> SegmentFinding:
    canary = _in(canary_served, window)
    segment = [b for b in canary if (b.cohort if kind == "cohort" else b.route) == name]
    return SegmentFinding(
        kind,
        name,
        sum(b.requests for b in segment),
        sum(b.bad for b in segment),
        sum(b.requests for b in canary),
        sum(b.bad for b in canary),
        min_success_rate,
        caught,
    )


def segment_regression(finding: SegmentFinding, expect_caught: bool | None = None) -> Measure:
    """The segment's canary success next to the aggregate, and whether Flagger's checks caught it.

    Passes when the segment regressed and Flagger did what ``expect_caught`` says; not judged when the
    segment got no canary answers or did not regress (the scenario's premise did not hold)."""
    seg, agg = finding.segment_success, finding.aggregate_success
    if seg is None or agg is None:
        note = f"no canary answers in {finding.kind} {finding.name}"
        return Measure("segment_regression", None, finding.min_success_rate, "%", None, note=note)
    verdict = {True: "caught it (rolled back)", False: "missed it (promoted)", None: "did not decide"}
    visible = "hidden from" if finding.hidden else "visible to"
    note = (
        f"{finding.kind} {finding.name}: {seg:.2f} % success on the canary ({finding.segment_bad}/"
        f"{finding.segment_requests} bad), aggregate {agg:.2f} % vs min {finding.min_success_rate:g} % — "
        f"{visible} the aggregate check; Flagger's checks {verdict[finding.caught]}"
    )
    if not finding.regressed:
        note = f"the segment did not regress: {note}"
        passed = None
    elif expect_caught is None or finding.caught is None:
        passed = None
    else:
        passed = finding.caught == expect_caught
    if expect_caught is not None:
        note += f"; expected: {'caught' if expect_caught else 'missed'}"
    return Measure("segment_regression", round(seg, 3), finding.min_success_rate, "%", passed, note=note)
