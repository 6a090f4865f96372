"""The shared Rollout → CanaryStatus mapping (harness.controllers.argo_rollouts.canary_view)."""

from __future__ import annotations

import pytest

from harness.controllers.argo_rollouts.canary_view import (
    canary_status_from_rollout,
    failed_measurements,
    numeric_seconds,
)
from harness.controllers.flagger.model import Phase

STABLE, UPDATE = "6f9d8b7c5", "7b4c9d6f8"


def rollout_status(**fields: object) -> dict:
    base: dict = {
        "phase": "Healthy",
        "currentPodHash": STABLE,
        "stableRS": STABLE,
        "currentStepIndex": 4,
        "canary": {"weights": {"canary": {"podTemplateHash": STABLE, "weight": 0}}},
        "conditions": [
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "lastUpdateTime": 5}
        ],
    }
    base.update(fields)
    return base


def weights(canary: int) -> dict:
    return {"weights": {"canary": {"podTemplateHash": UPDATE, "weight": canary}}}


class TestPhase:
    def test_healthy_before_the_update_is_initialized(self):
        assert canary_status_from_rollout(rollout_status(), updated_from=None).phase == Phase.INITIALIZED
        # triggered, but the controller has not seen the new template yet
        assert canary_status_from_rollout(rollout_status(), updated_from=STABLE).phase == Phase.INITIALIZED

    def test_healthy_after_the_update_is_succeeded_at_the_progressing_update(self):
        status = rollout_status(
            currentPodHash=UPDATE,
            stableRS=UPDATE,
            conditions=[
                {"type": "Progressing", "reason": "NewReplicaSetAvailable", "lastUpdateTime": 300},
                {"type": "Available", "reason": "AvailableReason", "lastUpdateTime": 120},
            ],
        )
        mapped = canary_status_from_rollout(status, updated_from=STABLE)
        assert mapped.phase == Phase.SUCCEEDED
        assert mapped.condition is not None
        assert mapped.condition.reason == Phase.SUCCEEDED
        assert mapped.condition.last_update_time == 300

    def test_healthy_with_the_canary_not_yet_stable_is_not_succeeded(self):
        status = rollout_status(currentPodHash=UPDATE, stableRS=STABLE)
        assert canary_status_from_rollout(status, updated_from=STABLE).phase == Phase.INITIALIZED

    def test_degraded_and_aborted_is_failed_at_aborted_at(self):
        status = rollout_status(
            phase="Degraded", abort=True, abortedAt=180, currentPodHash=UPDATE, canary=weights(0)
        )
        mapped = canary_status_from_rollout(status, updated_from=STABLE)
        assert mapped.phase == Phase.FAILED
        assert mapped.condition is not None
        assert mapped.condition.last_update_time == 180

    def test_degraded_without_abort_keeps_progressing(self):
        """A progress deadline without progressDeadlineAbort: the canary keeps its traffic, no rollback."""
        status = rollout_status(phase="Degraded", currentPodHash=UPDATE, canary=weights(20))
        mapped = canary_status_from_rollout(status, updated_from=STABLE)
        assert mapped.phase == Phase.PROGRESSING
        assert mapped.canary_weight == 20

    @pytest.mark.parametrize("phase", ["Paused", "Progressing"])
    def test_paused_and_progressing_are_progressing(self, phase):
        status = rollout_status(phase=phase, currentPodHash=UPDATE, canary=weights(40), currentStepIndex=2)
        mapped = canary_status_from_rollout(status, updated_from=STABLE)
        assert (mapped.phase, mapped.canary_weight, mapped.iterations) == (Phase.PROGRESSING, 40, 2)

    def test_unknown_phase_is_none(self):
        assert canary_status_from_rollout({"phase": "Weird"}, updated_from=None).phase == Phase.NONE


class TestChecks:
    def test_failed_measurements_count_errors_and_dry_run_do_not(self):
        runs = [
            {"metricResults": [{"name": "success-rate", "failed": 2, "error": 1, "successful": 3}]},
            {"metricResults": [{"name": "latency", "failed": 5, "dryRun": True}, {"name": "x", "failed": 1}]},
        ]
        assert failed_measurements(runs) == 3
        status = rollout_status(phase="Progressing", currentPodHash=UPDATE)
        assert canary_status_from_rollout(status, updated_from=STABLE, analysis_runs=runs).failed_checks == 3

    def test_times_go_through_the_converter(self):
        status = rollout_status(phase="Degraded", abort=True, abortedAt="2026-01-01T00:03:00Z")
        mapped = canary_status_from_rollout(
            status, updated_from=STABLE, seconds=lambda t: 42.0 if isinstance(t, str) else numeric_seconds(t)
        )
        assert mapped.condition is not None
        assert mapped.condition.last_update_time == 42.0

    def test_numeric_seconds_refuses_text(self):
        with pytest.raises(ValueError, match="seconds"):
            numeric_seconds("2026-01-01T00:00:00Z")
