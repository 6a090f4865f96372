"""Rollback conditions from a Canary manifest, and the remediation notes computed from a run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.model import Decision, Measure, Verdict
from harness.report.journal import RunRecord, rollback_conditions
from harness.report.remediation import abort_time_fix, overshoot_fix, remediation_notes

from .journal_factory import build


def manifest(**analysis: object) -> dict[str, object]:
    return {"metadata": {"name": "podinfo", "namespace": "test"}, "spec": {"analysis": analysis}}


def with_measures(record: RunRecord, *measures: Measure, decision: str = Decision.NO_GO) -> RunRecord:
    return replace(record, verdict=Verdict(decision, measures))


class TestRollbackConditions:
    def test_linear_steps_overshoot_max_weight(self) -> None:
        """maxWeight 50 with stepWeight 20 progresses 20, 40, 60 (spec §2.5)."""
        c = rollback_conditions(manifest(interval="1m", threshold=5, maxWeight=50, stepWeight=20))
        assert c.progression == (20, 40, 60)
        assert c.peak_weight == 60
        assert c.max_weight == 50
        assert c.abort_after_first_failure_seconds == 300.0

    def test_step_weights_set_the_max(self) -> None:
        """stepWeights are taken as listed and their last element is the max weight."""
        c = rollback_conditions(
            manifest(interval="30s", threshold=2, stepWeights=[5, 10, 25, 50], maxWeight=80)
        )
        assert c.progression == (5, 10, 25, 50)
        assert c.max_weight == 50

    @pytest.mark.parametrize(
        ("raw", "seconds"), [("5s", 10.0), ("1m30s", 90.0), ("soon", 60.0), (None, 60.0), ("", 60.0)]
    )
    def test_interval_defaulting(self, raw: object, seconds: float) -> None:
        """Interval below 10 s is raised to 10 s; missing or unparsable means 60 s."""
        assert rollback_conditions(manifest(interval=raw, threshold=1)).interval_seconds == seconds

    def test_threshold_and_deadline_defaults(self) -> None:
        """threshold ≤ 0 becomes 1; progressDeadlineSeconds defaults to 600; maxWeight to 100."""
        c = rollback_conditions(manifest(threshold=0, stepWeight=25))
        assert (c.threshold, c.progress_deadline_seconds, c.max_weight) == (1, 600, 100)
        assert c.progression == (25, 50, 75, 100)

    def test_criteria_and_sentence(self) -> None:
        """Metric ranges and windows become criteria, and the sentence states T × I."""
        m = manifest(
            interval="1m",
            threshold=5,
            stepWeight=10,
            maxWeight=50,
            metrics=[
                {"name": "request-success-rate", "thresholdRange": {"min": 99}},
                {"name": "request-duration", "threshold": 500},
                {"name": "errors", "templateRef": {"name": "error-rate"}, "thresholdRange": {"max": 1}},
            ],
        )
        c = rollback_conditions(m)
        assert [x.describe() for x in c.criteria] == [
            "request-success-rate ≥ 99 over 1m",
            "request-duration ≤ 500 over 1m",
            "errors ≤ 1 (template error-rate)",
        ]
        assert (
            "Flagger rolls back after 5 failed checks (5 × 1m = 5m after the first failing check)"
            in c.sentence
        )
        assert "10% → 20% → 30% → 40% → 50%" in c.sentence

    def test_garbage_manifest_does_not_raise(self) -> None:
        """A manifest of the wrong shape gives Flagger's defaults, never an exception."""
        c = rollback_conditions({"spec": "nope", "metadata": 3})
        assert c.threshold == 1
        assert c.interval_seconds == 60.0
        assert c.criteria == ()


class TestAbortFix:
    def test_example_from_the_brief(self) -> None:
        """5m limit, threshold 5, interval 1m: threshold 3 or interval 45s meet the worst case."""
        c = rollback_conditions(manifest(interval="1m", threshold=5, stepWeight=10, maxWeight=50))
        fix = abort_time_fix(300.0, c, delay=10.0)
        assert fix.threshold == 3
        assert fix.interval_seconds == 45.0
        assert (fix.threshold + 1) * 60 + 10 <= 300
        assert (5 + 1) * 45 + 10 <= 300
        assert fix.worst_now == 370.0

    def test_no_single_change_fits(self) -> None:
        """A limit below two minimal intervals has no threshold or interval fix."""
        c = rollback_conditions(manifest(interval="10s", threshold=1, stepWeight=10))
        fix = abort_time_fix(15.0, c, delay=10.0)
        assert fix.threshold is None
        assert fix.interval_seconds is None


class TestOvershootFix:
    def test_closest_step_and_max_weight(self) -> None:
        """For a 50 % limit with stepWeight 20 / maxWeight 50: stepWeight 25 or maxWeight 40."""
        c = rollback_conditions(manifest(stepWeight=20, maxWeight=50))
        assert overshoot_fix(50, c) == (25, 40)


class TestRemediationNotes:
    def test_no_go_notes_name_the_fixes(self) -> None:
        """The NO-GO run gets abort-time, overshoot and blast-radius notes with concrete numbers."""
        notes = {n.topic: n.text for n in remediation_notes(build("no-go"))}
        assert notes["abort-time"].startswith("abort took 5m20s against a 5m limit")
        assert "threshold 5→3 or interval 1m→45s would meet it" in notes["abort-time"]
        assert notes["overshoot"].startswith(
            "canary reached 60% > 50%: maxWeight overshoot with stepWeight 20"
        )
        assert "20 → 40 → 60" in notes["overshoot"]
        assert notes["blast-radius"].startswith(
            "users hurt 96 > 50: lower the first step weight or the threshold"
        )

    def test_go_run_has_no_notes(self) -> None:
        """A GO run within every limit needs no remediation."""
        assert remediation_notes(build("rolled-back-go")) == ()

    def test_inconclusive_and_low_samples(self) -> None:
        """INCONCLUSIVE says the fault never reached traffic; quiet windows say 'no sample, no signal'."""
        notes = {n.topic: n.text for n in remediation_notes(build("inconclusive"))}
        assert notes["inconclusive"].startswith("the fault never reached traffic")
        assert "no sample, no signal" in notes["low-samples"]
        assert "raise the load" in notes["low-samples"]

    def test_incomplete(self) -> None:
        """An interrupted run is told to re-run, with the reason."""
        record = replace(build("no-go"), complete=False, incomplete_reason="SIGTERM")
        assert (
            remediation_notes(record)[0].text
            == "the run did not finish (SIGTERM): re-run it before deciding."
        )

    def test_no_rollback_at_all(self) -> None:
        """A fault that never caused a rollback points at the abort criteria."""
        record = with_measures(
            build("no-go"), Measure("abort_within", None, 300.0, "s", False, note="no rollback")
        )
        (note,) = remediation_notes(record)
        assert note.topic == "no-rollback"
        assert "request-success-rate ≥ 99 over 1m" in note.text

    def test_max_weight_above_limit(self) -> None:
        """maxWeight itself above the limit is said plainly."""
        record = with_measures(build("no-go"), Measure("max_canary_weight", 60, 40, "%", False))
        assert (
            remediation_notes(record)[0].text == "canary reached 60% > 40%: maxWeight 50 is above the limit."
        )
