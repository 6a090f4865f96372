"""Scripted in-memory fakes of a Backend and a LoadDriver, for runner tests without processes or sleep.

``FakeBackend`` replays a Flagger-shaped status script against a ``FakeClock``; ``FakeLoad`` produces one
load bucket per second per version from a function of time. Both are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from harness.backends.base import Observation, PreflightCheck
from harness.clock import FakeClock
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, Phase, PromotedCondition
from harness.controllers.registry import ControllerSpec
from harness.errors import InfrastructureError
from harness.model import Ingress, LoadBucket, Revision, StatusSample

_CONDITION = {
    Phase.FAILED: ("False", "Canary analysis failed, Deployment scaled to zero."),
    Phase.SUCCEEDED: ("True", "Canary analysis completed successfully, promotion finished."),
    Phase.INITIALIZED: ("True", "Deployment initialization completed."),
}


@dataclass(frozen=True)
class ScriptStep:
    """At ``after`` emulated seconds past the trigger, the Canary shows this status (and events)."""

    after: float
    phase: Phase
    weight: int = 0
    failed_checks: int = 0
    events: tuple[str, ...] = ()


@dataclass
class FakeBackend:
    """A Backend whose Canary follows ``script`` after ``trigger()``; records every call it gets."""

    clock: FakeClock
    script: Sequence[ScriptStep]
    name: str = "fake"
    fail_on: str | None = None  # "deploy" | "trigger" | "observe": raise InfrastructureError there
    calls: list[str] = field(default_factory=list)
    faults_set: list[tuple[float, tuple[Mapping[str, Any], ...]]] = field(default_factory=list)
    # (from, until) seconds after the trigger during which events are unreadable (until None: to the end)
    event_gap: tuple[float, float | None] | None = None
    _trigger_at: float | None = None
    _emitted: int = 0
    _status: CanaryStatus = field(default_factory=CanaryStatus)

    def preflight(self) -> Sequence[PreflightCheck]:
        self.calls.append("preflight")
        return (PreflightCheck("fake", True),)

    def deploy(self, canary: ControllerSpec, stable: Revision) -> Ingress:
        self._maybe_fail("deploy")
        self._status = _status(Phase.INITIALIZED, 0, 0, self.clock.now())
        return Ingress(url="http://127.0.0.1:9")

    def trigger(self, revision: Revision) -> float:
        self._maybe_fail("trigger")
        self._trigger_at = self.clock.now()
        return self._trigger_at

    def set_canary_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        self.calls.append("set_canary_faults")
        self.faults_set.append((self.clock.now(), tuple(faults)))

    def observe(self) -> Observation:
        self._maybe_fail("observe")
        if self._trigger_at is None:
            return Observation()
        samples: list[StatusSample] = []
        events: list[CanaryEvent] = []
        while self._emitted < len(self.script):
            step = self.script[self._emitted]
            at = self._trigger_at + step.after
            if at > self.clock.now():
                break
            self._status = _status(step.phase, step.weight, step.failed_checks, at, self._status)
            samples.append(
                StatusSample(at=at, status=self._status, router_weights=(100 - step.weight, step.weight))
            )
            kind: Literal["Normal", "Warning"] = "Warning" if step.phase is Phase.FAILED else "Normal"
            events.extend(CanaryEvent(at=at, type=kind, message=m, phase=step.phase) for m in step.events)
            self._emitted += 1
        return Observation(samples=tuple(samples), events=tuple(events), gaps=self._gaps())

    def _gaps(self) -> tuple[str, ...]:
        if self.event_gap is None or self._trigger_at is None:
            return ()
        start, end = self.event_gap
        since = self.clock.now() - self._trigger_at
        open_ = since >= start and (end is None or since < end)
        return (f"Flagger events unreadable since {start:g}s after the trigger (fake)",) if open_ else ()

    def status(self) -> CanaryStatus:
        return self._status

    def diagnostics(self) -> Mapping[str, str]:
        return {"fake status": repr(self._status)}

    def teardown(self) -> None:
        self.calls.append("teardown")

    def _maybe_fail(self, stage: str) -> None:
        self.calls.append(stage)
        if self.fail_on == stage:
            raise InfrastructureError(f"fake {stage} failure")


def _status(
    phase: Phase, weight: int, failed: int, at: float, previous: CanaryStatus | None = None
) -> CanaryStatus:
    status, message = _CONDITION.get(
        phase, ("Unknown", "New revision detected, progressing canary analysis.")
    )
    old = previous.condition if previous else None
    changed = old is None or old.reason != phase
    condition = PromotedCondition(
        reason=phase,
        status=status,  # type: ignore[arg-type]
        message=message,
        last_transition_time=at if old is None or old.status != status else old.last_transition_time,
        last_update_time=at if changed or old is None else old.last_update_time,
    )
    base = previous or CanaryStatus()
    return replace(
        base,
        phase=phase,
        canary_weight=weight,
        failed_checks=failed,
        last_transition_time=at,
        condition=condition,
    )


@dataclass
class FakeLoad:
    """One bucket per emulated second per version: ``traffic(t) -> {version: (requests, bad)}``."""

    clock: FakeClock
    traffic: Callable[[float], Mapping[str, tuple[int, int]]]
    problem_at: float | None = None  # from this time on, report a dead load generator
    started: bool = False
    stopped: bool = False
    _next: float | None = None

    def start(self) -> None:
        self.started = True
        self._next = float(int(self.clock.now()))

    def collect(self) -> Sequence[LoadBucket]:
        assert self._next is not None, "collect() before start()"
        out: list[LoadBucket] = []
        while self._next + 1 <= self.clock.now():
            for version, (requests, bad) in self.traffic(self._next).items():
                if requests - bad:
                    out.append(_bucket(self._next, version, 200, requests - bad, 0))
                if bad:
                    out.append(_bucket(self._next, version, 500, bad, bad))
            self._next += 1
        return out

    def problem(self) -> str | None:
        if self.problem_at is not None and self.clock.now() >= self.problem_at:
            return "fake load worker died (exit code -9)"
        return None

    def stop(self) -> None:
        self.stopped = True


def _bucket(start: float, version: str, status: int, requests: int, bad: int) -> LoadBucket:
    hurt = tuple(f"u{i:04d}" for i in range(bad))
    return LoadBucket(
        start=start,
        duration=1.0,
        version=version,
        status=status,
        requests=requests,
        bad=bad,
        latency_p50_ms=5.0,
        latency_p95_ms=9.0,
        latency_p99_ms=12.0,
        latency_max_ms=20.0,
        hurt_users=hurt,
    )


# A canary bad from the start (interval 60 s, threshold 3): Flagger's ticks relative to the trigger.
ROLLBACK_EVENTS = (
    "Rolling back faulty-app.canary-chaos failed checks threshold reached 3",
    "Canary failed! Scaling down faulty-app.canary-chaos",
)
BAD_FROM_START = (
    ScriptStep(30, Phase.PROGRESSING, 0, 0, ("New revision detected! Scaling up faulty-app.canary-chaos",)),
    ScriptStep(90, Phase.PROGRESSING, 10, 0, ("Starting canary analysis for faulty-app.canary-chaos",)),
    ScriptStep(150, Phase.PROGRESSING, 10, 1),
    ScriptStep(210, Phase.PROGRESSING, 10, 2),
    ScriptStep(270, Phase.PROGRESSING, 10, 3),
    ScriptStep(330, Phase.FAILED, 0, 0, ROLLBACK_EVENTS),
)


def bad_canary_traffic(trigger_at: float) -> Callable[[float], dict[str, tuple[int, int]]]:
    def traffic(t: float) -> dict[str, tuple[int, int]]:
        canary = 0 if t < trigger_at + 90 or t >= trigger_at + 330 else 20
        return {"1.0.0": (200 - canary, 0), "1.1.0": (canary, canary)}

    return traffic
