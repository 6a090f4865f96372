"""Follow one controller object through the cluster port: watch, resume on 410 Gone by re-listing, wait.

Each distinct ``resourceVersion`` becomes exactly one ``StatusSample`` (a re-list after 410 that returns
an object already seen adds nothing). ``StatusFollower`` is the machinery; ``CanaryFollower`` follows a
Flagger Canary, stamping each sample with the time Flagger wrote it (``status.lastTransitionTime``, set on
every status write) or, before the first status write, the time we saw it. ``argo_follow.RolloutFollower``
follows an Argo Rollout with the same machinery.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, cast

from harness.backends.kubernetes.api import CanaryObject, ClusterApi, GoneError, ObjectWatchEvent
from harness.backends.kubernetes.status import to_status
from harness.clock import Clock
from harness.controllers.flagger.model import CanaryStatus
from harness.durations import format_duration
from harness.errors import ClusterError
from harness.model import StatusSample

WATCH_CHUNK_SECONDS = 30.0


class WaitTimeout(ClusterError):
    """A wait on the Canary passed its deadline; diagnostics were collected first."""


class StatusFollower(ABC):
    """Keeps the last seen state of one object and buffers every new sample until ``drain``.

    Subclasses say how to read and watch the object and how its JSON becomes a ``CanaryStatus``."""

    kind = "object"

    def __init__(self, api: ClusterApi, namespace: str, name: str, clock: Clock) -> None:
        self._api, self._namespace, self._name, self._clock = api, namespace, name, clock
        self._origin: datetime = clock.wall(0.0)
        self._resource_version = ""
        self._seen: set[str] = set()
        self._pending: list[StatusSample] = []
        self.history: list[CanaryStatus] = []
        self.relists = 0

    @property
    def last(self) -> CanaryStatus | None:
        return self.history[-1] if self.history else None

    def relist(self) -> None:
        """GET the Canary and take it as the new watch starting point."""
        self.relists += 1
        self._accept(self._read())

    def poll(self, timeout_seconds: float) -> None:
        """Watch for up to ``timeout_seconds`` (real seconds: the API server's watch timeout); on 410 Gone
        re-list (the next poll resumes from there)."""
        if not self._resource_version:
            self.relist()
        try:
            for event in self._watch(self._resource_version, timeout_seconds):
                if event.type == "BOOKMARK":
                    self._resource_version = event.object["metadata"].get("resourceVersion", "")
                elif event.type == "DELETED":
                    raise ClusterError(
                        f"{self.kind} {self._namespace}/{self._name} was deleted during the run"
                    )
                else:
                    self._accept(event.object)
        except GoneError:
            self.relist()

    @abstractmethod
    def _read(self) -> Mapping[str, Any]:
        """GET the object."""

    @abstractmethod
    def _watch(self, resource_version: str, timeout_seconds: float) -> Iterator[ObjectWatchEvent]:
        """Watch the object from ``resource_version``; ``GoneError`` on 410."""

    @abstractmethod
    def _convert(self, obj: Mapping[str, Any]) -> tuple[CanaryStatus, float | None]:
        """The object's status, and when it was written (None: unknown, the time we saw it)."""

    def _accept(self, obj: Mapping[str, Any]) -> None:
        version = obj["metadata"].get("resourceVersion", "")
        if version and version in self._seen:
            return
        self._seen.add(version)
        self._resource_version = version
        status, written_at = self._convert(obj)
        self.record(status, self._clock.now() if written_at is None else written_at)

    def record(self, status: CanaryStatus, at: float) -> None:
        """A new state of the object (or of what its status is derived from) seen at ``at``."""
        self.history.append(status)
        self._pending.append(StatusSample(at=at, status=status))

    def drain(self) -> tuple[StatusSample, ...]:
        samples, self._pending = tuple(self._pending), []
        return samples

    def wait_until(
        self,
        predicate: Callable[[CanaryStatus], bool],
        *,
        budget_seconds: float,
        what: str,
        on_timeout: Callable[[], None],
        include_current: bool = True,
    ) -> CanaryStatus:
        """Poll until a status seen from now on (or the current one) satisfies ``predicate``.

        Every status seen counts, even one that was passed within a single watch chunk. Past the deadline
        call ``on_timeout`` (diagnostics) and raise ``WaitTimeout`` naming the deadline.
        """
        deadline = self._clock.now() + budget_seconds
        if not self.history:
            self.relist()
        checked = len(self.history) - (1 if include_current else 0)
        while True:
            for status in self.history[checked:]:
                if predicate(status):
                    return status
            checked = len(self.history)
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                on_timeout()
                phase = self.last.phase.value if self.last else "unknown"
                raise WaitTimeout(
                    f"{self.kind} {self._namespace}/{self._name}: {what} not reached within "
                    f"{format_duration(budget_seconds)} (deadline t={deadline:.0f}s, last phase {phase!r})"
                )
            self.poll(min(remaining / self._clock.scale, WATCH_CHUNK_SECONDS))


class CanaryFollower(StatusFollower):
    """Follows a Flagger Canary."""

    kind = "canary"

    def _read(self) -> Mapping[str, Any]:
        return self._api.get_canary(self._namespace, self._name)

    def _watch(self, resource_version: str, timeout_seconds: float) -> Iterator[ObjectWatchEvent]:
        for event in self._api.watch_canary(self._namespace, self._name, resource_version, timeout_seconds):
            yield ObjectWatchEvent(event.type, event.object)

    def _convert(self, obj: Mapping[str, Any]) -> tuple[CanaryStatus, float | None]:
        canary = cast(CanaryObject, obj)
        status = to_status(canary, self._origin, self._clock.scale)
        written = "status" in canary and "lastTransitionTime" in canary["status"]
        return status, status.last_transition_time if written else None
