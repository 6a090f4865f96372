"""Deployment conditions and crash-loop backoff as kube-controller-manager and the kubelet compute them."""

from __future__ import annotations

import pytest

from harness.backends.local.deployment import (
    ConditionTracker,
    ReplicaCounts,
    backoff_expired,
    crashloop_delay,
)


def counts(
    spec: int, total: int, updated: int, available: int, updated_available: int | None = None
) -> ReplicaCounts:
    return ReplicaCounts(
        spec, total, updated, available, available if updated_available is None else updated_available
    )


def reasons(tracker: ConditionTracker) -> dict[str, tuple[str, str, float]]:
    return {c.type: (c.status, c.reason, c.last_update_time) for c in tracker.conditions}


class TestCrashLoopBackoff:
    def test_doubles_from_ten_seconds_and_caps_at_three_hundred(self) -> None:
        """Delays are 10, 20, 40, 80, 160, then 300 s for every later crash."""
        assert [crashloop_delay(n) for n in range(1, 9)] == [10, 20, 40, 80, 160, 300, 300, 300]
        assert crashloop_delay(0) == 0

    def test_backoff_resets_after_ten_minutes_of_running(self) -> None:
        """A container that ran for twice the cap (600 s) starts over at 10 s."""
        assert backoff_expired(600.0)
        assert not backoff_expired(599.0)


class TestConditionTracker:
    def test_rollout_that_never_becomes_ready_exceeds_the_deadline(self) -> None:
        """No progress for progressDeadlineSeconds after the pod appeared → False/ProgressDeadlineExceeded."""
        tracker = ConditionTracker(progress_deadline_seconds=60)
        tracker.new_template(100.0)
        tracker.observe(counts(1, 0, 0, 0), 100.0)
        tracker.observe(counts(1, 1, 1, 0), 101.0)  # pod created: progress
        assert reasons(tracker)["Progressing"] == ("True", "ReplicaSetUpdated", 101.0)
        tracker.observe(counts(1, 1, 1, 0), 161.0)
        assert reasons(tracker)["Progressing"][1] == "ReplicaSetUpdated"  # deadline is strictly after
        tracker.observe(counts(1, 1, 1, 0), 161.5)
        assert reasons(tracker)["Progressing"] == ("False", "ProgressDeadlineExceeded", 161.5)
        tracker.observe(counts(1, 1, 1, 0), 200.0)
        assert reasons(tracker)["Progressing"] == ("False", "ProgressDeadlineExceeded", 161.5)

    def test_available_false_keeps_the_time_it_became_unavailable(self) -> None:
        """Available=False/MinimumReplicasUnavailable carries the time of the change, not of the last look."""
        tracker = ConditionTracker()
        tracker.observe(counts(1, 1, 1, 1), 10.0)
        tracker.observe(counts(1, 1, 1, 0), 20.0)
        tracker.observe(counts(1, 1, 1, 0), 30.0)
        assert reasons(tracker)["Available"] == ("False", "MinimumReplicasUnavailable", 20.0)
        tracker.observe(counts(1, 1, 1, 1), 40.0)
        assert reasons(tracker)["Available"] == ("True", "MinimumReplicasAvailable", 40.0)

    def test_complete_rollout_never_times_out(self) -> None:
        """Once NewReplicaSetAvailable, a long quiet period does not flip Progressing."""
        tracker = ConditionTracker(progress_deadline_seconds=60)
        tracker.new_template(0.0)
        tracker.observe(counts(1, 1, 1, 1), 5.0)
        tracker.observe(counts(1, 1, 1, 1), 10_000.0)
        assert reasons(tracker)["Progressing"] == ("True", "NewReplicaSetAvailable", 5.0)

    def test_progress_refreshes_the_deadline(self) -> None:
        """Each newly ready replica moves lastUpdateTime, so the deadline counts from the last progress."""
        tracker = ConditionTracker(progress_deadline_seconds=60)
        tracker.new_template(0.0)
        tracker.observe(counts(3, 3, 3, 0), 0.0)
        tracker.observe(counts(3, 3, 3, 1), 50.0)
        tracker.observe(counts(3, 3, 3, 2), 100.0)
        tracker.observe(counts(3, 3, 3, 2), 159.0)
        assert reasons(tracker)["Progressing"] == ("True", "ReplicaSetUpdated", 100.0)
        tracker.observe(counts(3, 3, 3, 2), 161.0)
        assert reasons(tracker)["Progressing"][1] == "ProgressDeadlineExceeded"

    def test_new_template_clears_a_deadline_exceeded(self) -> None:
        """A new pod template starts a new rollout: True/NewReplicaSetCreated."""
        tracker = ConditionTracker(progress_deadline_seconds=1)
        tracker.new_template(0.0)
        tracker.observe(counts(1, 1, 1, 0), 5.0)
        assert reasons(tracker)["Progressing"][1] == "ProgressDeadlineExceeded"
        tracker.new_template(6.0)
        assert reasons(tracker)["Progressing"] == ("True", "NewReplicaSetCreated", 6.0)

    @pytest.mark.parametrize(("max_unavailable", "status"), [(0, "False"), (1, "True")])
    def test_max_unavailable_tolerates_missing_replicas(self, max_unavailable: int, status: str) -> None:
        """With maxUnavailable 1, 2 of 3 available replicas still count as Available."""
        tracker = ConditionTracker(max_unavailable=max_unavailable)
        tracker.observe(counts(3, 3, 3, 2), 1.0)
        assert reasons(tracker)["Available"][0] == status
