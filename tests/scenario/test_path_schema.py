"""``fault.at`` by phase / after detection and the path expectations: read, or refused with a location."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.model import FaultTrigger, PathExpectations

Write = Callable[..., Path]

BASE = """\
description: path expectations
load: {rps: 10}
fault: {spec: [{kind: http_errors, rate: 1.0}], at: AT}
expect:
  outcome: promoted
EXPECT
"""
GOOD_EXPECT = """\
  weights_walked: [10, 20, 30]
  first_failed_check_within: 2m
  failed_checks_path: [0, 1]
  events_include: ["Promotion completed!", "Advance"]
"""


def load(write: Write, at: str = "{phase: Promoting}", expect: str = GOOD_EXPECT):
    return load_scenario(write(BASE.replace("AT", at).replace("EXPECT\n", expect)))


def rendered(write: Write, at: str = "{phase: Promoting}", expect: str = GOOD_EXPECT) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load(write, at, expect)
    return [p.render() for p in info.value.problems]


class TestReadsThem:
    @pytest.mark.parametrize(
        ("at", "trigger"),
        [
            ("{phase: Promoting}", FaultTrigger(None, phase="Promoting")),
            ("{phase: Finalising}", FaultTrigger(None, phase="Finalising")),
            ("{after_detection: 1m30s}", FaultTrigger(None, after_detection=90.0)),
            ("{after_seconds: 30}", FaultTrigger(30.0)),
        ],
    )
    def test_fault_triggers(self, write: Write, at: str, trigger: FaultTrigger) -> None:
        """Each trigger form reads into exactly one field of ``FaultTrigger``."""
        assert load(write, at).fault.at == trigger

    def test_path_expectations(self, write: Write) -> None:
        """Lists, a duration and texts, as written."""
        assert load(write).expect.path == PathExpectations(
            (10, 20, 30), 120.0, (0, 1), ("Promotion completed!", "Advance")
        )


class TestRefusesBadValues:
    @pytest.mark.parametrize(
        ("at", "expect", "where", "fragment"),
        [
            (
                "{phase: Promotin}",
                GOOD_EXPECT,
                "fault.at.phase",
                "one of 'Progressing', 'Promoting', 'Finalising'",
            ),
            ("{phase: Promoting, at_weight: 20}", GOOD_EXPECT, "fault.at", "found both at_weight and phase"),
            ("{after_detection: soon}", GOOD_EXPECT, "fault.at.after_detection", "found 'soon'"),
            (
                "{phase: Promoting}",
                "  weights_walked: [10, 5]\n",
                "expect.weights_walked[1]",
                "strictly increasing",
            ),
            (
                "{phase: Promoting}",
                "  weights_walked: [0]\n",
                "expect.weights_walked[0]",
                "integer from 1 to 100",
            ),
            ("{phase: Promoting}", "  weights_walked: []\n", "expect.weights_walked", "a non-empty list"),
            (
                "{phase: Promoting}",
                "  failed_checks_path: 3\n",
                "expect.failed_checks_path",
                "a non-empty list",
            ),
            (
                "{phase: Promoting}",
                "  first_failed_check_within: 0\n",
                "expect.first_failed_check_within",
                "> 0",
            ),
            (
                "{phase: Promoting}",
                "  events_include: [ok, 3]\n",
                "expect.events_include[1]",
                "a non-empty string",
            ),
            (
                "{phase: Promoting}",
                "  weights_walkd: [10]\n",
                "expect.weights_walkd",
                "did you mean 'weights_walked'",
            ),
        ],
    )
    def test_located_problem(self, write: Write, at: str, expect: str, where: str, fragment: str) -> None:
        """file:line: at field.path: expected …, found …"""
        found = rendered(write, at, expect)
        assert any(f": at {where}: " in r and fragment in r for r in found), found
