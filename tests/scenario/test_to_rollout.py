"""A Flagger Canary translated to a Rollout (``--controller argo-rollouts``): mapping and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.controllers.argo_rollouts.errors import RolloutSpecError
from harness.controllers.argo_rollouts.model import PauseStep, SetWeightStep
from harness.errors import InputError
from harness.run.cli_options import for_controllers
from harness.scenario.loader import load_scenario
from harness.scenario.to_rollout import as_controller, rollout_manifests, translate
from tests.flagger.rig import canary

SCENARIOS = Path(__file__).parents[2] / "scenarios"


def test_weights_become_set_weight_steps_each_with_a_pause_of_one_interval() -> None:
    bundle = translate(canary({"webhooks": None}))
    steps = bundle.rollout.steps
    assert [s.weight for s in steps if isinstance(s, SetWeightStep)] == [10, 20, 30, 40, 50]
    assert {s.duration for s in steps if isinstance(s, PauseStep)} == {60.0}
    assert [type(s).__name__ for s in steps[:4]] == ["SetWeightStep", "PauseStep"] * 2
    assert bundle.rollout.background is not None
    assert bundle.rollout.background.starting_step == 1


def test_step_weights_are_kept_as_listed() -> None:
    bundle = translate(canary({"webhooks": None, "stepWeight": None, "stepWeights": [5, 25, 60]}))
    assert [s.weight for s in bundle.rollout.steps if isinstance(s, SetWeightStep)] == [5, 25, 60]


def test_metrics_keep_flaggers_promql_thresholds_and_threshold_minus_one() -> None:
    [_, template] = rollout_manifests(canary({"webhooks": None, "threshold": 3}))
    success, duration = template["spec"]["metrics"]
    assert success["failureLimit"] == duration["failureLimit"] == 2
    assert success["successCondition"] == "len(result) > 0 && result[0] >= 99"
    assert duration["successCondition"] == "len(result) > 0 && result[0] <= 500"
    assert (
        'service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd"'
        in success["provider"]["prometheus"]["query"]
    )
    assert (success["interval"], success["initialDelay"]) == ("60s", "60s")


def test_untranslatable_fields_are_refused_each_by_path() -> None:
    spec = canary({"iterations": 10, "stepWeight": None, "match": [{"headers": {"x": {"exact": "1"}}}]})
    with pytest.raises(RolloutSpecError) as error:
        translate(spec)
    paths = {problem.path for problem in error.value.problems}
    assert {"spec.analysis.iterations", "spec.analysis.match", "spec.analysis.webhooks[0]"} <= paths


def test_a_scenario_runs_its_fault_under_the_translated_rollout() -> None:
    flagger = load_scenario(SCENARIOS / "http-5xx-spike.yaml")
    argo = as_controller(flagger, "argo-rollouts")
    assert (argo.id, argo.controller, argo.canary) == (
        "http-5xx-spike-on-argo-rollouts",
        "argo-rollouts",
        None,
    )
    assert argo.rollout is not None
    assert argo.revision == flagger.revision
    assert argo.load == flagger.load
    assert argo.expect.abort_within_seconds == flagger.expect.abort_within_seconds
    assert argo.expect.path.events_include == ()
    assert "events_include not applied" in argo.description
    assert argo.canary_manifest["kind"] == "Rollout"


def test_both_controllers_in_one_batch_and_no_translation_back() -> None:
    flagger = load_scenario(SCENARIOS / "http-5xx-spike.yaml")
    both = for_controllers([flagger], ("flagger", "argo-rollouts"))
    assert [s.controller for s in both] == ["flagger", "argo-rollouts"]
    argo = load_scenario(SCENARIOS / "argo-5xx-first-step.yaml")
    with pytest.raises(InputError, match=r"only a Flagger Canary translates"):
        as_controller(argo, "flagger")
