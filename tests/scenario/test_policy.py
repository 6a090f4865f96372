"""Policy files: defaults from the seeds, strict validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.controllers.flagger.model import AnalysisSpec, CanarySpec, MetricSpec, ThresholdRange
from harness.errors import ScenarioError
from harness.scenario.policy import (
    DEFAULT_POLICY,
    POLICY_KEYS,
    Policy,
    find_policy,
    load_policy,
    policy_warnings,
    reachable_weight,
)

from .conftest import CATALOG


class TestPolicy:
    def test_shipped_policy_states_the_defaults(self) -> None:
        """scenarios/policy.yaml sets every key, to the same values as the built-in defaults."""
        shipped = load_policy(CATALOG / "policy.yaml")
        assert shipped == Policy(source=str(CATALOG / "policy.yaml"))
        assert (shipped.max_canary_weight, shipped.progress_deadline_seconds, shipped.min_success_rate) == (
            50,
            600,
            99,
        )
        assert (shipped.max_error_rate_ratio, shipped.error_rate_window_seconds) == (2.0, 300)
        assert shipped.max_p95_latency_increase == pytest.approx(0.30)
        assert shipped.min_samples_per_interval == 50
        text = (CATALOG / "policy.yaml").read_text()
        assert all(f"\n{key}:" in text for key in POLICY_KEYS)

    def test_every_yaml_key_maps_to_a_field(self) -> None:
        """The YAML keys cover every Policy field but ``source``."""
        assert len(POLICY_KEYS) == len(DEFAULT_POLICY.__dataclass_fields__) - 1

    def test_all_problems_with_lines_and_hints(self, tmp_path: Path) -> None:
        """Unknown keys get 'did you mean', bad values their expectation, all in one error."""
        path = tmp_path / "policy.yaml"
        path.write_text("max_canary_wieght: 40\nmin_success_rate: 120\nabort_within: soon\n")
        with pytest.raises(ScenarioError) as info:
            load_policy(path)
        rendered = [p.render() for p in info.value.problems]
        assert rendered == [
            f"{path}:1: at max_canary_wieght: expected a known key, found unknown key 'max_canary_wieght' "
            "(did you mean 'max_canary_weight'?)",
            f"{path}:2: at min_success_rate: expected a number from 0 to 100, found 120 (a number)",
            f"{path}:3: at abort_within: expected a duration such as '90s', '5m', '1m30s' or a number of "
            "seconds > 0, found 'soon' (a string)",
        ]

    def test_find_policy_walks_up(self, tmp_path: Path) -> None:
        """A scenario in a sub-directory finds the catalog's policy.yaml."""
        (tmp_path / "policy.yaml").write_text("max_canary_weight: 30\n")
        (tmp_path / "negative").mkdir()
        assert find_policy(tmp_path / "negative") == tmp_path / "policy.yaml"
        assert load_policy(tmp_path / "policy.yaml").max_canary_weight == 30


class TestPolicyWarnings:
    @pytest.mark.parametrize(
        ("analysis", "reach"),
        [
            (AnalysisSpec(max_weight=50, step_weight=10), 50),
            (AnalysisSpec(max_weight=50, step_weight=20), 60),
            (AnalysisSpec(step_weights=(5, 10, 25, 50)), 50),
            (AnalysisSpec(step_weight=30), 100),
            (AnalysisSpec(iterations=10), 0),
        ],
        ids=["linear", "overshoot", "steps", "no-max", "blue-green"],
    )
    def test_reachable_weight(self, analysis: AnalysisSpec, reach: int) -> None:
        """The highest weight includes Flagger's overshoot past maxWeight."""
        assert reachable_weight(analysis) == reach

    def test_lax_canary_gets_every_warning(self) -> None:
        """Overshoot, slow threshold, long deadline and a low success minimum are each reported."""
        metric = MetricSpec("request-success-rate", "1m", ThresholdRange(min=95))
        analysis = AnalysisSpec(
            interval_seconds=60, threshold=50, max_weight=50, step_weight=20, metrics=(metric,)
        )
        canary = CanarySpec(
            "c", "ns", "Deployment", "app", "app", 80, progress_deadline_seconds=900, analysis=analysis
        )
        warnings = policy_warnings(DEFAULT_POLICY, canary)
        assert len(warnings) == 4
        assert "up to 60 %" in warnings[0]
        assert "3000 s" in warnings[1]

    def test_shipped_canary_meets_policy(self) -> None:
        """A Canary like the shipped one (threshold 3, 10 % steps to 50 %, min 99) raises no warning."""
        metric = MetricSpec("request-success-rate", "1m", ThresholdRange(min=99))
        analysis = AnalysisSpec(
            interval_seconds=60, threshold=3, max_weight=50, step_weight=10, metrics=(metric,)
        )
        canary = CanarySpec("c", "ns", "Deployment", "app", "app", 80, analysis=analysis)
        assert policy_warnings(DEFAULT_POLICY, canary) == []
