"""The embedded backend: faulty_app processes, the Traefik stand-in router, a metrics provider and the
emulation of the controller under test (Flagger or Argo Rollouts, ``harness.controllers``) driven on its
tick grid. Everything binds 127.0.0.1 and is torn down in ``teardown``.

This emulates the controller; the verdict that counts is the one on a real cluster (kubernetes backend).
"""

from __future__ import annotations

import importlib.util
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from harness.backends.base import Observation, PreflightCheck
from harness.backends.local.metrics import MetricsStack, SharedPrometheus, start_metrics
from harness.backends.local.pods import PodTemplate
from harness.backends.local.supervisor import Endpoints, LocalWorkloads
from harness.backends.local.ticker import TickLoop
from harness.backends.local.webhooks import HttpWebhookCaller
from harness.clock import ScaledClock
from harness.controllers.base import ControllerPlugin, EmulatedController, EmulationPorts, LocalTarget
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, MetricResult
from harness.controllers.flagger.plugin import FLAGGER
from harness.controllers.registry import ControllerSpec
from harness.errors import InfrastructureError, InputError, ProcessError
from harness.model import Ingress, Revision, StatusSample
from harness.processes.procs import ProcessGroup
from harness.providers.traefik.router_client import RouterProcess, start_router

T = TypeVar("T")

# The router stand-in of each provider the local backend can run (keyed by the spec's provider).
LOCAL_ROUTERS: dict[str, Callable[..., RouterProcess]] = {"traefik": start_router}


class _QueueSink:
    """EventSink that hands Flagger events to the runner's observe() calls."""

    def __init__(self, events: queue.SimpleQueue[CanaryEvent]) -> None:
        self._events = events

    def emit(self, event: CanaryEvent) -> None:
        self._events.put(event)


class LocalBackend:
    name = "local"

    def __init__(
        self,
        *,
        clock: ScaledClock,
        run_dir: Path,
        prometheus: str = "auto",
        shared_prometheus: SharedPrometheus | None = None,
        controller: ControllerPlugin[Any] = FLAGGER,
    ) -> None:
        self.clock = clock
        self._plugin = controller
        self._shared_prometheus = shared_prometheus
        self._run_dir = Path(run_dir)
        self._prometheus_mode = prometheus
        self._group: ProcessGroup | None = None
        self._router: RouterProcess | None = None
        self._workloads: LocalWorkloads | None = None
        self._metrics: MetricsStack | None = None
        self._controller: EmulatedController | None = None
        self._ticker: TickLoop | None = None
        self._samples: queue.SimpleQueue[StatusSample] = queue.SimpleQueue()
        self._events: queue.SimpleQueue[CanaryEvent] = queue.SimpleQueue()
        self._checks: queue.SimpleQueue[MetricResult] = queue.SimpleQueue()
        self._tick_errors: list[str] = []
        self._tick_lock = threading.Lock()
        self._torn_down = False

    # Backend -------------------------------------------------------------------------------------

    def preflight(self) -> Sequence[PreflightCheck]:
        checks = [
            PreflightCheck(
                "faulty_app importable",
                importlib.util.find_spec("faulty_app") is not None,
                "python -m faulty_app must be runnable",
            ),
            PreflightCheck(
                "time scale",
                self.clock.scale <= 600,
                f"scale {self.clock.scale:g}: a 10 s Flagger interval must last ≥ 1/60 s real",
            ),
        ]
        if self._prometheus_mode == "server":
            from harness.backends.local.metrics import prometheus_available

            checks.append(
                PreflightCheck("prometheus binary", prometheus_available(), "install Debian's prometheus")
            )
        return checks

    def deploy(self, canary: ControllerSpec, stable: Revision) -> Ingress:
        spec = self._plugin.spec_of(canary)
        target: LocalTarget = self._plugin.local_target(spec)
        start_local_router = LOCAL_ROUTERS.get(target.provider)
        if start_local_router is None:
            raise InputError(
                f"spec.provider {target.provider!r}: the local backend has router stand-ins for "
                f"{sorted(LOCAL_ROUTERS)} only"
            )
        self._group = ProcessGroup(self._run_dir / "processes")
        self._router = start_local_router(
            self._group,
            namespace=target.namespace,
            service=target.service,
            service_port=target.service_port,
            backend_timeout=30.0,
            admin_port=self._shared_prometheus.router_admin_port if self._shared_prometheus else None,
        )
        self._metrics = start_metrics(
            self._prometheus_mode,
            router=self._router,
            group=self._group,
            clock=self.clock,
            work_dir=self._run_dir / "prometheus",
            shared=self._shared_prometheus,
        )
        self._workloads = LocalWorkloads(
            target=target.workload,
            template=PodTemplate.of(stable.version, stable.faults, dict(stable.env)),
            group=self._group,
            clock=self.clock,
            replicas=stable.replicas,
            # The Deployment's own spec.progressDeadlineSeconds; the manifests in cluster/ set it equal
            # to the Canary's, so both of Flagger's deadline paths (§2.7 a and b) fire together.
            progress_deadline_seconds=target.progress_deadline_seconds,
            on_endpoints_changed=self._publish_endpoints,
        ).start()
        ports = EmulationPorts(
            router=self._router.client,
            workloads=self._workloads,
            metrics=self._metrics.provider,
            webhooks=HttpWebhookCaller(self.clock),
            clock=self.clock,
            events=_QueueSink(self._events),
        )
        self._controller = self._plugin.emulate(spec, ports)
        interval = self._plugin.tick_interval(spec)
        self._ticker = TickLoop(
            self._tick,
            interval=interval,
            clock=self.clock,
            on_error=self._tick_failed,
            name=f"{self._plugin.name}-{target.workload}",
        )
        self._ticker.start()
        self._wait_initialized(target.initialization_seconds, interval)
        self._metrics.wait_until_scraping()
        return Ingress(url=self._router.url)

    def trigger(self, revision: Revision) -> float:
        workloads = self._require(self._workloads)
        at = self.clock.now()
        workloads.set_target_template(
            revision.version, revision.faults, dict(revision.env), replicas=revision.replicas
        )
        return at

    def set_canary_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        self._require(self._workloads).set_canary_faults_runtime(faults)

    def observe(self) -> Observation:
        return Observation(
            samples=_drain(self._samples),
            events=_drain(self._events),
            checks=_drain(self._checks),
        )

    def status(self) -> CanaryStatus:
        return self._require(self._controller).status

    def diagnostics(self) -> Mapping[str, str]:
        found: dict[str, str] = {}
        if self._controller is not None:
            found["canary status"] = repr(self._controller.status)
        if self._tick_errors:
            found["controller errors"] = "\n".join(self._tick_errors[-20:])
        if self._workloads is not None:
            for which in ("primary", "canary"):
                pods = self._workloads.pods(which)
                found[f"{which} pods"] = "\n".join(repr(p) for p in pods) or "(none)"
        if self._router is not None:
            try:
                found["router config"] = repr(self._router.client.config())
            except ProcessError as exc:
                found["router config"] = f"unavailable: {exc}"
        if self._group is not None:
            for proc in self._group.processes:
                found[f"log {proc.name}"] = proc.log_tail(3000)
        return found

    def teardown(self) -> None:
        if self._torn_down:
            return
        self._torn_down = True
        steps: list[tuple[str, Callable[[], None] | None]] = [
            ("ticker", self._ticker.stop if self._ticker else None),
            ("metrics", self._metrics.stop if self._metrics else None),
            ("workloads", self._workloads.stop if self._workloads else None),
            ("router client", self._router.client.close if self._router else None),
            ("processes", self._group.stop_all if self._group else None),
        ]
        errors = []
        for name, step in steps:
            if step is None:
                continue
            try:
                step()
            except Exception as exc:  # every step runs; report them together
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
        if errors:
            raise InfrastructureError("teardown: " + "; ".join(errors))

    # internals -----------------------------------------------------------------------------------

    def _publish_endpoints(self, endpoints: Endpoints) -> None:
        """Ready replicas become the router's (and Prometheus') backends, like a Service's endpoints."""
        self._require(self._router).client.set_endpoints(endpoints.primary, endpoints.canary)
        if self._metrics is not None:
            self._metrics.update_targets([*endpoints.primary, *endpoints.canary])

    def _tick(self) -> None:
        controller = self._require(self._controller)
        with self._tick_lock:
            record = controller.tick()
        self._samples.put(
            StatusSample(at=record.at, status=record.status, router_weights=record.router_weights)
        )
        for check in record.checks:
            self._checks.put(check)

    def _tick_failed(self, exc: BaseException) -> None:
        self._tick_errors.append(f"t={self.clock.now():.1f}s {type(exc).__name__}: {exc}")

    def _wait_initialized(self, limit: float, interval: float) -> None:
        """Initialization needs the primary ready; bounded by the plug-in's initialization time."""
        controller = self._require(self._controller)
        deadline = self.clock.now() + limit
        while self.clock.now() < deadline:
            phase = controller.status.phase
            if phase is self._plugin.initialized_phase:
                return
            if phase is self._plugin.rollback_phase:
                raise InfrastructureError(f"the primary never became ready: {self.diagnostics()}")
            self.clock.sleep(min(interval / 4, 5.0))
        name = self._plugin.kind
        raise InfrastructureError(f"the {name} was not {self._plugin.initialized_phase} within {limit:.0f}s")

    @staticmethod
    def _require(part: T | None) -> T:
        if part is None:
            raise InfrastructureError("the local backend is not deployed")
        return part


def _drain(source: queue.SimpleQueue[T]) -> tuple[T, ...]:
    items: list[T] = []
    while True:
        try:
            items.append(source.get_nowait())
        except queue.Empty:
            return tuple(items)
