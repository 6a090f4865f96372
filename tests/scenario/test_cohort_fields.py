"""Cohort declarations and cohort expectations in scenario files: what loads, what is refused (located)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.model import ExpectedVerdict
from harness.scenario.loader import load_scenario
from harness.scenario.model import SegmentExpectation

Write = Callable[..., Path]

HEAD = """\
description: cohort test
stable: {version: "1.0.0"}
revision: {version: "1.1.0"}
load:
  users: 20
  rps: 100
  seed: 7
  routes: [{path: /, weight: 3}, {path: /api/orders, method: POST, weight: 1}]
  cohorts:
"""


def problems(write: Write, cohorts: str, expect: str = "") -> list[str]:
    path = write(HEAD + cohorts + "expect:\n  outcome: promoted\n" + expect)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [p.render() for p in info.value.problems]


A = "    - {name: a, fraction: 0.1, header: {x: '1'}}\n"


class TestDeclarations:
    def test_header_and_cookie_cohorts_with_a_seed_load(self, write: Write) -> None:
        """Both kinds of marks, a seed, and the cohort expectations, resolved against the load routes."""
        path = write(
            HEAD
            + "    - {name: insider, fraction: 0.1, header: {x-canary: insider}}\n"
            + "    - {name: always, fraction: 0.05, cookie: {canary: always}}\n"
            + "expect:\n  outcome: promoted\n  cohort_boundary: [insider, always]\n"
            + "  max_users_hurt_inside_cohort: 3\n  max_users_hurt_outside_cohort: 0\n"
            + "  segment_regression: {route: /api/orders, caught: false}\n"
            + "  verdict: {decision: NO-GO, failing: [cohort_boundary]}\n"
        )
        scenario = load_scenario(path)
        assert scenario.load.seed == 7
        assert [c.name for c in scenario.load.cohorts] == ["insider", "always"]
        cohorts = scenario.expect.cohorts
        assert cohorts.boundary == ("insider", "always")
        assert (cohorts.max_users_hurt_inside, cohorts.max_users_hurt_outside) == (3, 0)
        assert cohorts.segment == SegmentExpectation("route", "POST /api/orders", caught=False)
        assert scenario.expect.verdict == ExpectedVerdict("NO-GO", ("cohort_boundary",))

    @pytest.mark.parametrize(
        ("cohorts", "fragment"),
        [
            ("    - {name: a, fraction: 0.1, header: {x canary: b}}\n",
             "s.yaml:10: at load.cohorts[0].header.x canary: expected a header name"),
            ("    - {name: a, fraction: 0.1, header: {Host: b}}\n", "another header (the ingress sets Host)"),
            ("    - {name: a, fraction: 0.1, header: {Cookie: c=1}}\n", "write cookies under cookie:"),
            ("    - {name: a, fraction: 0.1, header: {x: \"a\\nb\"}}\n", "without control characters"),
            ("    - {name: a, fraction: 0.1, cookie: {c: \"x;y\"}}\n", "without ';', ',', spaces"),
            ("    - {name: a, fraction: 0.1, cookie: {c: \"\"}}\n", "a non-empty cookie value"),
            (A + "    - {name: a, fraction: 0.1, header: {x: '2'}}\n",
             "a name not used by cohort 0"),
            (A + "    - {name: b, fraction: 0.1, header: {X: '1'}}\n",
             "no route could tell them apart"),
            (A.replace("0.1", "0.7") + "    - {name: b, fraction: 0.4, header: {y: '1'}}\n",
             "cohort fractions summing to at most 1"),
            ("    - {name: a, fraction: 0}\n", "a header or cookie mapping"),
        ],
    )  # fmt: skip
    def test_bad_declarations_are_located(self, write: Write, cohorts: str, fragment: str) -> None:
        """Each mistake names the file, line and field path."""
        found = problems(write, cohorts)
        assert any(fragment in p and "s.yaml:" in p for p in found), found


class TestExpectations:
    ONE = "    - {name: insider, fraction: 0.1, header: {x-canary: insider}}\n"

    @pytest.mark.parametrize(
        ("expect", "fragment"),
        [
            ("  cohort_boundary: [outsider]\n", "a declared cohort (insider)"),
            ("  segment_regression: {route: /nowhere, caught: true}\n", "exactly one of the load routes"),
            ("  segment_regression: {cohort: insider, route: /, caught: true}\n",
             "exactly one of cohort or route"),
            ("  segment_regression: {cohort: insider}\n", "at expect.segment_regression.caught"),
            ("  verdict: {decision: NO-GO}\n", "the measures an expected NO-GO must name"),
            ("  verdict: {decision: GO, failing: [x]}\n", "no failing measures unless decision is NO-GO"),
            ("  verdict: {decision: MAYBE}\n", "at expect.verdict.decision"),
        ],
    )  # fmt: skip
    def test_bad_expectations_are_located(self, write: Write, expect: str, fragment: str) -> None:
        found = problems(write, self.ONE, expect)
        assert any(fragment in p for p in found), found

    def test_cohort_limits_need_cohorts(self, write: Write) -> None:
        """Without load.cohorts the cohort expectations have nothing to judge."""
        text = (
            HEAD.replace("  cohorts:\n", "")
            + "expect:\n  outcome: promoted\n  max_users_hurt_outside_cohort: 0\n"
        )
        with pytest.raises(ScenarioError) as info:
            load_scenario(write(text))
        assert "load.cohorts to be declared" in info.value.problems[0].render()


class TestShippedLinkerdScenarios:
    CATALOG = Path(__file__).resolve().parents[2] / "scenarios"

    def test_each_cohort_experiment_states_its_boundary(self) -> None:
        """The A/B scenarios and the leak bound the canary to one cohort; the leak declares its NO-GO."""
        for name, cohort in [("linkerd-ab-header", "insider"), ("linkerd-ab-header-control", "insider"),
                             ("linkerd-ab-cookie", "always"), ("linkerd-ab-cookie-control", "always"),
                             ("linkerd-cohort-leak", "insider")]:  # fmt: skip
            scenario = load_scenario(self.CATALOG / f"{name}.yaml")
            assert scenario.expect.cohorts.boundary == (cohort,), name
            assert scenario.expect.cohorts.max_users_hurt_outside == 0, name
        leak = load_scenario(self.CATALOG / "linkerd-cohort-leak.yaml")
        assert leak.expect.verdict == ExpectedVerdict("NO-GO", ("cohort_boundary",))

    def test_the_planner_sees_the_leak_before_running(self) -> None:
        """The leak's prefix match is the ab-match-exposes-everyone error; its control has none."""
        from harness.plan.predict import plan_for

        leak, _ = plan_for(load_scenario(self.CATALOG / "linkerd-cohort-leak.yaml"), time_scale=60)
        control, _ = plan_for(load_scenario(self.CATALOG / "linkerd-ab-header-control.yaml"), time_scale=60)
        assert leak is not None
        assert control is not None
        assert "ab-match-exposes-everyone" in {t["code"] for t in leak["traps"]}
        assert not {t["code"] for t in control["traps"] if t["severity"] == "error"}

    def test_the_segment_scenario_names_a_load_route(self) -> None:
        scenario = load_scenario(self.CATALOG / "linkerd-segment-orders.yaml")
        assert scenario.expect.cohorts.segment == SegmentExpectation("route", "GET /api/orders", caught=False)
