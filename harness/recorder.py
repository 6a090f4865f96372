"""Collects one run's timeline as the runner reports it, and streams it to the partial journal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.flagger.model import CanaryEvent, MetricResult
from harness.lifecycle import ObservedBatch, Stage
from harness.model import LoadBucket, Mark, StatusSample


@dataclass
class Timeline:
    """The mutable accumulation of a run; frozen into the journal record at the end."""

    marks: list[Mark] = field(default_factory=list)
    samples: list[StatusSample] = field(default_factory=list)
    events: list[CanaryEvent] = field(default_factory=list)
    checks: list[MetricResult] = field(default_factory=list)
    load: list[LoadBucket] = field(default_factory=list)
    queries: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # evidence known to be missing or unreliable
    stages: list[tuple[Stage, float]] = field(default_factory=list)

    def mark(self, at: float, kind: str, detail: str) -> Mark:
        mark = Mark(at=at, kind=kind, detail=detail)  # type: ignore[arg-type]
        self.marks.append(mark)
        return mark

    def first_mark(self, kind: str) -> Mark | None:
        return next((m for m in self.marks if m.kind == kind), None)


class Recorder:
    """A RunListener that keeps the timeline and forwards every item to a sink (the partial journal)."""

    def __init__(self, sink: Callable[[str, object], None] | None = None) -> None:
        self.timeline = Timeline()
        self._sink = sink or (lambda kind, item: None)
        self._lock = threading.Lock()

    def stage(self, stage: Stage, at: float) -> None:
        with self._lock:
            self.timeline.stages.append((stage, at))
            self._sink("mark", self.timeline.mark(at, "stage", stage))

    def observed(self, batch: ObservedBatch) -> None:
        with self._lock:
            t = self.timeline
            for kind, items, target in (
                ("sample", batch.samples, t.samples),
                ("event", batch.events, t.events),
                ("check", batch.checks, t.checks),
                ("load", batch.load, t.load),
                ("mark", batch.marks, t.marks),
                ("query", batch.queries, t.queries),
            ):
                for item in items:
                    target.append(item)  # type: ignore[attr-defined]
                    self._sink(kind, item)

    def warning(self, at: float, text: str) -> None:
        with self._lock:
            self.timeline.warnings.append(text)
            self._sink("mark", self.timeline.mark(at, "warning", text))

    def add_mark(self, at: float, kind: str, detail: str) -> Mark:
        with self._lock:
            mark = self.timeline.mark(at, kind, detail)
            self._sink("mark", mark)
            return mark

    def missing(self, text: str) -> None:
        with self._lock:
            if text not in self.timeline.missing:
                self.timeline.missing.append(text)
                self._sink("missing", text)
