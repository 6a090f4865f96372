"""Held-out cases (issue 16) where the plan disagreed with the run: the planner now matches the controller."""

from __future__ import annotations

from harness.errors import NoValuesFound
from harness.plan import plan, predicted_measures

from ..flagger.rig import canary
from .emulate import emulate
from .test_worked_examples import LENIENT

TEN_SECONDS = {"interval": "10s", "threshold": 10, "stepWeight": 5}


class TestAllErrorsFromStart:
    """An all-500 canary has no non-5xx series: request-success-rate is "no values found" from tick one."""

    def test_worked_example_fails_on_the_first_analysis_tick_although_delta_exceeds_the_interval(self):
        """Interval 10 s, δ 10.6 s: first failure 0:20, weight 5 %, rollback 120 s after detection."""
        planned = plan(canary(TEN_SECONDS), rps=50, policy=LENIENT, detection_delay=0.0)
        case = planned.from_start
        assert planned.timeline.check_delay > planned.timeline.interval  # δ = 2 scrapes + W·1 % = 10.6 s
        assert (case.first_failing_at, case.weight_at_abort, case.rollback_at) == (20.0, 5, 120.0)
        predicted = predicted_measures(planned, "start")
        assert (predicted["max_canary_weight"], predicted["decision_within"]) == (5.0, 120.0)

    def test_the_emulated_controller_agrees(self):
        """The controller fed "no values found" for every check of the faulty canary does the same."""
        observed = emulate(canary(TEN_SECONDS), queries={"request-success-rate": lambda now: NoValuesFound()})
        assert observed.first_failing_tick == 2
        assert observed.weight_at_abort == 5
        assert observed.decided_tick == 12

    def test_a_partial_fault_still_waits_for_delta(self):
        """Half the requests failing keep a non-5xx series: the first check after δ fails, not the first."""
        planned = plan(canary(TEN_SECONDS), rps=50, policy=LENIENT, detection_delay=0.0, fault_error_rate=0.5)
        assert planned.timeline.check_delay > planned.timeline.interval
        assert planned.from_start.first_failing_at == 30.0
