"""The controller-under-test seam: what a controller plug-in gives the backends, the runner and scenarios.

A plug-in names itself (a scenario's ``controller:``), the resource kind its spec is, the phases that end a
rollout (and which of them is the rollback), and how to build its local emulation from the ports of
``harness.controllers.flagger.ports``. Status and events are reported in Flagger's vocabulary
(``CanaryStatus``: phase, canaryWeight, failedChecks), the one the verdicts and reports speak; a second
controller maps its own status onto it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from harness.clock import Clock
from harness.controllers.flagger.model import CanarySpec, CanaryStatus, Phase, TickRecord
from harness.controllers.flagger.ports import (
    EventSink,
    MetricsProvider,
    TrafficRouter,
    WebhookCaller,
    Workloads,
)
from harness.controllers.flagger.queries import MetricTemplate


class EmulatedController(Protocol):
    """A controller emulation the local backend ticks: one reconcile per ``tick``, on its own grid."""

    @property
    def status(self) -> CanaryStatus: ...

    def tick(self) -> TickRecord: ...


@dataclass(frozen=True)
class EmulationPorts:
    """The world as an emulated controller sees it: the router, the two Deployments, metrics, hooks."""

    router: TrafficRouter
    workloads: Workloads
    metrics: MetricsProvider
    webhooks: WebhookCaller
    clock: Clock
    events: EventSink | None = None
    metric_templates: tuple[MetricTemplate, ...] = ()  # the MetricTemplates applied next to the spec


@dataclass(frozen=True)
class ControllerPlugin:
    """One controller under test."""

    name: str  # what a scenario's ``controller:`` says
    kind: str  # the resource its spec is, e.g. "Canary"
    api_version: str  # e.g. "flagger.app/v1beta1"
    terminal_phases: frozenset[Phase]
    rollback_phase: Phase  # the terminal phase that means the rollout was rolled back
    initialized_phase: Phase  # the phase reached once the stable revision is deployed and routed
    emulate: Callable[[CanarySpec, EmulationPorts], EmulatedController]

    def tick_interval_seconds(self, spec: CanarySpec) -> float:
        """The controller's reconcile grid for one spec (Flagger: ``analysis.interval``)."""
        return spec.analysis.interval_seconds
