"""Flagger's per-canary job, emulated: ``tick()`` is one ``advanceCanary`` (spec §2.2, steps 1–26).

The controller is pure apart from its ports (``harness.controllers.flagger.ports``) and the injected
``Clock``. State kept across ticks is what Flagger keeps in the Canary status; within a tick, decisions read
the in-memory copy taken at the tick's start (Flagger's ``cd``) while status writes go to the stored status,
exactly as Flagger reads one object and writes the status subresource.

Not modelled: config tracking of ConfigMaps/Secrets, autoscalers, alerts, Kubernetes Event loss,
providers other than Traefik and targets other than Deployments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from harness.clock import Clock
from harness.controllers.flagger import events as msg
from harness.controllers.flagger import hooks
from harness.controllers.flagger.advance_gates import AdvanceGates
from harness.controllers.flagger.analysis import check_providers, run_analysis
from harness.controllers.flagger.hooks import EventType
from harness.controllers.flagger.model import (
    CanaryEvent,
    CanarySpec,
    CanaryStatus,
    MetricResult,
    Phase,
    TickRecord,
    WebhookSpec,
)
from harness.controllers.flagger.ports import (
    EventSink,
    MetricsProvider,
    TrafficRouter,
    WebhookCaller,
    WebhookResult,
    Workloads,
)
from harness.controllers.flagger.queries import MetricTemplate
from harness.controllers.flagger.readiness import canary_readiness
from harness.controllers.flagger.status import (
    set_failed_checks,
    set_initializing,
)
from harness.controllers.flagger.strategies import StatusWrite
from harness.controllers.flagger.timing import delay_until, next_index, tick_time
from harness.controllers.flagger.weights import next_step_weight
from harness.errors import CanarySpecError, HarnessError, Problem
from harness.providers.registry import PROVIDERS

INITIALIZING = frozenset({Phase.NONE, Phase.INITIALIZING})
NO_TRAFFIC_GATE = frozenset({Phase.PROMOTING, Phase.WAITING_PROMOTION, Phase.FINALISING})


@dataclass
class _TickLog:
    at: float
    events: list[CanaryEvent] = field(default_factory=list)
    checks: list[MetricResult] = field(default_factory=list)


class FlaggerController(AdvanceGates):
    """One Canary's analysis loop; ``run`` drives ``tick`` on Flagger's fixed grid."""

    def __init__(
        self,
        spec: CanarySpec,
        *,
        router: TrafficRouter,
        workloads: Workloads,
        metrics: MetricsProvider,
        webhooks: WebhookCaller,
        clock: Clock,
        events: EventSink | None = None,
        templates: Mapping[str, MetricTemplate] | None = None,
    ) -> None:
        _check_supported(spec)
        self._spec = spec
        self._router = router
        self._workloads = workloads
        self._metrics = metrics
        self._webhooks = webhooks
        self._clock = clock
        self._sink = events
        # Keys of ``templates`` are informational; lookup is by each template's (name, namespace).
        self._templates = {(t.name, t.namespace or spec.namespace): t for t in (templates or {}).values()}
        # The informer sync marks a Canary without conditions Initializing before the job's first tick.
        self._status = set_initializing(CanaryStatus(), spec.target_kind, clock.now())
        self._cd = self._status
        self._events: list[CanaryEvent] = []
        self._log = _TickLog(clock.now())
        self._grid_start: float | None = None
        self._grid_index = 0

    # ---- public state ------------------------------------------------------------------------------
    @property
    def status(self) -> CanaryStatus:
        return self._status

    @property
    def events(self) -> list[CanaryEvent]:
        return list(self._events)

    @property
    def router_weights(self) -> tuple[int, int]:
        return self._router.get_routes()

    @property
    def interval(self) -> float:
        return self._spec.analysis.interval_seconds

    @property
    def next_tick_at(self) -> float | None:
        """Nominal time of the next grid tick (None before ``run`` started the grid)."""
        if self._grid_start is None:
            return None
        return tick_time(self._grid_index, self._grid_start, self.interval)

    @property
    def metrics(self) -> MetricsProvider:
        return self._metrics

    @property
    def templates(self) -> Mapping[tuple[str, str], MetricTemplate]:
        return self._templates

    # ---- driving -----------------------------------------------------------------------------------
    def run(self, until: Callable[[TickRecord], bool], max_ticks: int) -> list[TickRecord]:
        """Tick on the grid (first tick at once, then start + k·interval) until ``until`` or max_ticks."""
        records: list[TickRecord] = []
        if self._grid_start is None:
            self._grid_start = self._clock.now()
        for _ in range(max_ticks):
            delay = delay_until(self._grid_index, self._grid_start, self._clock.now(), self.interval)
            if delay > 0:
                self._clock.sleep(delay)
            record = self.tick()
            records.append(record)
            self._grid_index = next_index(
                self._grid_index, self._grid_start, self._clock.now(), self.interval
            )
            if until(record):
                break
        return records

    def tick(self) -> TickRecord:
        """One ``advanceCanary``."""
        self._log = _TickLog(self._clock.now())
        self._cd = self._status
        self._advance()
        return TickRecord(
            at=self._log.at,
            status=self._status,
            events=tuple(self._log.events),
            checks=tuple(self._log.checks),
            router_weights=self._router.get_routes(),
        )

    # ---- host helpers (used by hooks, analysis and strategies) --------------------------------------
    def _now(self) -> float:
        return self._clock.now()

    def now(self) -> float:
        return self._clock.now()

    def _write(self, change: StatusWrite) -> None:
        self._status = change(self._status)

    def emit(self, kind: EventType, message: str, phase: Phase | None = None) -> None:
        """Record an event (phase = the in-memory Canary's unless given) and send it to event hooks."""
        at = self._clock.now()
        event = CanaryEvent(
            at=at, type=kind, message=message, phase=phase if phase is not None else self._cd.phase
        )
        self._events.append(event)
        self._log.events.append(event)
        if self._sink is not None:
            self._sink.emit(event)
        epoch_ms = int(self._clock.wall(at).timestamp() * 1000)
        for hook in hooks.of_type(self._spec, "event"):
            body = hooks.event_payload(self._spec, self._cd, event.phase, hook, message, kind, epoch_ms)
            with contextlib.suppress(HarnessError):  # Flagger only logs event-hook failures
                self._webhooks.call(hook, body)

    def call_hook(self, hook: WebhookSpec, phase: Phase, status: CanaryStatus | None = None) -> WebhookResult:
        body = hooks.payload(self._spec, status or self._cd, phase, hook)
        try:
            return self._webhooks.call(hook, body)
        except HarnessError as exc:
            return WebhookResult(False, str(exc))

    def record(self, result: MetricResult) -> None:
        self._log.checks.append(result)

    # ---- advanceCanary -----------------------------------------------------------------------------
    def _advance(self) -> None:
        spec = self._spec
        if spec.suspend:
            self.emit("Normal", msg.suspended())
            return
        initializing = self._cd.phase in INITIALIZING
        if initializing and not spec.skip_analysis:
            check_providers(self)
        if not self._initialize(initializing):
            return
        if not self._should_advance():
            return
        if not spec.skip_analysis and not self._primary_ready():
            return
        try:
            primary_weight, canary_weight = self._router.get_routes()
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return
        mirrored = False  # the Traefik router never reports mirroring
        if not self._check_canary_status() or self._restarted():
            return
        readiness = canary_readiness(spec, self._workloads.canary_state(), self._clock.now())
        if not readiness.ready:
            self.emit("Warning", readiness.message)  # no failedChecks increment for "not ready"
            if not readiness.retriable:
                self._rollback()  # silent: no "Rolling back" event below threshold (issue #1816)
            return
        if spec.skip_analysis:
            self._skip_analysis()
            return
        self._analyse(primary_weight, canary_weight, mirrored)

    def _analyse(self, primary_weight: int, canary_weight: int, mirrored: bool) -> None:
        """Steps 18–26: rollback hooks, Promoting/Finalising, threshold, start or analysis, strategy."""
        spec, cd = self._spec, self._cd
        if cd.phase in (
            Phase.PROGRESSING,
            Phase.WAITING,
            Phase.WAITING_PROMOTION,
        ) and hooks.rollback_requested(self, cd.phase):
            self.emit("Warning", msg.manual_rollback(spec))
            self._rollback()
            return
        if cd.phase == Phase.PROMOTING:
            self._promotion_shift(primary_weight, canary_weight)
            return
        if cd.phase == Phase.FINALISING:
            self._finalise()
            return
        if (
            cd.phase in (Phase.PROGRESSING, Phase.WAITING_PROMOTION)
            and cd.failed_checks >= spec.analysis.threshold
        ):
            self._rollback()
            return
        if canary_weight == 0 and cd.iterations == 0 and not (spec.analysis.mirror and mirrored):
            self.emit("Normal", msg.starting(spec))
            passed = hooks.pre_rollout(self)
        else:
            passed = run_analysis(self)
        if not passed:
            failed, now = cd.failed_checks + 1, self._clock.now()
            self._write(lambda s: set_failed_checks(s, failed, now))
            return
        analysis = spec.analysis
        if analysis.match and analysis.iterations > 0:
            self._run_ab()
        elif analysis.iterations > 0:
            self._run_blue_green(mirrored)
        elif next_step_weight(analysis, canary_weight) > 0:
            if not mirrored and cd.phase not in NO_TRAFFIC_GATE and not hooks.confirm_traffic_increase(self):
                return
            self._run_canary(primary_weight, canary_weight, mirrored)


def _check_supported(spec: CanarySpec) -> None:
    problems = []
    if spec.provider not in PROVIDERS:
        names = ", ".join(repr(name) for name in PROVIDERS)
        emulated = f"{names} (the only provider emulated)" if len(PROVIDERS) == 1 else f"one of {names}"
        problems.append(Problem("spec.provider", emulated, repr(spec.provider), spec.source))
    if spec.target_kind != "Deployment":
        problems.append(
            Problem(
                "spec.targetRef.kind",
                "'Deployment' (the only target kind emulated)",
                repr(spec.target_kind),
                spec.source,
            )
        )
    if problems:
        raise CanarySpecError(problems)
