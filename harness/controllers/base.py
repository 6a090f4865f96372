"""The controller-under-test seam: what a controller plug-in gives the backends, the runner and scenarios.

A plug-in names itself (a scenario's ``controller:``), the resource kind its spec is, the phases that end a
rollout (and which of them is the rollback), and how to build its local emulation from ``EmulationPorts``.
Each plug-in has its own spec type (Flagger: ``CanarySpec``; Argo Rollouts: a Rollout bundle), so the seam
is generic in it: ``spec_of`` checks at run time that a backend hands a plug-in the spec it takes.
Status and events are reported in Flagger's vocabulary (``CanaryStatus``: phase, canaryWeight,
failedChecks), the one the verdicts and reports speak; a second controller maps its own status onto it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from harness.clock import Clock
from harness.controllers.flagger.model import CanaryStatus, Phase, TickRecord
from harness.controllers.flagger.ports import (
    EventSink,
    MetricsProvider,
    TrafficRouter,
    WebhookCaller,
    Workloads,
)
from harness.controllers.flagger.queries import MetricTemplate
from harness.errors import InputError

SpecT = TypeVar("SpecT")


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
class LocalTarget:
    """What the local backend deploys for a spec: the router's Service, the workload, the deadline."""

    namespace: str
    service: str  # the router's Service name: its entries are <service>-primary / <service>-canary
    service_port: int
    workload: str  # the Deployment (processes) of the app
    provider: str  # the router stand-in to start
    progress_deadline_seconds: int
    initialization_seconds: float  # how long deploy() waits for the initialized phase (emulated)


@dataclass(frozen=True)
class SpecTiming:
    """The spec's figures the verdict uses: the analysis grid, the metrics' window, the deadline, and the
    success-rate check's minimum (percent; None when the spec has no such check or no single bound)."""

    interval_seconds: float
    metric_window_seconds: float
    progress_deadline_seconds: float
    min_success_rate: float | None = None


@dataclass(frozen=True)
class ControllerPlugin(Generic[SpecT]):
    """One controller under test."""

    name: str  # what a scenario's ``controller:`` says
    kind: str  # the resource its spec is, e.g. "Canary"
    api_version: str  # e.g. "flagger.app/v1beta1"
    terminal_phases: frozenset[Phase]
    rollback_phase: Phase  # the terminal phase that means the rollout was rolled back
    initialized_phase: Phase  # the phase reached once the stable revision is deployed and routed
    spec_type: type[SpecT]
    emulate: Callable[[SpecT, EmulationPorts], EmulatedController]
    tick_interval: Callable[[SpecT], float]  # the controller's reconcile grid for one spec
    local_target: Callable[[SpecT], LocalTarget]
    timing: Callable[[SpecT], SpecTiming]

    def spec_of(self, spec: object) -> SpecT:
        """``spec`` as this plug-in's spec type; an ``InputError`` names both when it is another one."""
        if not isinstance(spec, self.spec_type):
            raise InputError(
                f"controller {self.name}: expected a {self.kind} spec ({self.spec_type.__name__}), "
                f"found {type(spec).__name__}"
            )
        return spec

    def tick_interval_seconds(self, spec: object) -> float:
        return self.tick_interval(self.spec_of(spec))

    def timing_of(self, spec: object) -> SpecTiming:
        return self.timing(self.spec_of(spec))
