"""Hand-built run timelines (emulated seconds from a FakeClock) for verdict tests."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from harness.clock import FakeClock
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, Phase, PromotedCondition
from harness.model import LoadBucket, Mark, StatusSample
from harness.verdict.fault_effect import FaultExpectation
from harness.verdict.judge import Evidence

INTERVAL = 60.0
STABLE, CANARY = "1.0.0", "1.1.0"
REF = "faulty-app.canary-chaos"
ERRORS_FROM_START = FaultExpectation(error_fraction=1.0, from_start=True)


def status(
    phase: Phase,
    weight: int = 0,
    *,
    updated: float,
    transition: float,
    failed: int = 0,
    promoted_spec: str = "spec-stable",
) -> CanaryStatus:
    state = {Phase.FAILED: "False", Phase.SUCCEEDED: "True"}.get(phase, "Unknown")
    condition = PromotedCondition(phase, state, "", last_transition_time=transition, last_update_time=updated)  # type: ignore[arg-type]
    return CanaryStatus(
        phase,
        weight,
        failed,
        last_promoted_spec=promoted_spec,
        last_transition_time=transition,
        condition=condition,
    )


@dataclass
class Story:
    """A run, built tick by tick on a FakeClock; ``evidence()`` freezes it."""

    clock: FakeClock = field(default_factory=FakeClock)
    samples: list[StatusSample] = field(default_factory=list)
    events: list[CanaryEvent] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    load: list[LoadBucket] = field(default_factory=list)
    fault: FaultExpectation | None = None
    phase_since: float = 0.0
    phase: Phase = Phase.INITIALIZED

    def mark(self, kind: str, detail: str = "") -> None:
        self.marks.append(Mark(self.clock.now(), kind, detail))  # type: ignore[arg-type]

    def tick(
        self, phase: Phase, weight: int = 0, *, failed: int = 0, promoted_spec: str = "spec-stable"
    ) -> None:
        now = self.clock.now()
        if phase != self.phase:
            self.phase, self.phase_since = phase, now
        st = status(
            phase,
            weight,
            updated=self.phase_since,
            transition=now,
            failed=failed,
            promoted_spec=promoted_spec,
        )
        self.samples.append(StatusSample(now, st, (100 - weight, weight)))

    def event(self, message: str, kind: str = "Normal") -> None:
        self.events.append(CanaryEvent(self.clock.now(), kind, message, self.phase))  # type: ignore[arg-type]

    def traffic(
        self,
        seconds: float,
        weight: int,
        *,
        canary_bad: float = 0.0,
        stable_bad: float = 0.0,
        per_bucket: int = 100,
        bucket: float = 10.0,
        canary_version: str = CANARY,
        canary_p99: float = 20.0,
    ) -> None:
        """``seconds`` of load in ``bucket``-long buckets, split by ``weight``; the clock advances."""
        end = self.clock.now() + seconds
        while self.clock.now() < end - 1e-9:
            start = self.clock.now()
            to_canary = per_bucket * weight // 100
            to_stable = per_bucket - to_canary
            bad_stable = round(to_stable * stable_bad)
            self.load.append(LoadBucket(start, bucket, STABLE, 200, to_stable, bad_stable, 5, 10, 20, 30))
            if to_canary:
                bad = round(to_canary * canary_bad)
                hurt = tuple(f"user-{i}" for i in range(min(bad, 7)))
                self.load.append(
                    LoadBucket(
                        start,
                        bucket,
                        canary_version,
                        500 if bad else 200,
                        to_canary,
                        bad,
                        5,
                        10,
                        canary_p99,
                        canary_p99,
                        hurt,
                    )
                )
            self.clock.advance(bucket)

    def evidence(self, **changes: object) -> Evidence:
        ev = Evidence(
            tuple(self.samples),
            tuple(self.events),
            (),
            tuple(self.load),
            tuple(self.marks),
            INTERVAL,
            STABLE,
            CANARY,
            self.fault,
            600.0,
        )
        return replace(ev, **changes)  # type: ignore[arg-type]


def rolled_back_story(
    *,
    fault: FaultExpectation | None = ERRORS_FROM_START,
    canary_bad: float = 1.0,
    weight: int = 10,
    post_rollback_canary: bool = False,
    cause_event: str | None = f"Rolling back {REF} failed checks threshold reached 3",
    stable_bad_after: float = 0.0,
) -> Story:
    """Warm-up, trigger at 120, start tick 180 at ``weight``, 3 failed checks, rollback 420, watch to 600."""
    s = Story(fault=fault)
    s.mark("stage", "baseline")
    s.tick(Phase.INITIALIZED)
    s.traffic(120, 0)
    s.mark("trigger")
    s.mark("stage", "observe")
    s.tick(Phase.PROGRESSING, 0)
    s.event(f"New revision detected! Scaling up {REF}")
    s.traffic(60, 0)
    s.tick(Phase.PROGRESSING, weight)
    s.event(f"Starting canary analysis for {REF}")
    for failed in (1, 2, 3):
        s.traffic(60, weight, canary_bad=canary_bad)
        s.tick(Phase.PROGRESSING, weight, failed=failed)
        s.event(f"Halt {REF} advancement success rate 0.00% < 99%", "Warning")
    s.traffic(60, weight, canary_bad=canary_bad)
    s.tick(Phase.FAILED, 0)  # at 420
    if cause_event:
        s.event(cause_event, "Warning")
    s.event(f"Canary failed! Scaling down {REF}", "Warning")
    s.mark("stage", "recovery")
    s.traffic(180, 10 if post_rollback_canary else 0, stable_bad=stable_bad_after)
    s.tick(Phase.FAILED, 0)
    return s


def promoted_story(
    *, weights: tuple[int, ...] = (10, 20, 30, 40, 50), fault: FaultExpectation | None = None
) -> Story:
    """Warm-up 0–120, trigger 120, a weight per interval from 180, Promoting → Finalising → Succeeded."""
    s = Story(fault=fault)
    s.mark("stage", "baseline")
    s.tick(Phase.INITIALIZED)
    s.traffic(120, 0)
    s.mark("trigger")
    s.tick(Phase.PROGRESSING, 0)
    s.traffic(60, 0)
    for weight in weights:
        s.tick(Phase.PROGRESSING, weight)
        s.event(f"Advance {REF} canary weight {weight}")
        s.traffic(60, weight)
    s.event("Copying faulty-app.canary-chaos template spec to faulty-app-primary.canary-chaos")
    s.tick(Phase.PROMOTING, weights[-1])
    s.traffic(60, weights[-1])
    s.tick(Phase.FINALISING, 0)
    s.traffic(60, 0, canary_version=CANARY)
    s.tick(Phase.SUCCEEDED, 0, promoted_spec="spec-canary")
    s.mark("promotion")
    s.traffic(60, 0)
    return s
