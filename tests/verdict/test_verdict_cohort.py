"""Cohort experiment measures: boundary leaks, users hurt inside vs outside, segment regressions (pure)."""

from __future__ import annotations

from dataclasses import replace

from harness.controllers.flagger.model import Phase
from harness.model import Decision, ExpectedVerdict, LoadBucket
from harness.scenario.cohorts import OUTSIDE
from harness.scenario.model import CohortExpectations, Expectations, SegmentExpectation
from harness.scenario.policy import Policy
from harness.verdict.cohort import cohort_boundary, segment_finding, segment_regression, users_hurt
from harness.verdict.judge import evaluate
from tests.cohort_fixtures import ALWAYS, INSIDER
from tests.verdict.timeline import CANARY, Story, promoted_story

COHORTS = (INSIDER, ALWAYS)


def bucket(start: float, cohort: str, version: str, requests: int, *, route: str = "GET /",
           status: int = 200, bad: int = 0, user: str = "", hurt: tuple[str, ...] = (),
           workload: str | None = None) -> LoadBucket:  # fmt: skip
    side = workload if workload is not None else ("canary" if version == CANARY else "primary")
    return LoadBucket(start, 10.0, version, status, requests, bad, 5, 10, 20, 30, hurt, side,
                      cohort=cohort, route=route, first_user=user)  # fmt: skip


class TestCohortBoundary:
    def test_only_the_cohort_on_the_canary_passes(self) -> None:
        """Outside users all answered by the primary: 0 leaks."""
        load = [bucket(100, "insider", CANARY, 30)]
        measure = cohort_boundary(load, {"insider"}, COHORTS)
        assert (measure.name, measure.measured, measure.passed) == ("cohort_boundary", 0, True)
        assert "30 canary answers" in measure.note

    def test_a_leak_fails_with_count_and_first_example(self) -> None:
        """Outside requests on the canary: the count, and the earliest with user, cohort headers, workload."""
        load = [
            bucket(100, "insider", CANARY, 30),
            bucket(130, OUTSIDE, CANARY, 4, route="GET /api/orders", status=500, user="u0007"),
            bucket(120, "always", CANARY, 2, user="u0018"),
        ]
        measure = cohort_boundary(load, {"insider"}, COHORTS)
        assert (measure.measured, measure.passed) == (6, False)
        assert "first at 120–130 s: u0018 (cohort always; Cookie: canary=always) GET / → 200" in measure.note
        assert "workload canary" in measure.note

    def test_an_outside_user_shows_it_sends_no_cohort_header(self) -> None:
        """The first leak of a user in no cohort says so."""
        measure = cohort_boundary([bucket(50, OUTSIDE, CANARY, 1, user="u0001")], {"insider"}, COHORTS)
        assert "cohort none: outside every cohort; no cohort headers" in measure.note

    def test_window_excludes_answers_after_promotion(self) -> None:
        """Without the workload header the window ends where promotion starts."""
        load = [bucket(100, "insider", CANARY, 30), bucket(700, OUTSIDE, CANARY, 300)]
        assert cohort_boundary(load, {"insider"}, COHORTS, (0, 650)).passed is True
        assert cohort_boundary(load, {"insider"}, COHORTS, None).passed is False


class TestUsersHurt:
    def test_inside_and_outside_are_counted_apart(self) -> None:
        """Distinct hurt users per side; each side judged against its own limit."""
        load = [
            bucket(100, "insider", CANARY, 30, bad=5, hurt=("u0000", "u0005")),
            bucket(110, "insider", CANARY, 30, bad=2, hurt=("u0005",)),
            bucket(110, OUTSIDE, CANARY, 200, bad=1, hurt=("u0001",)),
        ]
        inside, outside = users_hurt(load, {"insider"}, inside_limit=3, outside_limit=0)
        assert (inside.measured, inside.passed) == (2, True)
        assert (outside.measured, outside.passed) == (1, False)
        assert outside.note == "u0001"

    def test_no_limit_is_not_judged(self) -> None:
        """Without limits the counts are shown, passed is None, and the note keeps it from INCONCLUSIVE."""
        inside, outside = users_hurt([], {"insider"})
        assert (inside.measured, inside.passed, outside.passed) == (0, None, None)
        assert inside.note.startswith("not expected")


class TestSegmentRegression:
    LOAD = (
        bucket(100, "insider", CANARY, 40, route="GET /api/orders", bad=10),
        bucket(100, "insider", CANARY, 960, route="GET /"),
    )

    def test_a_route_fault_hidden_from_the_aggregate(self) -> None:
        """25 % failing on one route, 99.0 % aggregate: hidden from a 99 % check; Flagger promoted."""
        finding = segment_finding(
            self.LOAD, "route", "GET /api/orders", None, min_success_rate=99, caught=False
        )
        assert (finding.segment_success, finding.aggregate_success, finding.hidden) == (75.0, 99.0, True)
        measure = segment_regression(finding, expect_caught=False)
        assert (measure.measured, measure.passed) == (75.0, True)
        assert "hidden from the aggregate check; Flagger's checks missed it (promoted)" in measure.note

    def test_a_visible_fault_that_was_caught(self) -> None:
        """A cohort-wide fault drags the aggregate below the threshold; Flagger rolled back."""
        load = [bucket(100, "insider", CANARY, 100, bad=20)]
        finding = segment_finding(load, "cohort", "insider", None, min_success_rate=99, caught=True)
        assert not finding.hidden
        measure = segment_regression(finding, expect_caught=False)
        assert measure.passed is False
        assert "visible to the aggregate check; Flagger's checks caught it" in measure.note

    def test_a_segment_that_did_not_regress_is_not_judged(self) -> None:
        """The scenario's premise (a segment fault) did not hold: no pass, no fail."""
        finding = segment_finding(self.LOAD, "route", "GET /", None, min_success_rate=99, caught=False)
        measure = segment_regression(finding, expect_caught=False)
        assert measure.passed is None
        assert measure.note.startswith("the segment did not regress")

    def test_no_canary_answers_cannot_be_judged(self) -> None:
        """A segment the canary never served: nothing to show."""
        finding = segment_finding([], "cohort", "insider", None, min_success_rate=99, caught=None)
        assert segment_regression(finding).passed is None


def ab_story(*, leak: int = 0, orders_bad: int = 0) -> Story:
    """A promoted run whose canary answers 'insider' only (plus ``leak`` outside requests per bucket)."""
    story = promoted_story()
    load = []
    for b in story.load:
        if b.version == CANARY and b.start < 600:  # before Promoting: only the cohort reached the canary
            requests = 400 if orders_bad else b.requests  # orders are 1 % of the cohort's requests
            load.append(replace(b, cohort="insider", route="GET /", workload="canary", first_user="u0000",
                                requests=requests))  # fmt: skip
            if orders_bad:
                orders = replace(b, cohort="insider", route="GET /api/orders", workload="canary")
                load.append(replace(orders, requests=4, bad=orders_bad, status=500, hurt_users=("u0000",)))
            if leak:
                load.append(replace(b, cohort=OUTSIDE, route="GET /", workload="canary", requests=leak,
                                    first_user="u0003"))  # fmt: skip
        else:
            load.append(replace(b, cohort=OUTSIDE, route="GET /", workload="primary"))
    story.load = load
    return story


def judge(story: Story, **cohort_expect: object) -> tuple[str, dict[str, object]]:
    verdict_expect = cohort_expect.pop("verdict", ExpectedVerdict())
    expect = Expectations("promoted", cohorts=CohortExpectations(**cohort_expect),  # type: ignore[arg-type]
                          verdict=verdict_expect)  # type: ignore[arg-type]  # fmt: skip
    verdict = evaluate(expect, Policy(), story.evidence(cohorts=COHORTS, min_success_rate=99.0))
    return verdict.decision, {m.name: m for m in verdict.measures}


class TestJudged:
    def test_a_bounded_experiment_is_go(self) -> None:
        """Only the cohort reached the canary: cohort_boundary passes and the run is GO."""
        decision, measures = judge(ab_story(), boundary=("insider",), max_users_hurt_outside=0)
        assert decision == Decision.GO
        assert measures["cohort_boundary"].passed is True
        assert measures["users_hurt_outside_cohort"].passed is True

    def test_a_leak_is_no_go_naming_cohort_boundary(self) -> None:
        """Two outside requests per bucket on the canary: NO-GO with the count and the first one."""
        decision, measures = judge(ab_story(leak=2), boundary=("insider",))
        assert decision == Decision.NO_GO
        boundary = measures["cohort_boundary"]
        assert boundary.passed is False
        assert boundary.measured == 2 * 6 * 6
        first = (
            "first 60–70 s after the trigger: u0003 (cohort none: outside every cohort; no cohort headers)"
        )
        assert f"{first} GET /" in boundary.note

    def test_a_declared_no_go_counts_as_go_only_when_it_names_the_measure(self) -> None:
        """expect.verdict NO-GO on cohort_boundary: a leak run exits as GO; a clean run does not."""
        declared = ExpectedVerdict(Decision.NO_GO, ("cohort_boundary",))
        leak = evaluate(Expectations("promoted", cohorts=CohortExpectations(boundary=("insider",)),
                                     verdict=declared),
                        Policy(), ab_story(leak=2).evidence(cohorts=COHORTS))  # fmt: skip
        assert (leak.decision, leak.as_expected, leak.counted_decision) == ("NO-GO", True, "GO")
        clean = evaluate(Expectations("promoted", cohorts=CohortExpectations(boundary=("insider",)),
                                      verdict=declared),
                         Policy(), ab_story().evidence(cohorts=COHORTS))  # fmt: skip
        assert (clean.decision, clean.as_expected, clean.counted_decision) == ("GO", False, "NO-GO")
        other = replace(leak, expected=ExpectedVerdict(Decision.NO_GO, ("max_canary_weight",)))
        assert other.counted_decision == "NO-GO"

    def test_a_hidden_route_fault_shows_and_says_flagger_missed_it(self) -> None:
        """1 of 4 order requests fails per bucket: the route is at 75 %, the aggregate above 99 %."""
        decision, measures = judge(
            ab_story(orders_bad=1), segment=SegmentExpectation("route", "GET /api/orders", caught=False)
        )
        segment = measures["segment_regression"]
        assert segment.measured == 75.0
        assert segment.passed is True
        assert "hidden from the aggregate check; Flagger's checks missed it (promoted)" in segment.note
        assert decision == Decision.GO

    def test_a_route_segment_without_cohorts(self) -> None:
        """segment_regression on a route needs no cohorts; the users-hurt pair does."""
        story = ab_story(orders_bad=1)
        expect = Expectations(
            "promoted",
            cohorts=CohortExpectations(segment=SegmentExpectation("route", "GET /api/orders", False)),
        )
        verdict = evaluate(expect, Policy(), story.evidence(min_success_rate=99.0))
        names = {m.name for m in verdict.measures}
        assert "segment_regression" in names
        assert "users_hurt_inside_cohort" not in names

    def test_no_cohorts_no_cohort_measures(self) -> None:
        """A scenario without cohorts gets none of these measures."""
        verdict = evaluate(Expectations("promoted"), Policy(), promoted_story().evidence())
        assert not {m.name for m in verdict.measures} & {"cohort_boundary", "users_hurt_inside_cohort"}

    def test_estimated_workloads_stop_the_window_at_promotion(self) -> None:
        """Without the workload header, canary-version answers to outsiders after Promoting are no leak."""
        story = ab_story()
        story.load = [replace(b, workload="") for b in story.load]
        story.load.append(bucket(490, OUTSIDE, CANARY, 50, workload=""))  # Promoting began at 480
        _, measures = judge(story, boundary=("insider",))
        assert measures["cohort_boundary"].passed is True
        assert any(s.status.phase == Phase.PROMOTING and s.at == 480 for s in story.samples)
