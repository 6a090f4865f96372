"""The success-rate minimum the argo-rollouts plug-in hands the verdict (SpecTiming.min_success_rate)."""

from __future__ import annotations

import pytest

from harness.controllers.registry import controller_named
from harness.scenario.argo_rollout import parse_bundle

from .rig import manifests


def minimum(rollout: dict | None = None, **metric: object) -> float | None:
    bundle = parse_bundle(manifests(rollout, metric or None), "rollout.yaml")
    return controller_named("argo-rollouts").timing_of(bundle).min_success_rate


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("result[0] >= 0.95", 95.0),  # a ratio
        ("result >= 0.99", 99.0),
        ("result[0] > 0.9", 90.0),
        ("result[0] >= 99.5", 99.5),  # a percentage
        ("result[0] >= 1", 100.0),  # 1 is the ratio 1, not 1 %
        ("result[0] >= 250", None),  # neither a ratio nor a percentage
        ("result[0] >= {{args.minimum}}", None),
        ("result[0] >= 0.95 && result[0] <= 1", None),
        ("result[0] <= 0.05", None),
    ],
)
def test_a_simple_lower_bound_is_the_minimum_in_percent(condition: str, expected: float | None) -> None:
    assert minimum(successCondition=condition) == expected


def test_a_dry_run_success_metric_sets_no_minimum() -> None:
    analysis = {
        "templates": [{"templateName": "success-rate"}],
        "startingStep": 1,
        "dryRun": [{"metricName": "success.*"}],
        "args": [{"name": "service", "value": "test-podinfo-canary"}],
    }
    assert minimum({"analysis": analysis}) is None


def test_a_metric_not_named_success_sets_no_minimum() -> None:
    assert minimum(name="error-ratio") is None
