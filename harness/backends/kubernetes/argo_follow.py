"""Follow an Argo Rollout and its AnalysisRuns with the Canary's watch machinery (``follow.StatusFollower``).

The Rollout is watched (410 Gone → re-list, each resourceVersion one sample); its status is mapped by the
shared ``controllers.argo_rollouts.canary_view`` (the mapping the local plug-in uses). Measurements do not
change the Rollout, so ``refresh_runs`` lists the update's AnalysisRuns (label
``rollouts-pod-template-hash=<currentPodHash>``) and a new failed-measurement count becomes a sample of its
own. Rollouts carry no write time of their own: a sample is stamped with the time it was seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from harness.backends.kubernetes.api import ClusterApi, ObjectWatchEvent
from harness.backends.kubernetes.argo_manifests import ROLLOUT_GROUP, ROLLOUT_VERSION
from harness.backends.kubernetes.follow import StatusFollower
from harness.backends.kubernetes.status import run_seconds
from harness.clock import Clock
from harness.controllers.argo_rollouts.canary_view import canary_status_from_rollout, failed_measurements
from harness.controllers.flagger.model import CanaryStatus
from harness.errors import ClusterError

POD_HASH_LABEL = "rollouts-pod-template-hash"


class RolloutFollower(StatusFollower):
    """Follows ``rollouts.argoproj.io`` ``name`` in ``namespace``."""

    kind = "rollout"

    def __init__(self, api: ClusterApi, namespace: str, name: str, clock: Clock) -> None:
        super().__init__(api, namespace, name, clock)
        self.updated_from: str | None = None  # currentPodHash before the trigger
        self.runs: list[Mapping[str, Any]] = []  # the update's AnalysisRun objects, as last listed
        self.last_object: Mapping[str, Any] | None = None

    def mark_update(self) -> None:
        """Call just before the pod-template change: the pod hash seen now is the one being replaced."""
        status = (self.last_object or {}).get("status") or {}
        self.updated_from = str(status.get("currentPodHash") or status.get("stableRS") or "")

    def _read(self) -> Mapping[str, Any]:
        found = self._api.get_custom_object(
            ROLLOUT_GROUP, ROLLOUT_VERSION, "rollouts", self._namespace, self._name
        )
        if found is None:
            raise ClusterError(f"get rollout {self._namespace}/{self._name}: HTTP 404 not found")
        return found

    def _watch(self, resource_version: str, timeout_seconds: float) -> Iterator[ObjectWatchEvent]:
        return self._api.watch_custom_object(
            ROLLOUT_GROUP,
            ROLLOUT_VERSION,
            "rollouts",
            self._namespace,
            self._name,
            resource_version,
            timeout_seconds,
        )

    def _convert(self, obj: Mapping[str, Any]) -> tuple[CanaryStatus, float | None]:
        self.last_object = obj
        return self._map(), None

    def _map(self) -> CanaryStatus:
        status = (self.last_object or {}).get("status") or {}
        return canary_status_from_rollout(
            status,
            updated_from=self.updated_from,
            analysis_runs=[run.get("status") or {} for run in self.runs],
            seconds=self._seconds,
        )

    def _seconds(self, value: object) -> float | None:
        return run_seconds(value if isinstance(value, str) else None, self._origin, self._clock.scale)

    def refresh_runs(self) -> None:
        """List the update's AnalysisRuns; a changed failed-measurement count is a new sample."""
        if self.updated_from is None or self.last_object is None:
            return
        pod_hash = str((self.last_object.get("status") or {}).get("currentPodHash") or "")
        if not pod_hash or pod_hash == self.updated_from:
            return
        before = failed_measurements([run.get("status") or {} for run in self.runs])
        self.runs = self._api.list_custom_objects(
            ROLLOUT_GROUP, ROLLOUT_VERSION, "analysisruns", self._namespace, f"{POD_HASH_LABEL}={pod_hash}"
        )
        if failed_measurements([run.get("status") or {} for run in self.runs]) != before:
            self.record(self._map(), self._clock.now())
