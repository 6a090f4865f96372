"""Lifecycle events the runner emits; reporting and progress listen (the runner never formats output)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from harness.flagger.model import CanaryEvent, MetricResult
from harness.model import LoadBucket, Mark, StatusSample

Stage = Literal["preflight", "deploy", "baseline", "trigger", "observe", "recovery", "teardown", "done"]
STAGES: tuple[Stage, ...] = ("preflight", "deploy", "baseline", "trigger", "observe", "recovery", "teardown")


@dataclass(frozen=True)
class ObservedBatch:
    """Everything observed in one batch; listeners append it to their own records."""

    samples: Sequence[StatusSample] = ()
    events: Sequence[CanaryEvent] = ()
    checks: Sequence[MetricResult] = ()
    load: Sequence[LoadBucket] = ()
    marks: Sequence[Mark] = ()
    queries: Sequence[dict[str, object]] = field(default=())


class RunListener(Protocol):
    def stage(self, stage: Stage, at: float) -> None: ...

    def observed(self, batch: ObservedBatch) -> None: ...

    def warning(self, at: float, text: str) -> None: ...
