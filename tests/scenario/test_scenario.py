"""Scenario files: the shipped catalog, merging onto the base Canary, and precise located errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from faulty_app.config import KINDS
from harness.errors import ScenarioError
from harness.scenario.loader import discover, load_catalog, load_scenario

from .conftest import CATALOG

Write = Callable[..., Path]

MINIMAL = """\
description: minimal
revision: {version: "1.1.0"}
load: {rps: 10}
expect: {outcome: promoted}
"""


def problems(error: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [p.render() for p in error.value.problems]


class TestCatalog:
    def test_catalog_loads_and_covers_every_fault_kind(self) -> None:
        """Every shipped scenario loads; every faulty_app fault kind appears; controls promote."""
        scenarios = load_catalog(CATALOG)
        ids = {s.id for s in scenarios}
        assert len(scenarios) == len(discover(CATALOG)) >= 19
        kinds = {
            f["kind"] for s in scenarios for f in (*s.revision.faults, *(s.fault.spec if s.fault else ()))
        }
        assert kinds == set(KINDS)
        controls = [s for s in scenarios if s.id.endswith("-control")]
        assert len(controls) >= 5
        assert all(s.expect.outcome == "promoted" for s in controls)
        assert {
            "http-5xx-spike",
            "latency-bloat",
            "latency-tail",
            "crash-loop",
            "never-ready",
            "slow-burn",
            "fault-at-high-weight",
            "cohort-only",
            "wrong-answer",
            "low-traffic",
        } <= ids

    def test_discover_skips_policy_canaries_and_negative(self) -> None:
        """policy.yaml, canaries/ and negative/ are not scenarios of the default catalog."""
        names = {p.name for p in discover(CATALOG)}
        assert "policy.yaml" not in names
        assert "faulty-app.yaml" not in names
        assert "too-lax.yaml" not in names

    def test_main_scenario(self) -> None:
        """http-5xx-spike: faulty revision from the start, strict limits, the base Canary's timing."""
        s = load_scenario(CATALOG / "http-5xx-spike.yaml")
        assert s.id == "http-5xx-spike"
        assert s.faults_from_start
        assert s.fault is None
        assert s.revision.faults[0]["kind"] == "http_errors"
        assert s.revision.faults[0]["rate"] == 1.0
        assert (
            s.canary.analysis.interval_seconds,
            s.canary.analysis.threshold,
            s.canary.analysis.step_weight,
        ) == (60, 3, 10)
        assert (s.expect.abort_within_seconds, s.expect.max_canary_weight, s.expect.rollback_cause) == (
            420,
            10,
            "failed-checks",
        )
        assert s.canary_manifest["kind"] == "Canary"
        assert s.policy.max_canary_weight == 50
        assert s.stable.as_revision().version == "1.0.0"

    def test_at_weight_fault_and_requirements(self) -> None:
        """fault-at-high-weight switches at 40 %; wrong-answer requires Prometheus and the business Canary."""
        high = load_scenario(CATALOG / "fault-at-high-weight.yaml")
        assert high.fault is not None
        assert (high.fault.at.at_weight, high.fault.at.after_seconds) == (40, None)
        wrong = load_scenario(CATALOG / "wrong-answer.yaml")
        assert wrong.requires == ("prometheus",)
        assert [m.name for m in wrong.canary.analysis.metrics][-1] == "validation-failures"

    def test_overrides_merge_onto_the_base_canary(self) -> None:
        """Inline analysis keys and progress_deadline_seconds change the applied manifest, nothing else."""
        lax = load_scenario(CATALOG / "negative" / "too-lax.yaml")
        assert lax.canary.analysis.threshold == 50
        assert lax.canary.analysis.max_weight == 50
        assert lax.canary_manifest["spec"]["analysis"]["threshold"] == 50
        assert len(lax.canary_manifest["spec"]["analysis"]["metrics"]) == 2
        crash = load_scenario(CATALOG / "crash-loop.yaml")
        assert crash.canary.progress_deadline_seconds == 120
        assert crash.canary_manifest["spec"]["progressDeadlineSeconds"] == 120
        assert load_scenario(CATALOG / "http-5xx-spike.yaml").canary.progress_deadline_seconds == 600

    def test_expectations_fall_back_to_policy(self, write: Write) -> None:
        """Unset limits come from the policy; rolled-back-only limits stay unset for promoted scenarios."""
        s = load_scenario(write(MINIMAL))
        assert (s.expect.max_canary_weight, s.expect.max_failed_fraction) == (50, 0.05)
        assert s.expect.abort_within_seconds is None
        assert s.expect.recovery_within_seconds is None
        back = load_scenario(write(MINIMAL.replace("promoted", "rolled-back")))
        assert (back.expect.abort_within_seconds, back.expect.recovery_within_seconds) == (600, 120)
        assert s.id == "s"
        assert s.stable.version == "1.0.0"
        assert s.timing.warmup_seconds == 120

    def test_policy_overrides(self, write: Write) -> None:
        """policy_overrides changes single policy fields, so an expectation may be looser than the file's."""
        text = MINIMAL.replace(
            "expect: {outcome: promoted}",
            "expect: {outcome: promoted, max_canary_weight: 60}\npolicy_overrides: {max_canary_weight: 60}",
        )
        s = load_scenario(write(text))
        assert s.policy.max_canary_weight == 60
        assert s.expect.max_canary_weight == 60


class TestErrors:
    def test_unknown_keys_everywhere_with_hints_and_lines(self, write: Write) -> None:
        """Typos at any depth are reported together, each with its line and a 'did you mean'."""
        path = write(
            "descripton: x\n"
            "revision: {version: '1.1.0', replica: 2}\n"
            "load:\n  rps: 10\n  routes: [{path: /, methd: GET}]\n"
            "expect: {outcome: promoted, max_canry_weight: 10}\n"
            "analysis: {stepWieght: 5}\n"
        )
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        rendered = problems(info)
        expected = [
            (1, "descripton", "did you mean 'description'?"),
            (2, "revision.replica", "did you mean 'replicas'?"),
            (5, "load.routes[0].methd", "did you mean 'method'?"),
            (6, "expect.max_canry_weight", "did you mean 'max_canary_weight'?"),
            (7, "analysis.stepWieght", "did you mean 'stepWeight'?"),
        ]
        for line, where, hint in expected:
            assert any(r.startswith(f"{path}:{line}: at {where}: ") and hint in r for r in rendered), (
                where,
                rendered,
            )

    def test_fault_spec_problems_are_prefixed_and_located(self, write: Write) -> None:
        """faulty_app's fault problems appear under the scenario's field path with the scenario's lines."""
        path = write(
            MINIMAL.replace(
                'revision: {version: "1.1.0"}',
                'revision:\n  version: "1.1.0"\n  faults:\n    - kind: http_errors\n      rate: 2\n',
            )
            + "fault:\n  spec:\n    - {kind: latncy}\n  at: {at_weight: 30, after_seconds: 0}\n"
        )
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        rendered = problems(info)
        assert f"{path}:6: at revision.faults[0].rate: expected a number between 0 and 1, found 2" in rendered
        assert any(r.startswith(f"{path}:12: at fault.spec[0].kind: expected a fault kind") for r in rendered)
        assert any(
            r.startswith(
                f"{path}:13: at fault.at: expected exactly one of after_seconds, at_weight, phase,"
                " after_detection, found both"
            )
            for r in rendered
        )

    @pytest.mark.parametrize(
        ("change", "where", "fragment"),
        [
            (
                ("load: {rps: 10}", "load: {rps: fast}"),
                "load.rps",
                "expected a number from 0 to 5000 > 0, found 'fast'",
            ),
            (("load: {rps: 10}", "load: {users: 3}"), "load", "exactly one of rps or shape, found neither"),
            (
                ("expect: {outcome: promoted}", "expect: {outcome: promote}"),
                "expect.outcome",
                "one of 'rolled-back'",
            ),
            (
                ("expect: {outcome: promoted}", "expect: {}"),
                "expect.outcome",
                "a value (required), found nothing",
            ),
            (
                ("expect: {outcome: promoted}", "expect: {outcome: promoted, abort_within: 5m}"),
                "expect.abort_within",
                "only applies when outcome is 'rolled-back'",
            ),
            (
                ("expect: {outcome: promoted}", "expect: {outcome: promoted, max_canary_weight: 80}"),
                "expect.max_canary_weight",
                "at most the policy's max_canary_weight (50)",
            ),
            (
                ('revision: {version: "1.1.0"}', 'revision: {version: "1.0.0"}'),
                "revision.version",
                "different from stable",
            ),
            (
                ("description: minimal", "canary: canaries/missing.yaml"),
                "canary",
                "which is not an existing file",
            ),
            (("description: minimal", "timing: {warmup: 2 minutes}"), "timing.warmup", "found '2 minutes'"),
            (("description: minimal", "id: Bad_Id"), "id", "lowercase letters"),
            (
                ("description: minimal", "requires: [redis]"),
                "requires[0]",
                "one of 'prometheus', 'kubernetes'",
            ),
            (
                ("description: minimal", "policy_overrides: {max_canary_weigth: 1}"),
                "policy_overrides.max_canary_weigth",
                "did you mean 'max_canary_weight'",
            ),
            (
                ("load: {rps: 10}", "load: {rps: 10, cohorts: [{name: b, fraction: 0.5}]}"),
                "load.cohorts[0]",
                "a header or cookie",
            ),
        ],
        ids=[
            "rps",
            "no-rps",
            "outcome",
            "no-outcome",
            "abort-promoted",
            "looser",
            "same-version",
            "canary-path",
            "duration",
            "id",
            "requires",
            "policy-key",
            "cohort",
        ],
    )
    def test_single_problem(self, write: Write, change: tuple[str, str], where: str, fragment: str) -> None:
        """Each mistake is reported at its field path with expected and found values."""
        path = write(MINIMAL.replace(*change))
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert any(
            f": at {where}: " in r and fragment in r and r.startswith(str(path)) for r in problems(info)
        ), problems(info)

    def test_canary_problem_from_override_points_at_scenario(self, write: Write) -> None:
        """A bad inline analysis value is reported by the Canary parser at the scenario's line."""
        path = write(MINIMAL + "analysis:\n  threshold: many\n")
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert any(r.startswith(f"{path}:6: at analysis.threshold: ") for r in problems(info)), problems(info)

    def test_not_a_mapping(self, write: Write) -> None:
        """A list at the top level is refused with the file name."""
        with pytest.raises(ScenarioError, match=r"s\.yaml:1: at <root>: expected a mapping, found a list"):
            load_scenario(write("- 1\n"))

    def test_catalog_reports_all_files_and_duplicate_ids(self, scratch: Path) -> None:
        """load_catalog collects problems of every file and refuses duplicate ids."""
        (scratch / "a.yaml").write_text(MINIMAL + "id: same\n")
        (scratch / "b.yaml").write_text(MINIMAL + "id: same\n")
        (scratch / "c.yaml").write_text("bogus: 1\n")
        with pytest.raises(ScenarioError) as info:
            load_catalog(scratch)
        text = str(info.value)
        assert "c.yaml:1: at bogus" in text
        assert "ids unique in the catalog" in text
