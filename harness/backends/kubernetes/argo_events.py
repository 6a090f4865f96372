"""Argo Rollouts' Kubernetes Events in a run namespace → the ``CanaryEvent``s the local plug-in emits.

Argo v1.9.1 records core/v1 Events through client-go's recorder (``utils/record/record.go``) on the Rollout
(``RolloutUpdated``, ``RolloutStepCompleted``, ``RolloutPaused``, ``RolloutAborted``, ``AnalysisRunFailed``,
``RolloutCompleted``…) and on its AnalysisRuns (``AnalysisRunFailed``…). Each becomes
``CanaryEvent(at, type, message, phase, reason)`` with Argo's reason and message verbatim, as
``controllers.argo_rollouts.status_map.canary_event`` makes them locally; ``phase`` is the Rollout's mapped
phase when the Event is read (the local plug-in stamps the phase of the tick that emitted it).

Dedupe and repeats: every read lists all Events of both kinds (a list has no "since"); an Event is known by
its uid and the ``count`` last seen. client-go's EventCorrelator folds an identical repeat (same object,
type, reason, message) into the same Event, incrementing ``count`` and moving ``lastTimestamp``. So a new
Event gives one ``CanaryEvent`` at its first time, and a count higher than last seen (a repeat, on first sight
too) one more at its last time: one per read that saw the count grow, because the times of repeats folded
between two reads are gone. The message stays Argo's, so the verdict's substring matches work unchanged.

Times: Event timestamps are RFC 3339 whole seconds (``metav1.Time``); like the backend's other cluster
timestamps they become run-clock seconds (``status.run_seconds``: relative to ``clock.wall(0)``, times the
time scale), so at ``--time-scale S`` an Event time is exact to S emulated seconds, and is capped at the
run clock's now (an Event cannot be later than the read that found it; a cluster clock ahead of ours).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from harness.backends.kubernetes.api import ClusterApi, EventInfo
from harness.backends.kubernetes.status import run_seconds
from harness.clock import Clock
from harness.controllers.flagger.model import CanaryEvent, Phase
from harness.errors import ClusterError

ARGO_EVENT_KINDS = ("Rollout", "AnalysisRun")


def new_events(
    listed: list[EventInfo], seen: MutableMapping[str, int], seconds: Callable[[str], float], phase: Phase
) -> list[CanaryEvent]:
    """The ``CanaryEvent``s of Events not seen before or seen with a lower count; updates ``seen``."""
    out: list[CanaryEvent] = []
    for info in listed:
        before = seen.get(info.uid)
        if before is not None and info.count <= before:
            continue
        seen[info.uid] = info.count
        if before is None:
            out.append(_event(info, seconds(info.first_time or info.last_time), phase))
        if info.count > (before or 1):
            out.append(_event(info, seconds(info.last_time or info.first_time), phase))
    return sorted(out, key=lambda e: e.at)


def _event(info: EventInfo, at: float, phase: Phase) -> CanaryEvent:
    return CanaryEvent(at=at, type=info.type, message=info.message, phase=phase, reason=info.reason)


@dataclass
class RolloutEvents:
    """Reads one run namespace's Argo Events; an unreadable list is a gap until a later read succeeds
    (Events outlive it: the API server keeps them for an hour by default, so nothing is lost)."""

    api: ClusterApi
    namespace: str
    clock: Clock
    diagnostics: MutableMapping[str, str]
    seen: dict[str, int] = field(default_factory=dict)  # Event uid → count last turned into events
    gap: str | None = None

    def read(self, phase: Phase) -> list[CanaryEvent]:
        try:
            listed = [e for kind in ARGO_EVENT_KINDS for e in self.api.list_events(self.namespace, kind)]
        except ClusterError as exc:
            self.diagnostics["rollout-events-error"] = str(exc)
            if self.gap is None:
                self.gap = f"Argo Rollouts events unreadable since t={self.clock.now():.0f}s: {exc}"
            return []
        self.gap = None
        return new_events(listed, self.seen, self._seconds, phase)

    def _seconds(self, text: str) -> float:
        now = self.clock.now()
        at = run_seconds(text or None, self.clock.wall(0.0), self.clock.scale)
        return now if at is None else min(at, now)
