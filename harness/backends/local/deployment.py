"""Deployment status conditions and container restart backoff, as Kubernetes computes them. Pure.

Follows kube-controller-manager's ``syncRolloutStatus`` (``pkg/controller/deployment/progress.go``):
- ``Available``: True/MinimumReplicasAvailable when availableReplicas ≥ replicas − maxUnavailable, else
  False/MinimumReplicasUnavailable; ``last_update_time`` changes only when status or reason changes.
- ``Progressing``: True/NewReplicaSetCreated when a new pod template is rolled out; True/ReplicaSetUpdated
  (time refreshed) whenever the rollout makes progress; True/NewReplicaSetAvailable once complete;
  False/ProgressDeadlineExceeded when no progress was made for ``progress_deadline_seconds`` since the last
  progress (for a rollout that never progresses: since it started).
And the kubelet's CrashLoopBackOff: 10 s, 20 s, 40 s … capped at 300 s; reset after 600 s of clean running.
All times are emulated seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.controllers.flagger.ports import DeploymentCondition

DEFAULT_PROGRESS_DEADLINE_SECONDS = 600.0
BACKOFF_INITIAL_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 300.0


def crashloop_delay(
    crashes: int, *, initial: float = BACKOFF_INITIAL_SECONDS, cap: float = BACKOFF_CAP_SECONDS
) -> float:
    """Seconds to wait before restarting a container that has crashed ``crashes`` (≥ 1) times in a row."""
    if crashes < 1:
        return 0.0
    return float(min(initial * 2 ** min(crashes - 1, 32), cap))


def backoff_expired(ran_for: float, *, cap: float = BACKOFF_CAP_SECONDS) -> bool:
    """The kubelet forgets the backoff once a container ran cleanly for twice the cap."""
    return ran_for >= 2 * cap


@dataclass(frozen=True)
class ReplicaCounts:
    """One observation of a Deployment's pods."""

    spec: int  # spec.replicas
    total: int  # status.replicas: pods of every template
    updated: int  # pods of the current template
    available: int  # ready pods of every template (minReadySeconds = 0)
    updated_available: int  # ready pods of the current template

    @property
    def old(self) -> int:
        return self.total - self.updated

    @property
    def complete(self) -> bool:
        return self.updated == self.spec and self.total == self.spec and self.updated_available >= self.spec


class ConditionTracker:
    """Keeps the ``Progressing`` and ``Available`` conditions of one Deployment."""

    def __init__(
        self,
        *,
        progress_deadline_seconds: float = DEFAULT_PROGRESS_DEADLINE_SECONDS,
        max_unavailable: int = 0,
    ) -> None:
        self.progress_deadline_seconds = progress_deadline_seconds
        self.max_unavailable = max_unavailable
        self.progressing: DeploymentCondition | None = None
        self.available: DeploymentCondition | None = None
        self._last: ReplicaCounts | None = None

    @property
    def conditions(self) -> tuple[DeploymentCondition, ...]:
        return tuple(c for c in (self.available, self.progressing) if c is not None)

    def new_template(self, now: float) -> None:
        """A new pod template (new ReplicaSet) starts rolling out."""
        self.progressing = DeploymentCondition("Progressing", "True", "NewReplicaSetCreated", now)

    def observe(self, counts: ReplicaCounts, now: float) -> tuple[DeploymentCondition, ...]:
        """Update both conditions from one observation and return them."""
        self._observe_available(counts, now)
        self._observe_progressing(counts, now)
        self._last = counts
        return self.conditions

    def _observe_available(self, counts: ReplicaCounts, now: float) -> None:
        if counts.available >= counts.spec - self.max_unavailable:
            self.available = _set(self.available, "Available", "True", "MinimumReplicasAvailable", now)
        else:
            self.available = _set(self.available, "Available", "False", "MinimumReplicasUnavailable", now)

    def _observe_progressing(self, counts: ReplicaCounts, now: float) -> None:
        if counts.complete:
            self.progressing = _set(self.progressing, "Progressing", "True", "NewReplicaSetAvailable", now)
        elif self._made_progress(counts):
            self.progressing = DeploymentCondition("Progressing", "True", "ReplicaSetUpdated", now)
        elif self._timed_out(now):
            self.progressing = _set(self.progressing, "Progressing", "False", "ProgressDeadlineExceeded", now)

    def _made_progress(self, counts: ReplicaCounts) -> bool:
        last = self._last
        if last is None:
            return False
        return (
            counts.updated > last.updated
            or counts.old < last.old
            or counts.available > last.available
            or counts.updated_available > last.updated_available
        )

    def _timed_out(self, now: float) -> bool:
        current = self.progressing
        if current is None or current.reason == "NewReplicaSetAvailable":
            return False
        if current.reason == "ProgressDeadlineExceeded":
            return True
        return current.last_update_time + self.progress_deadline_seconds < now


def _set(
    current: DeploymentCondition | None,
    type_: Literal["Progressing", "Available"],
    status: Literal["True", "False"],
    reason: str,
    now: float,
) -> DeploymentCondition:
    """Kubernetes' SetDeploymentCondition: unchanged when status and reason are the same."""
    if current is not None and current.status == status and current.reason == reason:
        return current
    return DeploymentCondition(type_, status, reason, now)
