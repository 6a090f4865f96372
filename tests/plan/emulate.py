"""Drive the real FlaggerController (FakeClock and in-memory fakes) and read off what the plan predicts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.clock import FakeClock
from harness.controllers.flagger.model import CanarySpec, Phase, TickRecord
from harness.controllers.flagger.ports import MetricsProvider
from harness.controllers.flagger.queries import MetricTemplate
from harness.errors import NoValuesFound
from harness.testing.ports import FakeRouter

from ..flagger.rig import HEALTHY, Rig, make_rig

Fault = Callable[["Emulation", float], bool]  # (emulation, now) → is the fault on?


@dataclass
class Emulation:
    rig: Rig
    trigger: float  # the template change
    p0: float  # the detection tick
    window: float

    def canary_weight_at(self, at: float) -> int:
        """Canary weight in the router at ``at`` (router history, 0 before any SetRoutes)."""
        weight = 0
        for when, _, canary in self.rig.router.history:
            if when <= at:
                weight = canary
        return weight

    def traffic_in_window(self, now: float) -> bool:
        """Did the canary have weight > 0 at any time in (now − window, now]?"""
        if self.canary_weight_at(now - self.window) > 0:
            return True
        return any(
            now - self.window < when <= now and canary > 0 for when, _, canary in self.rig.router.history
        )

    def reached_weight_before(self, weight: int, now: float) -> bool:
        return any(canary >= weight and when < now for when, _, canary in self.rig.router.history)


@dataclass(frozen=True)
class Observed:
    outcome: str  # "promoted" | "rolled-back" | "undecided"
    decided_tick: int | None
    promote_tick: int | None
    first_failing_tick: int | None
    weight_at_abort: int | None
    max_weight: int
    trigger: float
    p0: float
    interval: float
    records: tuple[TickRecord, ...]

    @property
    def decided_from_trigger(self) -> float | None:
        if self.decided_tick is None:
            return None
        return self.p0 + self.decided_tick * self.interval - self.trigger


def emulate(
    spec: CanarySpec,
    fault: Fault | None = None,
    *,
    canary_ready_after: float | None = 0.0,
    primary_ready_after: float = 0.0,
    zero_traffic_fails: bool = False,
    window: float = 60.0,
    max_ticks: int = 400,
    queries: dict[str, float] | None = None,
    metrics_provider: Callable[[FakeClock, FakeRouter], MetricsProvider] | None = None,
    templates: Sequence[MetricTemplate] = (),
) -> Observed:
    """Initialize, change the template half an interval before a tick, run to Succeeded/Failed.

    ``metrics_provider`` answers the controller's queries instead of the scripted fault/zero-traffic values.
    """
    rig = make_rig(
        spec,
        canary_ready_after=canary_ready_after,
        primary_ready_after=primary_ready_after,
        metrics_provider=metrics_provider,
        templates=templates,
    )
    rig.initialized()
    rig.new_revision()
    p0 = rig.controller.next_tick_at
    assert p0 is not None
    emulation = Emulation(rig, rig.clock.now(), p0, window)

    def success_rate(now: float) -> float | BaseException:
        if zero_traffic_fails and not emulation.traffic_in_window(now):
            return NoValuesFound()
        return 40.0 if fault is not None and fault(emulation, now) else 100.0

    def duration(now: float) -> float | BaseException:
        if zero_traffic_fails and not emulation.traffic_in_window(now):
            return NoValuesFound()
        return float(HEALTHY["request-duration"])

    rig.metrics.values["request-success-rate"] = success_rate
    rig.metrics.values["request-duration"] = duration
    rig.metrics.values.update(queries or {})
    records = rig.until_phase(Phase.SUCCEEDED, Phase.FAILED, max_ticks=max_ticks)
    return _observe(spec, emulation, tuple(records))


def _observe(spec: CanarySpec, emulation: Emulation, records: tuple[TickRecord, ...]) -> Observed:
    interval = spec.analysis.interval_seconds

    def tick(record: TickRecord) -> int:
        index = (record.at - emulation.p0) / interval
        assert abs(index - round(index)) < 1e-9, f"tick off the grid: {record.at}"
        return round(index)

    last = records[-1]
    outcome = {Phase.SUCCEEDED: "promoted", Phase.FAILED: "rolled-back"}.get(last.status.phase, "undecided")
    promote = next((tick(r) for r in records if r.status.phase == Phase.PROMOTING), None)
    failing = next((tick(r) for r in records if r.status.failed_checks > 0), None)
    weight_at_abort = None
    if outcome == "rolled-back" and len(records) >= 2:
        weight_at_abort = records[-2].router_weights[1]
    return Observed(
        outcome=outcome,
        decided_tick=tick(last) if outcome != "undecided" else None,
        promote_tick=promote,
        first_failing_tick=failing,
        weight_at_abort=weight_at_abort,
        max_weight=max(r.router_weights[1] for r in records),
        trigger=emulation.trigger,
        p0=emulation.p0,
        interval=interval,
        records=records,
    )
