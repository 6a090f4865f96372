"""Cohort experiment measures: boundary leaks, users hurt inside vs outside, segment regressions (pure)."""

from __future__ import annotations

from harness.scenario.cohorts import OUTSIDE
from harness.verdict.cohort import (
    CohortBucket,
    cohort_boundary,
    segment_finding,
    segment_regression,
    users_hurt,
)

CANARY, STABLE = "1.1.0", "1.0.0"


def bucket(start: float, cohort: str, version: str, requests: int, *, route: str = "GET /",
           status: int = 200, bad: int = 0, users: tuple[str, ...] = (),
           hurt: tuple[str, ...] = ()) -> CohortBucket:  # fmt: skip
    return CohortBucket(start, 10.0, cohort, route, version, status, requests, bad, users, hurt)


class TestCohortBoundary:
    def test_only_the_cohort_on_the_canary_passes(self) -> None:
        """Outside users all answered by the primary: 0 leaks, GO."""
        load = [bucket(100, "insider", CANARY, 30), bucket(100, OUTSIDE, STABLE, 270)]
        measure = cohort_boundary(load, {"insider"}, CANARY, (0, 600))
        assert (measure.name, measure.measured, measure.passed) == ("cohort_boundary", 0, True)
        assert "30 canary answers" in measure.note

    def test_a_leak_fails_with_count_and_first_example(self) -> None:
        """Outside requests on the canary: the count, and the earliest one with user, route and status."""
        load = [
            bucket(100, "insider", CANARY, 30),
            bucket(130, OUTSIDE, CANARY, 4, route="GET /api/orders", status=500, users=("u0007", "u0011")),
            bucket(120, "always", CANARY, 2, users=("u0018",)),
        ]
        measure = cohort_boundary(load, {"insider"}, CANARY, (0, 600))
        assert measure.passed is False
        assert measure.measured == 6
        assert "u0018" in measure.note
        assert "120–130 s" in measure.note
        assert "cohort always" in measure.note

    def test_answers_after_promotion_are_not_leaks(self) -> None:
        """Once Promoting starts the primary runs the new version: outside answers then do not count."""
        load = [bucket(100, "insider", CANARY, 30), bucket(700, OUTSIDE, CANARY, 300)]
        assert cohort_boundary(load, {"insider"}, CANARY, (0, 650)).passed is True
        assert cohort_boundary(load, {"insider"}, CANARY, None).passed is False


class TestUsersHurt:
    def test_inside_and_outside_are_counted_apart(self) -> None:
        """Distinct hurt users per side; each side judged against its own limit."""
        load = [
            bucket(100, "insider", CANARY, 30, bad=5, hurt=("u0000", "u0005")),
            bucket(110, "insider", CANARY, 30, bad=2, hurt=("u0005",)),
            bucket(110, OUTSIDE, STABLE, 200, bad=1, hurt=("u0001",)),
        ]
        inside, outside = users_hurt(load, {"insider"}, inside_limit=3, outside_limit=0)
        assert (inside.measured, inside.passed) == (2, True)
        assert (outside.measured, outside.passed) == (1, False)
        assert outside.note == "u0001"

    def test_no_limit_is_not_judged(self) -> None:
        """Without limits the counts are shown, passed is None."""
        inside, outside = users_hurt([], {"insider"})
        assert (inside.measured, inside.passed, outside.passed) == (0, None, None)


class TestSegmentRegression:
    LOAD = (
        bucket(100, "insider", CANARY, 40, route="GET /api/orders", bad=10),
        bucket(100, "insider", CANARY, 960, route="GET /"),
        bucket(100, OUTSIDE, STABLE, 9000),
    )

    def test_a_route_fault_hidden_from_the_aggregate(self) -> None:
        """25 % failing on one route, 99.0 % aggregate: hidden from a 99 % check; Flagger promoted."""
        finding = segment_finding(
            self.LOAD, "route", "GET /api/orders", CANARY, None, min_success_rate=99, caught=False
        )
        assert finding.segment_success == 75.0
        assert finding.aggregate_success == 99.0
        assert finding.hidden
        measure = segment_regression(finding, expect_caught=False)
        assert (measure.measured, measure.passed) == (75.0, True)
        assert "hidden from the aggregate check; Flagger missed it (promoted)" in measure.note

    def test_a_visible_fault_that_was_caught(self) -> None:
        """A cohort-wide fault drags the aggregate below the threshold; Flagger rolled back."""
        load = [bucket(100, "insider", CANARY, 100, bad=20)]
        finding = segment_finding(load, "cohort", "insider", CANARY, None, min_success_rate=99, caught=True)
        assert not finding.hidden
        measure = segment_regression(finding, expect_caught=False)
        assert measure.passed is False
        assert "visible to the aggregate check; Flagger caught it" in measure.note

    def test_no_canary_answers_cannot_be_judged(self) -> None:
        """A segment the canary never served: nothing to show."""
        finding = segment_finding([], "cohort", "insider", CANARY, None, min_success_rate=99, caught=None)
        assert segment_regression(finding).passed is None
