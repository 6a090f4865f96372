"""Keeps one run's timeline as a RunListener; the runner freezes it into the journal at the end."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from harness.controllers.flagger.model import CanaryEvent, MetricResult
from harness.model import LoadBucket, Mark, ObservedBatch, Stage, StatusSample


@dataclass
class Timeline:
    marks: list[Mark] = field(default_factory=list)
    samples: list[StatusSample] = field(default_factory=list)
    events: list[CanaryEvent] = field(default_factory=list)
    checks: list[MetricResult] = field(default_factory=list)
    load: list[LoadBucket] = field(default_factory=list)
    queries: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def first_mark(self, kind: str, detail: str | None = None) -> Mark | None:
        return next((m for m in self.marks if m.kind == kind and detail in (None, m.detail)), None)


class Recorder:
    """A RunListener that accumulates everything the runner observed."""

    def __init__(self) -> None:
        self.timeline = Timeline()
        self._lock = threading.Lock()

    def stage(self, stage: Stage, at: float) -> None:
        with self._lock:
            self.timeline.marks.append(Mark(at=at, kind="stage", detail=stage))

    def observed(self, batch: ObservedBatch) -> None:
        with self._lock:
            t = self.timeline
            t.samples.extend(batch.samples)
            t.events.extend(batch.events)
            t.checks.extend(batch.checks)
            t.load.extend(batch.load)
            t.marks.extend(batch.marks)
            t.queries.extend(batch.queries)

    def warning(self, at: float, text: str) -> None:
        with self._lock:
            self.timeline.warnings.append(text)
            self.timeline.marks.append(Mark(at=at, kind="warning", detail=text))
