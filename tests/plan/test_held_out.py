"""Held-out cases (issue 16) where the plan disagreed with the run: the planner now matches the controller."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from harness.errors import NoValuesFound
from harness.plan.gates import gate_checks, traefik_p99_ms
from harness.plan.planner import plan, predicted_measures
from harness.plan.predict import plan_for
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario
from harness.verdict.fault_effect import FaultExpectation

from ..flagger.rig import canary
from .emulate import emulate
from .test_worked_examples import LENIENT

CATALOG = Path(__file__).resolve().parents[2] / "scenarios"
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


def _scenario(tmp_path: Path, body: str) -> Scenario:
    shutil.copytree(CATALOG / "canaries", tmp_path / "canaries")
    shutil.copy(CATALOG / "policy.yaml", tmp_path / "policy.yaml")
    path = tmp_path / "held-out.yaml"
    path.write_text(textwrap.dedent(body))
    return load_scenario(path)


BELOW_GATE = """
    description: 0.3 % errors under a min-99 success rate
    revision: {version: "1.1.0", faults: [{kind: http_errors, rate: 0.003, status_codes: [500]}]}
    load: {users: 20, rps: 200}
    expect: {outcome: promoted}
"""
HEALTHY_STEP_15 = """
    description: healthy, stepWeight 15 up to maxWeight 40
    analysis: {stepWeight: 15, maxWeight: 40}
    load: {users: 20, rps: 200}
    expect: {outcome: promoted, max_canary_weight: 50}
"""


class TestPredictionsModelThisFault:
    """The predicted column comes from the planner's model of the scenario's own fault (issue 16, #3)."""

    def test_errors_below_the_success_rate_gate_are_predicted_to_be_promoted(self, tmp_path):
        """0.3 % 5xx keeps the success rate at 99.7 ≥ 99: promoted at 50 % after 9 intervals (D → I)."""
        scenario = _scenario(tmp_path, BELOW_GATE)
        _, predicted = plan_for(scenario, time_scale=60.0)
        assert predicted["outcome"] == "promoted"
        assert predicted["max_canary_weight"] == 50.0
        assert predicted["decision_within"] == 9 * 60.0  # n + 3 intervals after detection, D → I
        assert "abort_within" not in predicted
        # 0.3 % of the canary's requests over the healthy walk (50 % also while Promoting), 200/60 req/s
        weight_seconds = (10 + 20 + 30 + 40 + 50 + 50) * 60
        assert predicted["max_failed_requests"] == pytest.approx(0.003 * 200 / 60 / 100 * weight_seconds)

    @pytest.mark.parametrize("fault", ["", "fault: {spec: [{kind: memory_leak, bytes_per_request: 1024}]}"])
    def test_a_healthy_control_is_predicted_to_walk_its_own_weights(self, tmp_path, fault):
        """stepWeight 15 / maxWeight 40 walks 15 → 30 → 45 (overshoot) and promotes 6 intervals + D later,
        with no fault or one no check can see (was: 15 %, a rollback at 360 s)."""
        scenario = _scenario(tmp_path, HEALTHY_STEP_15 + "    " + fault + "\n")
        _, predicted = plan_for(scenario, time_scale=60.0)
        assert predicted["outcome"] == "promoted"
        assert predicted["max_canary_weight"] == 45.0
        assert predicted["decision_within"] == 7 * 60.0
        assert predicted["max_failed_requests"] == 0.0
        assert predicted["max_failed_fraction"] == 0.0

    def test_a_fault_that_crosses_the_gate_is_still_predicted_to_roll_back(self, tmp_path):
        """5 % errors take the success rate to 95 < 99: rolled back at 10 %."""
        scenario = _scenario(tmp_path, BELOW_GATE.replace("0.003", "0.05").replace("promoted", "rolled-back"))
        _, predicted = plan_for(scenario, time_scale=60.0)
        assert (predicted["outcome"], predicted["max_canary_weight"]) == ("rolled-back", 10.0)


class TestGateChecks:
    """Predicted check values inside the fault, against each metric's thresholdRange."""

    def test_success_rate_sees_only_server_errors(self):
        """A wrong body is bad for users but keeps request-success-rate at 100."""
        checks = {c.metric: c for c in gate_checks(canary(), FaultExpectation(error_fraction=1.0))}
        assert checks["request-success-rate"].crosses is False

    @pytest.mark.parametrize(
        ("added_ms", "fraction", "reported"),
        [(800, 1.0, 1191.0), (50, 1.0, 99.0), (1500, 0.005, 99.0), (1500, 0.04, 4050.0), (9000, 1.0, 5000.0)],
    )
    def test_request_duration_reads_traefiks_bucketed_p99(self, added_ms, fraction, reported):
        """Traefik buckets 0.1/0.3/1.2/5 s and linear interpolation, as flagger-semantics §3.2 lists."""
        assert traefik_p99_ms(added_ms, fraction) == pytest.approx(reported)
