"""Argo Rollouts as a controller plug-in: the Rollout emulation on the seam's ports, ticked every second.

The ports of the seam map onto the emulation's own (``ports``): the router's two weighted entries are the
TraefikService (stable = the router's primary entry), the target Deployment is the canary ReplicaSet and
``<target>-primary`` the stable one, and every Prometheus provider query goes to the run's metrics
provider (the same Prometheus or embedded evaluator the Flagger emulation queries; the template's
``address`` is not dialled). ``tick`` first initialises (stable ReplicaSet ready and routed), then starts
the update when the target's pod template changes and reconciles at each tick.
"""

from __future__ import annotations

from dataclasses import replace

from harness.clock import Clock
from harness.controllers.argo_rollouts import status_map
from harness.controllers.argo_rollouts.controller import RolloutController
from harness.controllers.argo_rollouts.model import AnalysisStep, RolloutBundle, RolloutEvent
from harness.controllers.argo_rollouts.ports import QueryResult
from harness.controllers.argo_rollouts.success_rate import success_rate_minimum
from harness.controllers.base import (
    ControllerPlugin,
    EmulatedController,
    EmulationPorts,
    LocalTarget,
    SpecTiming,
)
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, MetricResult, Phase, TickRecord
from harness.controllers.flagger.ports import EventSink, MetricsProvider, TrafficRouter, Workloads
from harness.errors import InputError, NoValuesFound

TICK_SECONDS = 1.0  # the controller's resync emulation: reconcile every emulated second
SERVICE_PORT = 80
CANARY_SUFFIX = "-canary"
DEFAULT_INTERVAL = 60.0


class _Traefik:
    def __init__(self, router: TrafficRouter) -> None:
        self._router = router

    def set_weight(self, canary_weight: int) -> None:
        self._router.set_routes(100 - canary_weight, canary_weight)


class _ReplicaSets:
    """Canary ReplicaSet = the target Deployment; stable ReplicaSet = ``<target>-primary``."""

    def __init__(self, workloads: Workloads) -> None:
        self._workloads = workloads

    def canary_hash(self) -> str:
        return self._workloads.target_template_hash()

    def scale_canary(self, replicas: int) -> None:
        self._workloads.scale_canary(replicas)

    def canary_available_replicas(self) -> int:
        state = self._workloads.canary_state()
        return min(state.available_replicas, state.updated_replicas)

    def stable_available_replicas(self) -> int:
        return self._workloads.primary_state().available_replicas

    def promote(self) -> None:
        # Argo repoints the stable Service at the canary's pods; locally the stable processes take the
        # canary's template (a surge rollout, no capacity lost) while all traffic goes to them.
        self._workloads.promote()

    def scale_down_previous_stable(self) -> None:
        # After promotion the stable processes already run the new template: the copies behind the
        # canary entry are the ones no longer needed.
        self._workloads.scale_canary(0)


class _Prometheus:
    def __init__(self, metrics: MetricsProvider) -> None:
        self._metrics = metrics

    def query(self, address: str, query: str, timeout: float) -> QueryResult:
        try:
            return [self._metrics.query(query)]
        except NoValuesFound as exc:
            return [float("nan")] if exc.nan else ()


class _Collect:
    def __init__(self) -> None:
        self.pending: list[RolloutEvent] = []

    def emit(self, event: RolloutEvent) -> None:
        self.pending.append(event)


class ArgoRolloutsEmulation:
    """``EmulatedController`` for one Rollout: initialise, detect the update, reconcile, map the status."""

    def __init__(self, bundle: RolloutBundle, ports: EmulationPorts) -> None:
        self.bundle = bundle
        self._workloads = ports.workloads
        self._router = ports.router
        self._clock: Clock = ports.clock
        self._sink: EventSink | None = ports.events
        self._collected = _Collect()
        self._replicas = bundle.rollout.replicas
        self._initialized = False
        self._updating = False
        self._stable_hash = ports.workloads.target_template_hash()
        self._queries: dict[str, str] = {}
        self._reported = 0
        self.controller = RolloutController(
            bundle.rollout,
            bundle.templates,
            traffic=_Traefik(ports.router),
            workload=_ReplicaSets(ports.workloads),
            prometheus=_Prometheus(ports.metrics),
            clock=ports.clock,
            events=self._collected,
            stable_hash=self._stable_hash,
        )
        self._status = CanaryStatus(phase=Phase.INITIALIZING, last_transition_time=ports.clock.now())

    @property
    def status(self) -> CanaryStatus:
        return self._status

    def tick(self) -> TickRecord:
        if not self._initialized:
            self._initialize()
        elif not self._updating and self._workloads.target_template_hash() != self._stable_hash:
            self._updating = True
            self.controller.start_update()
        elif self._updating:
            self.controller.reconcile()
        return self._record()

    def _initialize(self) -> None:
        """The first deploy: the stable ReplicaSet ready, then all traffic on it (the new RS has 0 pods)."""
        self._workloads.ensure_primary()
        if self._workloads.primary_state().available_replicas < self._replicas:
            return
        self._workloads.scale_canary(0)
        self._router.set_routes(100, 0)
        self._initialized = True

    def _record(self) -> TickRecord:
        now = self._clock.now()
        previous = self._status
        runs = list(self.controller.runs.by_name.values())
        if self._initialized:
            mapped = status_map.canary_status(
                self.controller.status, runs, updating=self._updating, since=previous.last_transition_time
            )
            if mapped.phase != previous.phase:
                mapped = replace(mapped, last_transition_time=now)
            self._status = mapped
        events = tuple(status_map.canary_event(e, self._status.phase) for e in self._collected.pending)
        self._collected.pending.clear()
        for event in events:
            self._emit(event)
        return TickRecord(now, self._status, events, self._new_checks(), self._router.get_routes())

    def _new_checks(self) -> tuple[MetricResult, ...]:
        measured = self.controller.runs.measurements[self._reported :]
        self._reported += len(measured)
        return tuple(
            status_map.metric_result(metric, self._query(run, metric), measurement)
            for run, metric, measurement in measured
        )

    def _query(self, run_name: str, metric: str) -> str:
        run = self.controller.runs.by_name.get(run_name)
        found = next((m for m in run.metrics if m.name == metric), None) if run else None
        return found.spec.provider.query if found else ""

    def _emit(self, event: CanaryEvent) -> None:
        if self._sink is not None:
            self._sink.emit(event)


def local_target(bundle: RolloutBundle) -> LocalTarget:
    """The router's Service is the canaryService without ``-canary``: its entries are named
    ``<service>-primary`` (the stableService's pods) and ``<service>-canary``."""
    rollout = bundle.rollout
    if not rollout.canary_service.endswith(CANARY_SUFFIX) or rollout.canary_service == CANARY_SUFFIX:
        raise InputError(
            f"{rollout.file or 'Rollout'}: spec.strategy.canary.canaryService: the local backend expects "
            f"'<name>{CANARY_SUFFIX}' (its router's canary entry), found {rollout.canary_service!r}"
        )
    return LocalTarget(
        namespace=rollout.namespace,
        service=rollout.canary_service.removesuffix(CANARY_SUFFIX),
        service_port=SERVICE_PORT,
        workload=rollout.name,
        provider="traefik",
        progress_deadline_seconds=rollout.progress_deadline_seconds,
        initialization_seconds=float(rollout.progress_deadline_seconds) + 3 * TICK_SECONDS,
    )


def analysis_interval(bundle: RolloutBundle) -> float:
    """The shortest measurement interval of the templates the Rollout uses (60 s when none is set)."""
    rollout = bundle.rollout
    used = [*(rollout.background.templates if rollout.background else ())]
    used += [
        name for step in rollout.steps if isinstance(step, AnalysisStep) for name in step.analysis.templates
    ]
    intervals = [
        metric.interval
        for name in used
        if name in bundle.templates
        for metric in bundle.templates[name].metrics
        if metric.interval is not None
    ]
    return min(intervals, default=DEFAULT_INTERVAL)


def _timing(bundle: RolloutBundle) -> SpecTiming:
    # A Prometheus query carries its own window; the measurement interval is the verdict's stand-in.
    interval = analysis_interval(bundle)
    deadline = float(bundle.rollout.progress_deadline_seconds)
    return SpecTiming(interval, interval, deadline, success_rate_minimum(bundle))


def _emulate(bundle: RolloutBundle, ports: EmulationPorts) -> EmulatedController:
    return ArgoRolloutsEmulation(bundle, ports)


ARGO_ROLLOUTS: ControllerPlugin[RolloutBundle] = ControllerPlugin(
    name="argo-rollouts",
    kind="Rollout",
    api_version="argoproj.io/v1alpha1",
    terminal_phases=frozenset({Phase.SUCCEEDED, Phase.FAILED}),
    rollback_phase=Phase.FAILED,
    initialized_phase=Phase.INITIALIZED,
    spec_type=RolloutBundle,
    emulate=_emulate,
    tick_interval=lambda _bundle: TICK_SECONDS,
    local_target=local_target,
    timing=_timing,
)
