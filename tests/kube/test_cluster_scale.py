"""``--time-scale`` on a cluster: the Canary rewritten the way local mode scales its clock."""

from __future__ import annotations

import pytest

from harness.errors import CanarySpecError, InputError
from harness.plan.cluster_scale import go_duration, max_cluster_scale, scale_canary
from harness.scenario.loader import load_catalog


def canary(interval: str = "1m", window: str | None = "1m", deadline: int | None = 120) -> dict:
    metric = {"name": "request-success-rate", "thresholdRange": {"min": 99}}
    if window is not None:
        metric["interval"] = window
    spec: dict = {
        "analysis": {
            "interval": interval,
            "threshold": 3,
            "stepWeight": 10,
            "metrics": [metric],
            "webhooks": [
                {"name": "load", "url": "http://x/", "timeout": "20s"},
                {"name": "canary-chaos-events", "type": "event", "url": "http://y/"},
            ],
        }
    }
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "a"}, "spec": spec}


def test_scale_four_gives_flaggers_e2e_interval():
    scaled = scale_canary(canary(), 4)
    analysis = scaled.manifest["spec"]["analysis"]
    assert analysis["interval"] == "15s"
    assert analysis["metrics"][0]["interval"] == "15s"
    assert analysis["webhooks"][0]["timeout"] == "5s"
    assert "timeout" not in analysis["webhooks"][1]  # the event hook is not a timed call
    assert scaled.manifest["spec"]["progressDeadlineSeconds"] == 30
    assert {c.path: (c.before, c.after) for c in scaled.changes} == {
        "spec.analysis.interval": ("1m", "15s"),
        "spec.analysis.metrics[0].interval": ("1m", "15s"),
        "spec.analysis.webhooks[0].timeout": ("20s", "5s"),
        "spec.progressDeadlineSeconds": ("120", "30"),
    }


def test_scale_one_changes_nothing_and_the_input_is_not_modified():
    original = canary(window=None, deadline=None)
    assert scale_canary(original, 1).manifest == original
    assert scale_canary(original, 1).changes == ()
    scaled = scale_canary(original, 2)
    assert "interval" not in original["spec"]["analysis"]["metrics"][0]
    assert scaled.manifest["spec"]["analysis"]["metrics"][0]["interval"] == "30s"  # default 1m, scaled
    assert scaled.manifest["spec"]["progressDeadlineSeconds"] == 300  # Flagger's default 600, scaled


def test_fractional_seconds_stay_valid_for_the_crd_pattern():
    assert go_duration(22.5) == "22500ms"
    assert go_duration(15) == "15s"
    assert scale_canary(canary(interval="90s", window="90s"), 4).manifest["spec"]["analysis"]["interval"] == (
        "22500ms"
    )


def test_metric_window_below_three_scrapes_is_refused_naming_the_field():
    with pytest.raises(CanarySpecError) as caught:
        scale_canary(canary(interval="2m", window="1m"), 6, source="scenarios/x.yaml")
    problem = caught.value.problems[0]
    assert problem.path == "spec.analysis.metrics[0].interval (request-success-rate)"
    assert problem.file == "scenarios/x.yaml"
    assert "10s" in problem.found
    assert "15s" in problem.expected
    assert "≤ 4" in problem.expected
    assert isinstance(caught.value, InputError)  # exit 2


def test_scrape_interval_is_a_parameter():
    scale_canary(canary(interval="2m", window="1m"), 6, scrape_interval=2)  # 10 s ≥ 3 × 2 s
    with pytest.raises(CanarySpecError):
        scale_canary(canary(), 4, scrape_interval=10)


def test_interval_below_flaggers_minimum_is_refused():
    with pytest.raises(CanarySpecError) as caught:
        scale_canary(canary(interval="1m", window="5m"), 8)
    assert [p.path for p in caught.value.problems] == ["spec.analysis.interval"]
    assert "7.5s" in caught.value.problems[0].found


def test_template_metric_without_interval_is_left_alone():
    manifest = canary()
    manifest["spec"]["analysis"]["metrics"] = [{"name": "biz", "templateRef": {"name": "t"}}]
    scaled = scale_canary(manifest, 4)
    assert "interval" not in scaled.manifest["spec"]["analysis"]["metrics"][0]


def test_bad_scale_is_input_error():
    with pytest.raises(InputError):
        scale_canary(canary(), 0)


def test_the_shipped_catalog_accepts_the_nightly_scale():
    """Every catalog Canary runs at the default cluster scale 4 (and 4 is the largest they all accept)."""
    catalog = load_catalog("scenarios")
    assert catalog
    for scenario in catalog:
        scale_canary(scenario.canary_manifest, 4, source=str(scenario.file))
    assert min(max_cluster_scale(s.canary_manifest) for s in catalog) == 4
