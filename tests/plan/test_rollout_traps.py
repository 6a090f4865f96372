"""Traps, limits and the CLI of the Argo Rollouts plan (docs/argo-rollouts-semantics.md §9.1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.plan.rollout import plan_rollout
from harness.plan.rollout_model import RolloutPlan
from harness.plan.rollout_predict import rollout_predicted_measures
from harness.scenario.argo_rollout import parse_bundle
from harness.scenario.policy import Policy
from harness.verdict.path import show_path

from ..controllers.argo_rollouts.rig import DATA, manifests

ARGS = [{"name": "service", "value": "test-podinfo-canary"}]
BACKGROUND = {"templates": [{"templateName": "success-rate"}], "args": ARGS}
STEP_ANALYSIS = {"analysis": {"templates": [{"templateName": "success-rate"}], "args": ARGS}}
LENIENT = Policy(max_canary_weight=100, progress_deadline_seconds=1e9, abort_within_seconds=None)


def planned(
    rollout: Mapping[str, Any] | None = None,
    metric: Mapping[str, Any] | None = None,
    policy: Policy = LENIENT,
    **kwargs: Any,
) -> RolloutPlan:
    return plan_rollout(
        parse_bundle(manifests(rollout, metric), "rollout.yaml"), rps=100, policy=policy, **kwargs
    )


def codes(plan: RolloutPlan) -> dict[str, str]:
    return {t.code: t.severity for t in plan.traps}


class TestTraps:
    def test_indefinite_pause_without_analysis_is_an_error(self) -> None:
        plan = planned(
            {"analysis": None, "steps": [{"setWeight": 20}, STEP_ANALYSIS, {"pause": {}}]}, {"count": 2}
        )
        assert codes(plan)["pause-indefinite-unguarded"] == "error"
        assert plan.healthy.outcome == "paused"
        assert plan.verdict == "NO-GO"

    def test_indefinite_pause_under_a_running_background_is_only_a_warning(self) -> None:
        plan = planned(
            {"analysis": {**BACKGROUND, "startingStep": 1}, "steps": [{"setWeight": 20}, {"pause": {}}]}
        )
        assert codes(plan)["pause-indefinite"] == "warning"
        assert "pause-indefinite-unguarded" not in codes(plan)
        assert plan.from_start.outcome == "aborted"

    def test_background_count_that_ends_before_the_pause_leaves_it_unguarded(self) -> None:
        rollout = {
            "analysis": {**BACKGROUND, "startingStep": 1},
            "steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}, {"pause": {}}],
        }
        plan = planned(rollout, {"count": 2})
        assert codes(plan)["pause-indefinite-unguarded"] == "error"
        assert codes(plan)["background-ends-early"] == "warning"

    def test_background_starting_after_the_weight_passes_the_limit(self) -> None:
        policy = Policy(max_canary_weight=50)
        plan = planned({"analysis": {**BACKGROUND, "startingStep": 5}}, policy=policy)
        assert codes(plan)["background-starts-after-max-weight"] == "error"
        assert "background-starts-after-max-weight" not in codes(planned(policy=policy))

    def test_failure_limit_times_interval_beyond_abort_within(self) -> None:
        policy = Policy(max_canary_weight=100, abort_within_seconds=120)
        plan = planned(metric={"failureLimit": 3}, policy=policy)
        assert codes(plan)["failure-limit-too-slow"] == "error"  # δ 13 s + 3 × 1m > 2m
        assert "failure-limit-too-slow" not in codes(planned(metric={"failureLimit": 0}, policy=policy))

    def test_consecutive_error_limit_for_error_faults(self) -> None:
        policy = Policy(max_canary_weight=100, abort_within_seconds=30)
        plan = planned(
            metric={"consecutiveErrorLimit": 4}, policy=policy, fault_effect="error", check_delay=0.0
        )
        assert codes(plan)["failure-limit-too-slow"] == "error"  # 4 × 10 s > 30 s

    def test_count_that_cannot_fail(self) -> None:
        rollout = {"analysis": None, "steps": [{"setWeight": 20}, STEP_ANALYSIS]}
        plan = planned(rollout, {"count": 2, "failureLimit": 2})
        assert codes(plan)["count-cannot-fail"] == "error"
        assert plan.from_start.outcome == "promoted"  # the planner agrees: an all-failing canary passes

    def test_step_analysis_without_count_never_completes(self) -> None:
        plan = planned({"analysis": None, "steps": [{"setWeight": 20}, STEP_ANALYSIS]})
        assert codes(plan)["analysis-step-never-completes"] == "error"
        assert plan.healthy.outcome == "paused"

    def test_dry_run_metrics_cannot_abort(self) -> None:
        analysis = {**BACKGROUND, "startingStep": 1, "dryRun": [{"metricName": "success-rate"}]}
        plan = planned({"analysis": analysis})
        assert codes(plan)["dry-run-only"] == "error"
        assert codes(plan)["dry-run-metric"] == "info"
        assert plan.from_start.outcome == "promoted"

    def test_minimum_sample(self) -> None:
        plan = planned()
        assert codes(plan)["no-minimum-sample"] == "warning"
        low = planned(policy=Policy(max_canary_weight=100, min_samples_per_interval=5000))
        assert codes(low)["low-samples"] == "warning"

    def test_a_sample_guard_metric_silences_the_minimum_sample_trap(self) -> None:
        guard = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisTemplate",
            "metadata": {"name": "sample-size", "namespace": "test"},
            "spec": {
                "metrics": [
                    {
                        "name": "canary-requests",
                        "interval": "1m",
                        "successCondition": "result[0] >= 50",
                        "provider": {
                            "prometheus": {
                                "address": "http://127.0.0.1:9090",
                                "query": "sum(increase(traefik_service_requests_total[1m]))",
                            }
                        },
                    }
                ]
            },
        }
        analysis = {
            "templates": [{"templateName": "success-rate"}, {"templateName": "sample-size"}],
            "args": ARGS,
            "startingStep": 1,
        }
        bundle = parse_bundle(manifests({"analysis": analysis}, None, [guard]), "rollout.yaml")
        plan = plan_rollout(bundle, rps=100, policy=LENIENT)
        assert "no-minimum-sample" not in codes(plan)

    def test_background_from_weight_zero(self) -> None:
        plan = planned({"analysis": BACKGROUND})
        assert codes(plan)["background-from-weight-0"] == "warning"
        assert "background-from-weight-0" not in codes(planned())

    def test_faults_after_the_last_measurements_escape(self) -> None:
        plan = planned()
        assert plan.blind is not None
        assert plan.blind.closes_at == 360.0
        assert codes(plan)["post-promotion-blind"] == "warning"


class TestLimits:
    def test_example_a_against_the_default_policy(self) -> None:
        plan = planned(policy=Policy())
        checks = {c.name: c for c in plan.limits}
        assert checks["max_canary_weight"].predicted == 80
        assert not checks["max_canary_weight"].passed
        assert checks["abort_within"].predicted is None  # a fault at 80 % is promoted
        assert any("pause ≥" in r for r in checks["abort_within"].remedies)
        assert plan.verdict == "NO-GO"

    def test_a_well_tuned_rollout_is_go(self) -> None:
        steps = [
            {"setWeight": 10},
            {"pause": {"duration": "2m"}},
            {"setWeight": 25},
            {"pause": {"duration": "4m"}},
        ]
        plan = planned(
            {"analysis": {**BACKGROUND, "startingStep": 1}, "steps": steps}, {"failureLimit": 1}, Policy()
        )
        assert plan.verdict == "GO", plan.reasons
        assert plan.worst_onset is not None
        assert plan.worst_onset.latency is not None
        assert plan.worst_onset.latency <= 600

    def test_worst_onset_is_a_supremum_just_after_a_measurement(self) -> None:
        plan = planned(check_delay=0.0)
        worst = plan.worst_onset
        assert worst is not None
        assert worst.onset is not None
        assert worst.latency is not None
        # just after the measurement at 0 s: measurements 60, 120, 180 fail → abort at 180
        assert (worst.onset, worst.decided_at, worst.latency) == (0.0, 180.0, 180.0)


class TestCli:
    def bundle(self, tmp_path: Path) -> Path:
        text = (
            (DATA / "rollout-traefik.yaml").read_text()
            + "---\n"
            + (DATA / "analysis-success-rate.yaml").read_text()
        )
        path = tmp_path / "rollout.yaml"
        path.write_text(text)
        return path

    def test_plan_accepts_a_rollout_manifest(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(main, ["plan", str(self.bundle(tmp_path)), "--json"])
        assert result.exit_code == 1, result.output  # NO-GO against the default policy
        data = json.loads(result.output)
        assert data["controller"] == "argo-rollouts"
        assert data["healthy"]["decided_at"] == 360.0
        assert data["from_start"]["outcome"] == "aborted"

    def test_plan_renders_a_table(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(main, ["plan", str(self.bundle(tmp_path))])
        assert "Guardrail plan for Rollout podinfo.test" in result.output
        assert "NO-GO" in result.output

    def test_a_bad_rollout_is_a_located_error(self, tmp_path: Path) -> None:
        path = self.bundle(tmp_path)
        path.write_text(path.read_text().replace("setWeight: 40", "setWeight: 140"))
        result = CliRunner().invoke(main, ["plan", str(path)])
        assert result.exit_code == 2
        assert "rollout.yaml:" in result.output
        assert "setWeight" in result.output

    def test_an_argo_scenario_plans_its_rollout_bundle(self) -> None:
        path = Path(__file__).parents[2] / "scenarios" / "argo-5xx-first-step.yaml"
        result = CliRunner().invoke(main, ["plan", str(path), "--json", "--rps", "3.33"])
        assert result.exit_code in (0, 1), result.output
        data = json.loads(result.output)
        assert data["rollout"] == "faulty-app.canary-chaos"
        assert data["from_start"]["outcome"] == "aborted"

    def test_a_broken_argo_scenario_is_a_located_error(self, tmp_path: Path) -> None:
        path = tmp_path / "scenario.yaml"
        path.write_text("description: x\ncontroller: argo-rollouts\nrollout: [missing.yaml]\n")
        result = CliRunner().invoke(main, ["plan", str(path)])
        assert result.exit_code == 2
        assert "scenario.yaml" in result.output

    @pytest.mark.parametrize("name", ["docs-canary-traefik.yaml"])
    def test_a_rollout_copied_from_argo_docs_plans(self, name: str) -> None:
        path = Path(__file__).parent / "data" / name
        result = CliRunner().invoke(main, ["plan", str(path), "--json"])
        assert result.exit_code in (0, 1), result.output
        assert json.loads(result.output)["rollout"].startswith("rollouts-demo")


class TestPredictedMeasures:
    """What a verdict's predicted column gets for an argo-rollouts run."""

    def bundle(self, rollout: Mapping[str, Any] | None = None) -> Any:
        return parse_bundle(manifests(rollout, None), "rollout.yaml")

    def test_fault_from_the_start_is_example_b(self) -> None:
        predicted = rollout_predicted_measures(self.bundle(), "start", rps=100, check_delay=0.0)
        assert predicted["outcome"] == "rolled-back"
        assert predicted["abort_within"] == 120.0
        assert predicted["max_canary_weight"] == 40.0
        assert predicted["weights_walked"] == show_path((20, 40))
        # 100 req/s × 100 % broken: 20 % for 90 s + 40 % for 30 s
        assert predicted["max_failed_requests"] == pytest.approx(1800 + 1200)

    def test_a_fault_at_a_weight_starts_when_that_weight_takes_effect(self) -> None:
        predicted = rollout_predicted_measures(self.bundle(), ("weight", 40), rps=100, check_delay=0.0)
        assert predicted["abort_within"] == 240.0 - 90.0  # measurements at 120, 180, 240 fail

    def test_no_fault_is_the_healthy_update(self) -> None:
        predicted = rollout_predicted_measures(self.bundle(), None, rps=100)
        assert predicted["outcome"] == "promoted"
        assert predicted["decision_within"] == 360.0
        assert "abort_within" not in predicted
        assert predicted["weights_walked"] == show_path((20, 40, 60, 80))

    def test_a_fault_never_aborted_has_no_abort_within(self) -> None:
        predicted = rollout_predicted_measures(self.bundle(), 300.0, rps=100, check_delay=0.0)
        assert predicted["outcome"] == "promoted"
        assert "abort_within" not in predicted
        assert predicted["max_failed_requests"] == float("inf")
