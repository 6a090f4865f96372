"""Blast limits of a cohort experiment (pure): the cohort boundary, users hurt by cohort, segment faults.

Judged over ``CohortBucket``s, the per-cohort form of the load records (one per time bucket, cohort, route,
version and status; the Locust child is to write them next to ``LoadBucket``). Times are emulated seconds.

- ``cohort_boundary``: during the experiment window no request from outside the cohorts the Canary's
  ``match`` captures may be answered by the canary version. A leak is a failed Measure with the count and
  the first leaked request. The window must end when promotion starts: from then on the primary runs the
  new version too, and "answered by the new version" no longer means "routed to the canary".
- ``users_hurt``: distinct users that got a bad answer, inside vs outside the captured cohorts.
- ``segment_regression``: a fault scoped to one cohort or route, measured on the canary's answers inside
  that segment against the aggregate Flagger's checks see (they sum over all canary traffic), with whether
  Flagger rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.model import Measure


@dataclass(frozen=True)
class CohortBucket:
    """Requests of one time bucket, for one cohort, route, app version and status (0 = no response)."""

    start: float
    duration: float
    cohort: str  # cohort name, or harness.scenario.cohorts.OUTSIDE
    route: str  # "GET /api/orders"
    version: str  # X-App-Version of the answers
    status: int
    requests: int
    bad: int
    users: tuple[str, ...] = ()  # users with a request in this bucket, sorted
    hurt_users: tuple[str, ...] = ()  # users that got a bad answer in this bucket

    @property
    def end(self) -> float:
        return self.start + self.duration


Window = tuple[float, float]  # [start, end) in emulated seconds


def _in(buckets: Iterable[CohortBucket], window: Window | None) -> list[CohortBucket]:
    if window is None:
        return list(buckets)
    lo, hi = window
    return [b for b in buckets if lo <= b.start + b.duration / 2 < hi]


def cohort_boundary(
    load: Sequence[CohortBucket], captured: Iterable[str], canary_version: str, window: Window | None
) -> Measure:
    """0 canary answers to requests outside ``captured`` cohorts in ``window``; else NO-GO with the first."""
    inside = frozenset(captured)
    on_canary = [b for b in _in(load, window) if b.version == canary_version and b.requests > 0]
    leaked = sorted(
        (b for b in on_canary if b.cohort not in inside), key=lambda b: (b.start, b.cohort, b.route)
    )
    count = sum(b.requests for b in leaked)
    reached = sum(b.requests for b in on_canary if b.cohort in inside)
    if not leaked:
        note = f"{reached} canary answers, all to cohorts {sorted(inside)}"
        return Measure("cohort_boundary", 0, 0, "requests", True, note=note)
    first = leaked[0]
    who = first.users[0] if first.users else "an unknown user"
    note = (
        f"first leak at {first.start:.0f}–{first.end:.0f} s: {who} (cohort {first.cohort}) {first.route} "
        f"answered by canary {canary_version} with {first.status}; {reached} answers to the cohorts"
    )
    return Measure("cohort_boundary", count, 0, "requests", False, note=note)


def users_hurt(
    load: Sequence[CohortBucket],
    captured: Iterable[str],
    window: Window | None = None,
    *,
    inside_limit: int | None = None,
    outside_limit: int | None = None,
) -> tuple[Measure, Measure]:
    """Distinct hurt users inside and outside the captured cohorts (a limit of None is not judged)."""
    inside = frozenset(captured)
    hurt_in: set[str] = set()
    hurt_out: set[str] = set()
    for bucket in _in(load, window):
        (hurt_in if bucket.cohort in inside else hurt_out).update(bucket.hurt_users)
    return (
        _limit("users_hurt_inside_cohort", len(hurt_in), inside_limit, sorted(hurt_in)),
        _limit("users_hurt_outside_cohort", len(hurt_out), outside_limit, sorted(hurt_out)),
    )


def _limit(name: str, count: int, limit: int | None, users: list[str]) -> Measure:
    passed = None if limit is None else count <= limit
    shown = ", ".join(users[:5]) + (" …" if len(users) > 5 else "")
    return Measure(name, count, limit, "users", passed, note=shown or "nobody")


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
    def hidden(self) -> bool:
        """The segment breaks the threshold but the aggregate stays above it."""
        seg, agg = self.segment_success, self.aggregate_success
        return seg is not None and agg is not None and seg < self.min_success_rate <= agg


def segment_finding(
    load: Sequence[CohortBucket],
    kind: SegmentKind,
    name: str,
    canary_version: str,
    window: Window | None,
    *,
    min_success_rate: float,
    caught: bool | None,
) -> SegmentFinding:
    canary = [b for b in _in(load, window) if b.version == canary_version]
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
    """The segment's canary success next to the aggregate, and whether Flagger's checks caught it."""
    seg, agg = finding.segment_success, finding.aggregate_success
    if seg is None or agg is None:
        return Measure(
            "segment_regression", None, None, "%", None, note=f"no canary answers in {finding.name}"
        )
    verdict = {True: "caught it (rolled back)", False: "missed it (promoted)", None: "did not decide"}
    visible = "hidden from" if finding.hidden else "visible to"
    note = (
        f"{finding.kind} {finding.name}: {seg:.2f} % success on the canary ({finding.segment_bad}/"
        f"{finding.segment_requests} bad), aggregate {agg:.2f} % vs min {finding.min_success_rate:g} % — "
        f"{visible} the aggregate check; Flagger {verdict[finding.caught]}"
    )
    passed = None if expect_caught is None or finding.caught is None else finding.caught == expect_caught
    return Measure("segment_regression", round(seg, 3), finding.min_success_rate, "%", passed, note=note)
