"""``controller: argo-rollouts`` scenarios: the ``rollout:`` bundle from files and inline manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario

DATA = Path(__file__).parents[1] / "data" / "rollouts"
SCENARIOS = Path(__file__).parents[2] / "scenarios"
BODY = 'description: d\nrevision: {version: "1.1.0"}\nload: {rps: 10}\nexpect: {outcome: promoted}\n'


def problems(error: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [p.render() for p in error.value.problems]


def test_every_shipped_argo_scenario_loads_its_bundle() -> None:
    for path in sorted(SCENARIOS.glob("argo-*.yaml")):
        scenario = load_scenario(path)
        assert scenario.controller == "argo-rollouts"
        assert scenario.rollout is not None
        assert scenario.canary is None
        assert scenario.controller_spec is scenario.rollout
        assert scenario.canary_manifest["kind"] == "Rollout"


def test_files_and_an_inline_template_make_one_bundle(tmp_path: Path) -> None:
    (tmp_path / "rollout.yaml").write_text((DATA / "rollout-traefik.yaml").read_text())
    template = yaml.safe_load((DATA / "analysis-success-rate.yaml").read_text())
    inline = yaml.safe_dump({"rollout": ["rollout.yaml", template]}, sort_keys=False)
    path = tmp_path / "s.yaml"
    path.write_text("controller: argo-rollouts\n" + inline + BODY)
    scenario = load_scenario(path)
    assert scenario.rollout is not None
    assert set(scenario.rollout.templates) == {"success-rate"}


def test_an_inline_problem_points_at_the_scenario_line(tmp_path: Path) -> None:
    (tmp_path / "rollout.yaml").write_text((DATA / "rollout-traefik.yaml").read_text())
    template = yaml.safe_load((DATA / "analysis-success-rate.yaml").read_text())
    template["spec"]["metrics"][0]["successCondition"] = "result[0] >= "
    path = tmp_path / "s.yaml"
    path.write_text(
        "controller: argo-rollouts\n" + yaml.safe_dump({"rollout": ["rollout.yaml", template]}) + BODY
    )
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    [problem] = error.value.problems
    assert problem.file == str(path)
    assert problem.line is not None
    assert "successCondition" in problem.path


def test_a_missing_file_and_flagger_fields_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("controller: argo-rollouts\nrollout: nowhere.yaml\ncanary: x.yaml\n" + BODY)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    found = problems(error)
    assert any(":2: at rollout: expected an existing Rollout/AnalysisTemplate file" in p for p in found)
    assert any(":3: at canary: expected no value: a Flagger Canary field" in p for p in found)


def test_a_rollout_under_flagger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("rollout: r.yaml\n" + BODY)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert any(
        "at rollout: expected no value: it needs controller: argo-rollouts" in p for p in problems(error)
    )
