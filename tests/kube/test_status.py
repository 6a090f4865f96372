"""Raw Canary status → CanaryStatus, phase times, and deadlines from the spec."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harness.backends.kubernetes.status import (
    deadlines_for,
    phase_entered_at,
    promotion_time,
    rollback_time,
    to_status,
    weight_steps,
)
from harness.controllers.flagger.model import AnalysisSpec, Phase
from harness.testing.flagger_status import FlaggerStatusWriter

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


def canary_with(status):
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "a"},
        "spec": {},
        "status": status,
    }


class TestTimes:
    def test_rollback_time_is_promoted_last_update_time_not_last_transition_time(self):
        """Flagger rewrites status.lastTransitionTime every tick while Failed; the rollback stays at entry."""
        writer = FlaggerStatusWriter(ORIGIN)
        writer.write(60, "Progressing", weight=10)
        writer.write(540, "Progressing", weight=20, failed_checks=5)
        writer.write(600, "Failed")
        resynced = writer.write(720, "Failed")
        status = to_status(canary_with(resynced), ORIGIN)
        assert status.last_transition_time == 720
        assert rollback_time(status) == 600
        assert promotion_time(status) is None

    def test_condition_last_transition_time_kept_while_status_unchanged(self):
        """Progressing → Promoting keeps condition status Unknown, so only lastUpdateTime moves."""
        writer = FlaggerStatusWriter(ORIGIN)
        writer.write(60, "Progressing")
        raw = writer.write(420, "Promoting", weight=50)
        condition = raw["conditions"][0]
        assert (condition["lastTransitionTime"], condition["lastUpdateTime"]) == (
            "2026-01-01T00:01:00Z",
            "2026-01-01T00:07:00Z",
        )
        assert phase_entered_at(to_status(canary_with(raw), ORIGIN)) == 420

    def test_promotion_time(self):
        """A Succeeded canary's promotion time is when the Succeeded condition was written."""
        writer = FlaggerStatusWriter(ORIGIN)
        writer.write(60, "Progressing")
        done = writer.write(480, "Succeeded")
        writer_status = to_status(canary_with(done), ORIGIN)
        assert promotion_time(writer_status) == 480
        assert writer_status.condition is not None
        assert writer_status.condition.status == "True"

    def test_missing_status_is_phase_none(self):
        """A Canary Flagger has not touched yet converts to the empty status."""
        obj = {"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "a"}, "spec": {}}
        status = to_status(obj, ORIGIN)
        assert (status.phase, status.condition, phase_entered_at(status)) == (Phase.NONE, None, None)


class TestDeadlines:
    def test_worked_example_a(self, spec):
        """interval 1m, threshold 5, step 10 to 50: terminal = (5+5+3+2)·60 + progress deadline + margin."""
        deadlines = deadlines_for(spec, rollout_seconds=180)
        assert weight_steps(spec) == 5
        assert deadlines.initialized == 2 * 60 + 180 + 30
        assert deadlines.progressing == 60 + 10 + 30
        assert deadlines.terminal == 15 * 60 + 600 + 30

    @pytest.mark.parametrize(
        ("analysis", "steps"),
        [
            (AnalysisSpec(step_weights=(5, 10, 25, 50)), 4),
            (AnalysisSpec(iterations=7), 7),
            (AnalysisSpec(max_weight=50, step_weight=20), 3),
            (AnalysisSpec(step_weight=30), 4),
        ],
    )
    def test_weight_steps(self, spec, analysis, steps):
        """n follows stepWeights, iterations, or ceil(maxWeight/stepWeight) with maxWeight 0 meaning 100."""
        from dataclasses import replace

        assert weight_steps(replace(spec, analysis=analysis)) == steps
