"""Canary traffic is the canary workload's, not the canary version's (issue 16, defect 1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.controllers.flagger.model import CanaryStatus, MetricResult, Phase
from harness.model import LoadBucket, Mark, StatusSample
from harness.scenario.model import Expectations
from harness.scenario.policy import Policy
from harness.verdict.attribution import canary_load
from harness.verdict.evidence import Evidence
from harness.verdict.fault_effect import FaultExpectation
from harness.verdict.judge import evaluate
from harness.verdict.measure import window_tally
from harness.verdict.reach import fault_reached

from .timeline import Story

STABLE, CANARY = "1.0.0", "1.1.0"
RUNTIME_ERRORS = FaultExpectation(error_fraction=1.0, from_start=False)
# Promoting at 540 (primary gets 1.1.0, router still 50/50), Finalising at 600 (0 %), Succeeded at 660.
PHASES = ((60, Phase.PROGRESSING, 10), (540, Phase.PROMOTING, 50), (600, Phase.FINALISING, 0))


def bucket(start: float, version: str, requests: int, bad: int, workload: str) -> LoadBucket:
    status = 500 if bad else 200
    return LoadBucket(start, 10.0, version, status, requests, bad, 5, 9, 12, 20, (), workload)


def promoted_run(*, recorded: bool) -> Evidence:
    """Fault on at 570 while Promoting: 30 canary requests, all bad; the promoted primary serves 150 good."""
    samples = [
        StatusSample(at, CanaryStatus(phase, weight), (100 - weight, weight)) for at, phase, weight in PHASES
    ]
    samples.append(StatusSample(660, CanaryStatus(Phase.SUCCEEDED, 0), (100, 0)))
    load: list[LoadBucket] = []
    for start in range(-120, 720, 10):
        primary_version = CANARY if start >= 540 else STABLE
        weight = 0 if start < 60 or start >= 600 else (10 if start < 540 else 50)
        canary_requests = 20 * weight // 100
        bad = canary_requests if 570 <= start < 600 else 0
        load.append(bucket(start, primary_version, 20 - canary_requests, 0, "primary"))
        if canary_requests:
            load.append(bucket(start, CANARY, canary_requests, bad, "canary"))
    if not recorded:  # kubernetes: Traefik does not say which child answered
        load = [replace(b, workload="") for b in load]
    marks = (Mark(-120, "stage", "baseline"), Mark(0, "trigger", ""), Mark(570, "fault_on", "runtime"))
    return Evidence(tuple(samples), (), (), tuple(load), marks, 60.0, STABLE, CANARY, RUNTIME_ERRORS)


class TestFaultAfterPromotion:
    @pytest.mark.parametrize("recorded", [True, False], ids=["router-header", "status-timeline"])
    def test_every_canary_request_in_the_fault_window_failed(self, recorded):
        """30 of 30 canary requests failed; the primary's 150 good 1.1.0 answers are not the canary's."""
        reached, note = fault_reached(promoted_run(recorded=recorded), 0.0, None)
        assert reached is True
        assert "canary bad rate 1.000" in note
        assert "over 30 requests" in note

    def test_the_note_says_how_the_workload_was_known(self):
        """Local runs use the router's header; kubernetes runs say the split is an estimate."""
        assert "router's header" in fault_reached(promoted_run(recorded=True), 0.0, None)[1]
        assert "estimated" in fault_reached(promoted_run(recorded=False), 0.0, None)[1]


class TestLowSamplesCountTheMetricWindow:
    """The warning counts what the query's window holds, not one analysis interval (issue 16, defect 4)."""

    def story(self) -> Story:
        """Interval 30 s, metric window 1m, 1 canary request per 30 s at 10 %: 2 per window."""
        s = Story()
        s.mark("stage", "baseline")
        s.tick(Phase.INITIALIZED)
        s.traffic(120, 0, per_bucket=10, bucket=30.0)
        s.mark("trigger")
        s.tick(Phase.PROGRESSING, 0)
        s.traffic(30, 0, per_bucket=10, bucket=30.0)
        s.tick(Phase.PROGRESSING, 10)
        for _ in range(4):
            s.traffic(30, 10, per_bucket=10, bucket=30.0)
            s.tick(Phase.PROGRESSING, 10)
        return s

    def test_a_thirty_second_interval_with_a_one_minute_window_sees_two_requests(self):
        """Checks at 1:30 and later see 2 requests (was: 1 per 30 s interval); the first still holds 0 %."""
        s = self.story()
        checks = tuple(
            MetricResult(at, "request-success-rate", "q", 100.0, True) for at in (180.0, 210.0, 240.0, 270.0)
        )
        evidence = replace(s.evidence(checks=checks), interval_seconds=30.0, metric_window_seconds=60.0)
        warnings = evaluate(Expectations("promoted"), Policy(min_samples_per_interval=5), evidence).warnings
        assert warnings[0] == (
            "check at 1:00 after the trigger (canary weight 10%): 1 canary requests in its 1m metric window"
            " < 5 minimum — no sample, no signal"
        )
        assert all("2 canary requests in its 1m metric window" in w for w in warnings[1:])
        assert len(warnings) == 4

    def test_the_report_table_counts_the_same_windows(self):
        """``interval_samples`` and the warnings share one count (``measure.window_tally``)."""
        s = self.story()
        served = canary_load(s.load, s.samples, CANARY, trigger=120.0)
        assert window_tally(served, 210.0 - 60.0, 210.0) == (2.0, 0.0)


class TestTimelineEstimate:
    """Without the router's header (kubernetes) the split after promotion follows the router weights."""

    def test_a_faulty_revision_shares_its_bad_requests_pro_rata(self):
        """The promoted primary runs the faulty revision too: half of a 50/50 bucket's failures."""
        load = [bucket(545, CANARY, 20, 20, ""), bucket(545, STABLE, 0, 0, "")]
        samples = [StatusSample(540, CanaryStatus(Phase.PROMOTING, 50), (50, 50))]
        served = canary_load(load, samples, CANARY, trigger=0.0, fault_in_revision=True)
        assert [(b.requests, b.bad) for b in served] == [(10, 10)]

    def test_a_run_time_fault_sends_the_bad_requests_to_the_canary_first(self):
        """Only the canary's pods got the fault: its 10 requests are the 10 failures, not 5 of them."""
        load = [bucket(545, CANARY, 10, 10, ""), bucket(545, CANARY, 10, 0, "")]
        samples = [StatusSample(540, CanaryStatus(Phase.PROMOTING, 50), (50, 50))]
        served = canary_load(load, samples, CANARY, trigger=0.0)
        assert [(b.requests, b.bad) for b in served] == [(10, 10)]

    def test_before_promotion_every_canary_version_request_is_the_canary_s(self):
        """While Progressing the primary still runs the stable revision."""
        load = [bucket(65, CANARY, 2, 1, "")]
        samples = [StatusSample(60, CanaryStatus(Phase.PROGRESSING, 10), (90, 10))]
        assert canary_load(load, samples, CANARY, trigger=0.0) == load
