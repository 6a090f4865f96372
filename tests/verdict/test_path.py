"""The path expectations as verdict measures: measured vs limit over hand-built timelines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.model import Decision, Measure, Verdict
from harness.scenario.model import Expectations, PathExpectations
from harness.scenario.policy import Policy
from harness.verdict.judge import evaluate

from .timeline import promoted_story, rolled_back_story

LENIENT = Policy(min_samples_per_interval=0)
ROLLED_BACK = Expectations(
    "rolled-back", abort_within_seconds=400, max_canary_weight=10, primary_untouched=False
)
PROMOTED = Expectations("promoted", max_canary_weight=50)


def measure(verdict: Verdict, name: str) -> Measure:
    return next(m for m in verdict.measures if m.name == name)


def judge(expect: Expectations, path: PathExpectations, evidence) -> Verdict:
    return evaluate(replace(expect, path=path), LENIENT, evidence)


class TestPathMeasures:
    def test_a_rollback_path_that_matches_is_go(self):
        """Weights [10], failedChecks 0 → 1 → 2 → 3, first failure 2 min after the onset, events found."""
        path = PathExpectations(
            weights_walked=(10,),
            first_failed_check_within_seconds=120,
            failed_checks_path=(0, 1, 2, 3),
            events_include=("failed checks threshold reached 3", "Canary failed!"),
        )
        verdict = judge(ROLLED_BACK, path, rolled_back_story().evidence())
        assert verdict.decision == Decision.GO, verdict.reasons
        assert (measure(verdict, "weights_walked").measured, measure(verdict, "weights_walked").limit) == (
            "10",
            "10",
        )
        assert measure(verdict, "failed_checks_path").measured == "0 → 1 → 2 → 3"
        assert measure(verdict, "first_failed_check_within").measured == 120.0  # trigger 120 → tick at 240
        assert measure(verdict, "events_include").measured == 2

    @pytest.mark.parametrize(
        ("path", "name", "measured"),
        [
            (PathExpectations(weights_walked=(10, 20)), "weights_walked", "10"),
            (PathExpectations(failed_checks_path=(0, 1, 2)), "failed_checks_path", "0 → 1 → 2 → 3"),
            (PathExpectations(first_failed_check_within_seconds=60), "first_failed_check_within", 120.0),
            (PathExpectations(events_include=("Promotion completed",)), "events_include", 0),
        ],
    )
    def test_each_mismatch_is_a_no_go_naming_measured_and_limit(self, path, name, measured):
        """A path that differs fails its own measure; the reason shows both values."""
        verdict = judge(ROLLED_BACK, path, rolled_back_story().evidence())
        assert verdict.decision == Decision.NO_GO
        assert measure(verdict, name).passed is False
        assert measure(verdict, name).measured == measured
        assert any(r.startswith(f"{name}: measured") for r in verdict.reasons)

    def test_a_promotion_walks_every_weight_and_never_fails_a_check(self):
        """10 → 20 → 30 → 40 → 50 (Promoting keeps 50, Finalising's 0 is not a step), failedChecks stays 0."""
        path = PathExpectations(weights_walked=(10, 20, 30, 40, 50), failed_checks_path=(0,))
        verdict = judge(PROMOTED, path, promoted_story().evidence())
        assert measure(verdict, "weights_walked").passed is True
        assert measure(verdict, "failed_checks_path").passed is True

    def test_no_failed_check_when_one_was_expected(self):
        """first_failed_check_within without any failed check: failed, with the reason in the note."""
        verdict = judge(
            PROMOTED, PathExpectations(first_failed_check_within_seconds=60), promoted_story().evidence()
        )
        assert measure(verdict, "first_failed_check_within").passed is False
        assert "no failed check" in measure(verdict, "first_failed_check_within").note

    def test_unjudged_on_an_incomplete_run(self):
        """Without a complete run the path measures are not judged (the verdict is INCOMPLETE)."""
        evidence = replace(rolled_back_story().evidence(), complete=False)
        verdict = judge(ROLLED_BACK, PathExpectations(weights_walked=(10,)), evidence)
        assert verdict.decision == Decision.INCOMPLETE
        assert measure(verdict, "weights_walked").passed is None
