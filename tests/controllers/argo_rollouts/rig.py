"""A RolloutController wired to in-memory fakes of its ports, on a FakeClock, plus manifest builders."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.clock import FakeClock
from harness.controllers.argo_rollouts.controller import RolloutController
from harness.controllers.argo_rollouts.model import RolloutEvent, RolloutPhase
from harness.controllers.argo_rollouts.ports import QueryResult
from harness.errors import ClusterError, MetricsError
from harness.scenario.argo_rollout import RolloutBundle, parse_bundle

DATA = Path(__file__).parents[2] / "data" / "rollouts"
CANARY_HASH = "6f9c"


class FakeTraefik:
    """The TraefikService: every weight write, with its time."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.writes: list[tuple[float, int]] = []
        self.failures = 0  # the next N writes fail

    def set_weight(self, canary_weight: int) -> None:
        if self.failures:
            self.failures -= 1
            raise ClusterError('Error updating traefik service "podinfo": conflict')
        self.writes.append((self._clock.now(), canary_weight))

    @property
    def weight(self) -> int | None:
        return self.writes[-1][1] if self.writes else None


class FakeWorkload:
    """Canary pods become available ``ready_after`` seconds after a scale-up (never when None)."""

    def __init__(self, clock: FakeClock, replicas: int, ready_after: float | None = 0.0) -> None:
        self._clock = clock
        self.replicas = replicas
        self.ready_after = ready_after
        self.canary_target = 0
        self._ready_at = 0.0
        self.scaled: list[tuple[float, int]] = []
        self.promoted_at: float | None = None
        self.old_stable_down_at: float | None = None

    def canary_hash(self) -> str:
        return CANARY_HASH

    def scale_canary(self, replicas: int) -> None:
        now = self._clock.now()
        self.scaled.append((now, replicas))
        if replicas > self.canary_target and self.ready_after is not None:
            self._ready_at = now + self.ready_after
        self.canary_target = replicas

    def canary_available_replicas(self) -> int:
        if self.ready_after is None or self._clock.now() < self._ready_at:
            return 0
        return self.canary_target

    def stable_available_replicas(self) -> int:
        return 0 if self.old_stable_down_at is not None else self.replicas

    def promote(self) -> None:
        self.promoted_at = self._clock.now()

    def scale_down_previous_stable(self) -> None:
        self.old_stable_down_at = self._clock.now()


class FakePrometheus:
    """Answers from ``answer(now)``; an exception instance is raised instead of returned."""

    def __init__(self, clock: FakeClock, answer: Callable[[float], QueryResult | Exception]) -> None:
        self._clock = clock
        self._answer = answer
        self.queries: list[tuple[float, str, str]] = []

    def query(self, address: str, query: str, timeout: float) -> QueryResult:
        now = self._clock.now()
        self.queries.append((now, address, query))
        value = self._answer(now)
        if isinstance(value, Exception):
            raise value
        return value


HEALTHY: Callable[[float], QueryResult | Exception] = lambda _now: [0.99]  # noqa: E731
FAILING: Callable[[float], QueryResult | Exception] = lambda _now: [0.42]  # noqa: E731
DOWN: Callable[[float], QueryResult | Exception] = lambda _now: MetricsError(  # noqa: E731
    'Post "http://127.0.0.1:9090/api/v1/query": dial tcp 127.0.0.1:9090: connect: connection refused'
)


@dataclass
class Snapshot:
    at: float
    phase: str
    index: int
    weight: int | None
    abort: bool


@dataclass
class Rig:
    clock: FakeClock
    controller: RolloutController
    traefik: FakeTraefik
    workload: FakeWorkload
    prometheus: FakePrometheus
    history: list[Snapshot] = field(default_factory=list)

    def start(self) -> None:
        self.controller.start_update()
        self._snap()

    def run_until(self, end: float, *, poll: float = 1.0, stop: Callable[[Rig], bool] | None = None) -> None:
        """Reconcile at every wakeup and every ``poll`` seconds (pods may change), up to ``end`` seconds."""
        for _ in range(100_000):
            now = self.clock.now()
            wakeup = self.controller.next_wakeup()
            target = min(now + poll, end) if wakeup is None or wakeup <= now else min(wakeup, now + poll, end)
            if target <= now:
                return
            self.clock.set(target)
            self.controller.reconcile()
            self._snap()
            if stop is not None and stop(self):
                return
        raise AssertionError("run_until did not reach its end")

    def _snap(self) -> None:
        status = self.controller.status
        self.history.append(
            Snapshot(
                self.clock.now(), status.phase, status.current_step_index, status.canary_weight, status.abort
            )
        )

    def first(self, reason: str, kind: str = "Rollout") -> RolloutEvent:
        return next(e for e in self.controller.events if e.reason == reason and e.object_kind == kind)

    def messages(self, reason: str, kind: str = "Rollout") -> list[str]:
        """Messages of the events with ``reason`` recorded on the Rollout (or on ``kind``)."""
        return [e.message for e in self.controller.events if e.reason == reason and e.object_kind == kind]

    def weight_at(self, at: float) -> int | None:
        """The TraefikService canary weight in force at ``at`` (the last write at or before it)."""
        written = [w for t, w in self.traefik.writes if t <= at]
        return written[-1] if written else None

    def measurement_times(self) -> list[float]:
        return [m.finished_at for _, _, m in self.controller.runs.measurements]

    def aborted(self) -> bool:
        return self.controller.status.phase == RolloutPhase.DEGRADED and self.controller.status.abort


def manifests(
    rollout_changes: Mapping[str, Any] | None = None,
    metric_changes: Mapping[str, Any] | None = None,
    extra_templates: list[dict[str, Any]] | None = None,
) -> str:
    """The sample manifests, with ``spec.strategy.canary`` keys and metric keys replaced (None removes)."""
    documents = list(yaml.safe_load_all((DATA / "rollout-traefik.yaml").read_text()))
    template = yaml.safe_load((DATA / "analysis-success-rate.yaml").read_text())
    canary = documents[0]["spec"]["strategy"]["canary"]
    for key, value in (rollout_changes or {}).items():
        target = (
            documents[0]["spec"] if key in ("progressDeadlineSeconds", "progressDeadlineAbort") else canary
        )
        if value is None:
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    metric = template["spec"]["metrics"][0]
    for key, value in (metric_changes or {}).items():
        if value is None:
            metric.pop(key, None)
        else:
            metric[key] = value
    return yaml.safe_dump_all([*documents, template, *(extra_templates or [])], sort_keys=False)


def make_rig(
    answer: Callable[[float], QueryResult | Exception] = HEALTHY,
    *,
    rollout: Mapping[str, Any] | None = None,
    metric: Mapping[str, Any] | None = None,
    ready_after: float | None = 0.0,
    bundle: RolloutBundle | None = None,
    extra_templates: list[dict[str, Any]] | None = None,
) -> Rig:
    clock = FakeClock(1000.0)
    loaded = bundle or parse_bundle(manifests(rollout, metric, extra_templates), "rollout.yaml")
    traefik = FakeTraefik(clock)
    workload = FakeWorkload(clock, loaded.rollout.replicas, ready_after)
    prometheus = FakePrometheus(clock, lambda now: answer(now - 1000.0))
    controller = RolloutController(
        loaded.rollout,
        loaded.templates,
        traffic=traefik,
        workload=workload,
        prometheus=prometheus,
        clock=clock,
    )
    return Rig(clock, controller, traefik, workload, prometheus)


def relative(rig: Rig, times: list[float]) -> list[float]:
    return [t - 1000.0 for t in times]
