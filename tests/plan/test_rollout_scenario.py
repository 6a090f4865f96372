"""Argo scenarios: which metrics see the fault, and the plan / predictions a run's verdict gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.plan.predict import plan_for
from harness.plan.rollout_scenario import metric_effects
from harness.plan.schedule import analysis_seconds
from harness.scenario.argo_rollout import load_bundle
from harness.scenario.loader import load_scenario
from harness.verdict.fault_effect import FaultExpectation

SCENARIOS = Path(__file__).parents[2] / "scenarios"
ROLLOUTS = SCENARIOS / "rollouts"


def bundle(rollout: str) -> RolloutBundle:
    return load_bundle(ROLLOUTS / rollout, ROLLOUTS / "analysis.yaml")


class TestMetricEffects:
    def test_five_percent_5xx_fails_the_success_rate_only(self) -> None:
        seen = metric_effects(bundle("faulty-app.yaml"), FaultExpectation(0.05, 0.05))
        assert seen == {"success-rate": "failed"}

    def test_errors_below_the_bound_are_not_seen(self) -> None:
        assert metric_effects(bundle("faulty-app.yaml"), FaultExpectation(0.005, 0.005)) == {}

    def test_all_5xx_with_or_vector_is_a_failure_not_an_error(self) -> None:
        seen = metric_effects(bundle("faulty-app.yaml"), FaultExpectation(1.0, 1.0))
        assert seen["success-rate"] == "failed"

    def test_a_band_between_the_conditions_is_inconclusive(self) -> None:
        seen = metric_effects(bundle("faulty-app-band.yaml"), FaultExpectation(0.2, 0.2))
        assert seen == {"success-rate-band": "inconclusive"}
        seen = metric_effects(bundle("faulty-app-band.yaml"), FaultExpectation(0.6, 0.6))
        assert seen == {"success-rate-band": "failed"}

    def test_latency_over_the_p99_bound_fails_the_latency_metric(self) -> None:
        slow = FaultExpectation(added_latency_ms=800, latency_fraction=1.0)
        assert metric_effects(bundle("faulty-app.yaml"), slow) == {"p99-latency-ms": "failed"}
        fast = FaultExpectation(added_latency_ms=300, latency_fraction=1.0)
        assert metric_effects(bundle("faulty-app.yaml"), fast) == {}


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("argo-5xx-first-step.yaml", "rolled-back"),
        ("argo-failing-background-analysis.yaml", "rolled-back"),
        ("argo-healthy-control.yaml", "promoted"),
        ("argo-inconclusive-control.yaml", "promoted"),
        ("argo-inconclusive-pause.yaml", "paused"),
        ("argo-latency-bloat.yaml", "rolled-back"),
        ("argo-slow-burn.yaml", "rolled-back"),
    ],
)
def test_each_shipped_argo_scenario_gets_a_plan_and_the_expected_outcome(name: str, outcome: str) -> None:
    scenario = load_scenario(SCENARIOS / name)
    planned, predicted = plan_for(scenario, time_scale=60.0)
    assert planned is not None
    assert planned["controller"] == "argo-rollouts"
    assert predicted["outcome"] == outcome == scenario.expect.outcome
    limit = scenario.expect.max_canary_weight
    assert limit is None or float(predicted["max_canary_weight"]) <= limit
    if outcome == "rolled-back" and scenario.expect.abort_within_seconds is not None:
        assert float(predicted["abort_within"]) <= scenario.expect.abort_within_seconds


def test_the_schedule_uses_the_rollout_plan() -> None:
    seconds, basis = analysis_seconds(load_scenario(SCENARIOS / "argo-healthy-control.yaml"))
    assert (seconds, basis) == (400.0, "planner: healthy Rollout update")  # five 80 s pauses


def test_an_inconclusive_step_analysis_is_predicted_to_pause() -> None:
    scenario = load_scenario(SCENARIOS / "argo-inconclusive-pause.yaml")
    _, predicted = plan_for(scenario, time_scale=60.0)
    assert predicted["pause_reason"] == "InconclusiveAnalysisRun"
    assert predicted["pause_within"] == 30.0  # initialDelay 30 s: the first measurement is Inconclusive
    assert (
        scenario.expect.pause_within_seconds is None
        or predicted["pause_within"] <= scenario.expect.pause_within_seconds
    )
