"""A FlaggerController wired to the in-memory fakes, plus a Canary builder for the worked examples."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.clock import FakeClock
from harness.controllers.flagger.controller import FlaggerController
from harness.controllers.flagger.model import CanarySpec, Phase, TickRecord
from harness.controllers.flagger.ports import MetricsProvider
from harness.controllers.flagger.queries import MetricTemplate
from harness.scenario.flagger_canary import parse_canary
from harness.testing.ports import FakeMetrics, FakeRouter, FakeWebhooks, FakeWorkloads, RecordingEventSink

DATA = Path(__file__).parents[1] / "data" / "canaries"
MINUTE = 60.0
HEALTHY = {"request-success-rate": 100.0, "request-duration": 99.0}


def canary(analysis: Mapping[str, Any] | None = None, **spec: Any) -> CanarySpec:
    """podinfo.test with §3.3's analysis (1m, threshold 5, step 10, max 50), overridable."""
    body: dict[str, Any] = {
        "interval": "1m",
        "threshold": 5,
        "maxWeight": 50,
        "stepWeight": 10,
        "metrics": [
            {"name": "request-success-rate", "interval": "1m", "thresholdRange": {"min": 99}},
            {"name": "request-duration", "interval": "1m", "thresholdRange": {"max": 500}},
        ],
        "webhooks": [
            {
                "name": "acceptance-test",
                "type": "pre-rollout",
                "url": "http://tester/",
                "metadata": {"type": "bash"},
            },
            {"name": "load-test", "url": "http://tester/", "timeout": "5s", "metadata": {"cmd": "hey"}},
        ],
    }
    for key, value in (analysis or {}).items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    manifest = {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": {
            "provider": "traefik",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
            "service": {"port": 80, "targetPort": 9898},
            "analysis": body,
            **spec,
        },
    }
    return parse_canary(yaml.safe_dump(manifest), "rig.yaml")


@dataclass
class Rig:
    clock: FakeClock
    router: FakeRouter
    workloads: FakeWorkloads
    metrics: FakeMetrics
    webhooks: FakeWebhooks
    sink: RecordingEventSink
    controller: FlaggerController

    def ticks(self, count: int) -> list[TickRecord]:
        """Run exactly ``count`` grid ticks."""
        return self.controller.run(lambda record: False, count)

    def until_phase(self, *phases: Phase, max_ticks: int = 60) -> list[TickRecord]:
        return self.controller.run(lambda record: record.status.phase in phases, max_ticks)

    def new_revision(self, template: str = "rev-2", *, at: float | None = None, **kwargs: Any) -> None:
        """Change the target's pod template (by default half an interval before the next tick)."""
        if at is None:
            nxt = self.controller.next_tick_at or 0.0
            at = nxt - self.controller.interval / 2
        if at > self.clock.now():
            self.clock.set(at)
        self.workloads.set_template(template, **kwargs)

    def initialized(self) -> list[TickRecord]:
        records = self.until_phase(Phase.INITIALIZED, max_ticks=10)
        assert records[-1].status.phase == Phase.INITIALIZED
        return records


def make_rig(
    spec: CanarySpec | None = None,
    *,
    metrics: Mapping[str, Any] | None = None,
    hooks: Mapping[str, Any] | None = None,
    templates: Sequence[MetricTemplate] = (),
    metrics_provider: Callable[[FakeClock, FakeRouter], MetricsProvider] | None = None,
    **workloads: Any,
) -> Rig:
    """``metrics_provider`` replaces the scripted ``FakeMetrics`` as the controller's Prometheus."""
    clock = FakeClock()
    router = FakeRouter(clock)
    loads = FakeWorkloads(clock, **workloads)
    fake_metrics = FakeMetrics(clock, dict(HEALTHY if metrics is None else metrics))
    fake_hooks = FakeWebhooks(clock, dict(hooks or {}))
    sink = RecordingEventSink()
    controller = FlaggerController(
        spec or canary(),
        router=router,
        workloads=loads,
        metrics=fake_metrics if metrics_provider is None else metrics_provider(clock, router),
        webhooks=fake_hooks,
        clock=clock,
        events=sink,
        templates={t.key: t for t in templates},
    )
    return Rig(clock, router, loads, fake_metrics, fake_hooks, sink, controller)


def table(records: Sequence[TickRecord], origin: float) -> list[tuple[float, str, int, int, list[str]]]:
    """(t − origin, phase, status weight, failedChecks, event messages) per tick."""
    return [
        (
            r.at - origin,
            str(r.status.phase),
            r.status.canary_weight,
            r.status.failed_checks,
            [e.message for e in r.events],
        )
        for r in records
    ]
