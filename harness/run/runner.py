"""The imperative shell: one scenario through preflight → deploy → baseline → trigger → observe →
recovery → teardown, emitting lifecycle events to listeners (recorder, journal, progress).

Backend-agnostic: it talks only to ``harness.backends.base.Backend`` and a ``LoadDriver``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from harness.backends.base import Backend, Observation
from harness.clock import Clock
from harness.controllers.flagger.model import Phase
from harness.controllers.registry import controller_named
from harness.errors import HarnessError, InfrastructureError, Interrupted, LoadError
from harness.model import Ingress, LoadBucket, Mark, ObservedBatch, RunListener, Stage, StatusSample
from harness.run.progress import NullProgress, ProgressSnapshot, ProgressView
from harness.run.recorder import Recorder
from harness.scenario.model import Scenario


class LoadDriver(Protocol):
    """What the runner needs from a load generator (``harness.load.gateway`` adapts Locust to this)."""

    def start(self) -> None: ...

    def collect(self) -> Sequence[LoadBucket]: ...

    def problem(self) -> str | None:
        """None while healthy; otherwise why the load can no longer be trusted (a process died…)."""
        ...

    def stop(self) -> None: ...


LoadFactory = Callable[[Scenario, Ingress], LoadDriver]


@dataclass
class RunOutcome:
    """What the shell knows at the end; the caller turns it into a verdict and a journal record."""

    recorder: Recorder
    complete: bool = False
    incomplete_reason: str | None = None
    missing: list[str] = field(default_factory=list)
    diagnostics: dict[str, str] = field(default_factory=dict)
    error: BaseException | None = None
    # Why evidence was lost although the lifecycle ended cleanly (the load generator died): INCONCLUSIVE.
    lost_evidence: str | None = None


class ScenarioRun:
    """Runs one scenario once. ``execute`` never raises HarnessError/Interrupted: it records them."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        backend: Backend,
        load_factory: LoadFactory,
        listeners: Sequence[RunListener] = (),
        progress: ProgressView | None = None,
        poll_real_seconds: float = 0.05,
    ) -> None:
        self.scenario = scenario
        self.controller = controller_named(scenario.controller)
        self.backend = backend
        self.clock: Clock = backend.clock
        self._load_factory = load_factory
        self._load: LoadDriver | None = None
        self.recorder = Recorder()
        self._listeners: list[RunListener] = [self.recorder, *listeners]
        self.listener_failures: list[str] = []  # listeners dropped after raising (see ``_notify``)
        self._progress = progress or NullProgress()
        self._poll = poll_real_seconds
        self._stage: Stage = "preflight"
        self._started = self.clock.now()
        self._fault_state = "off"  # off → on → cleared
        self._fault_on_at = 0.0
        self._last_sample: StatusSample | None = None
        self._phases_since_trigger: dict[Phase, float] = {}  # phase → first sample time after the trigger
        self._gaps: tuple[str, ...] = ()  # the backend's evidence gaps, as of its latest observation

    # lifecycle -----------------------------------------------------------------------------------

    def execute(self) -> RunOutcome:
        outcome = RunOutcome(self.recorder)
        try:
            self._preflight()
            ingress = self._deploy()
            self._start_load(ingress)
            self._baseline()
            trigger_at = self._trigger()
            terminal = self._observe(trigger_at, outcome)
            if terminal:
                self._recovery()
            # a scenario that expects the controller to hold the rollout is watched to the cap by design
            watched = terminal or self.scenario.expect.outcome == "paused"
            if outcome.lost_evidence is None:  # else ``_lose_evidence`` already ended the run
                outcome.complete = watched and not outcome.missing
            self._record_gaps(outcome)
            if not outcome.complete and outcome.incomplete_reason is None:
                outcome.incomplete_reason = "no terminal phase before timing.max_duration"
        except Interrupted as exc:
            self._fail(outcome, f"interrupted by {exc.signal_name} during {self._stage}", exc, "interrupted")
        except LoadError as exc:  # the run ends cleanly, without the evidence the verdict needs
            self._lose_evidence(outcome, f"load generator failed during {self._stage}: {exc}")
            outcome.error = exc
        except HarnessError as exc:
            self._fail(outcome, f"{type(exc).__name__} during {self._stage}: {exc}", exc, "warning")
        except Exception as exc:  # a crash still leaves a partial, INCOMPLETE report
            self._fail(outcome, f"crash during {self._stage}: {type(exc).__name__}: {exc}", exc, "warning")
        finally:
            self._teardown(outcome)
        return outcome

    def _preflight(self) -> None:
        self._enter("preflight")
        failed = [c for c in self.backend.preflight() if not c.ok]
        for check in failed:
            self._warn(f"preflight {check.name}: {check.detail}")
        if failed:
            summary = "; ".join(f"{c.name}: {c.detail}" for c in failed)
            raise InfrastructureError(f"preflight failed: {summary}")

    def _deploy(self) -> Ingress:
        self._enter("deploy")
        return self.backend.deploy(self.scenario.controller_spec, self.scenario.stable.as_revision())

    def _start_load(self, ingress: Ingress) -> None:
        self._load = self._load_factory(self.scenario, ingress)
        self._load.start()

    def _baseline(self) -> None:
        self._enter("baseline")
        self._watch_until(self.clock.now() + self.scenario.timing.warmup_seconds, trigger_at=None)

    def _trigger(self) -> float:
        self._enter("trigger")
        at = self.backend.trigger(self.scenario.revision.as_revision())
        self._mark(at, "trigger", f"revision {self.scenario.revision.version}")
        if self.scenario.faults_from_start:
            self._mark(at, "fault_on", "fault in the new revision's pod template")
            self._fault_state = "on"
        return at

    def _observe(self, trigger_at: float, outcome: RunOutcome) -> bool:
        self._enter("observe")
        deadline = trigger_at + self.scenario.timing.max_duration_seconds
        terminal = self._watch_until(deadline, trigger_at=trigger_at, outcome=outcome, stop_on_terminal=True)
        if not terminal:
            outcome.diagnostics.update(self.backend.diagnostics())
        return terminal

    def _recovery(self) -> None:
        self._enter("recovery")
        self._watch_until(self.clock.now() + self.scenario.timing.recovery_seconds, trigger_at=None)

    def _teardown(self, outcome: RunOutcome) -> None:
        self._enter("teardown")
        for name, action in (("load", self._stop_load), ("backend", self.backend.teardown)):
            try:
                action()
            except Exception as exc:  # teardown must run every step; record, don't mask the run's error
                outcome.diagnostics[f"teardown {name}"] = f"{type(exc).__name__}: {exc}"
        self._enter("done")
        if self.listener_failures:
            outcome.diagnostics["listener failures"] = "\n".join(self.listener_failures)
        self._progress.close()

    def _stop_load(self) -> None:
        """Stop the load first: the driver's final partial bucket is only collectable after stop()."""
        if self._load is not None:
            self._load.stop()
            self._emit(ObservedBatch(load=tuple(self._load.collect())))

    # the watch loop ------------------------------------------------------------------------------

    def _watch_until(
        self,
        until: float,
        *,
        trigger_at: float | None,
        outcome: RunOutcome | None = None,
        stop_on_terminal: bool = False,
    ) -> bool:
        """Poll backend and load until ``until`` (emulated); True if a terminal phase ended it."""
        seen_progressing = False
        while self.clock.now() < until:
            self._poll_once(trigger_at)
            problem = self._load.problem() if self._load else None
            if problem and outcome is not None:
                self._lose_evidence(outcome, problem)
                return False
            if problem:
                raise LoadError(problem)
            phase = self._last_sample.status.phase if self._last_sample else Phase.NONE
            terminal_phases = self.controller.terminal_phases
            seen_progressing = seen_progressing or phase not in (
                terminal_phases | {self.controller.initialized_phase}
            )
            if stop_on_terminal and seen_progressing and phase in terminal_phases:
                kind = "rollback" if phase is self.controller.rollback_phase else "promotion"
                self._mark(self._last_sample.at if self._last_sample else self.clock.now(), kind, phase.value)
                return True
            self.clock.sleep(self._poll * self.clock.scale)  # poll every `_poll` real seconds
        return False

    def _poll_once(self, trigger_at: float | None) -> None:
        observation: Observation = self.backend.observe()
        load = tuple(self._load.collect()) if self._load else ()
        self._emit(
            ObservedBatch(
                samples=observation.samples,
                events=observation.events,
                checks=observation.checks,
                load=load,
                queries=tuple(dict(q) for q in observation.queries),
            )
        )
        if observation.samples:
            self._last_sample = observation.samples[-1]
        if observation.gaps != self._gaps:
            for gap in observation.gaps:
                self._warn(f"evidence gap: {gap}")
            self._gaps = observation.gaps
        if trigger_at is not None:
            for sample in observation.samples:
                if sample.at >= trigger_at:
                    self._phases_since_trigger.setdefault(sample.status.phase, sample.at)
            self._drive_fault(trigger_at)
        self._show(load)

    def _drive_fault(self, trigger_at: float) -> None:
        plan = self.scenario.fault
        if plan is None:
            return
        now = self.clock.now()
        if self._fault_state == "off" and self._fault_due(trigger_at, now):
            self.backend.set_canary_faults(plan.spec)
            self._fault_state = "on"
            self._mark(self.clock.now(), "fault_on", _describe_fault(plan.spec))
            self._fault_on_at = self.clock.now()
        elif (
            self._fault_state == "on"
            and plan.duration_seconds is not None
            and now >= self._fault_on_at + plan.duration_seconds
        ):
            self.backend.set_canary_faults(())
            self._fault_state = "cleared"
            self._mark(self.clock.now(), "fault_off", "fault duration elapsed")

    def _fault_due(self, trigger_at: float, now: float) -> bool:
        assert self.scenario.fault is not None
        at = self.scenario.fault.at
        if at.at_weight is not None:
            weight = self._last_sample.status.canary_weight if self._last_sample else 0
            return weight >= at.at_weight
        if at.phase is not None:  # the first status of that phase after the trigger, even if brief
            return Phase(at.phase) in self._phases_since_trigger
        if at.after_detection is not None:  # detection = the first Progressing status after the trigger
            detected = self._phases_since_trigger.get(Phase.PROGRESSING)
            return detected is not None and now >= detected + at.after_detection
        return now >= trigger_at + (at.after_seconds or 0.0)

    # listeners -----------------------------------------------------------------------------------

    def _enter(self, stage: Stage) -> None:
        self._stage = stage
        at = self.clock.now()
        self._notify(lambda listener: listener.stage(stage, at))
        self._show(())

    def _emit(self, batch: ObservedBatch) -> None:
        self._notify(lambda listener: listener.observed(batch))

    def _notify(self, call: Callable[[RunListener], None]) -> None:
        """A failing listener (journal on a full disk…) is dropped and noted; it never stops the run or its
        teardown. The in-memory recorder is the evidence of last resort: its failures propagate."""
        for listener in list(self._listeners):
            try:
                call(listener)
            except Interrupted:
                raise
            except Exception as exc:
                if listener is self.recorder:
                    raise
                self._listeners.remove(listener)
                with contextlib.suppress(Exception):  # release its file; flushing may fail again
                    getattr(listener, "close", lambda: None)()
                self.listener_failures.append(f"{type(listener).__name__}: {type(exc).__name__}: {exc}")
                self.recorder.warning(self.clock.now(), f"listener dropped: {self.listener_failures[-1]}")

    def _mark(self, at: float, kind: str, detail: str) -> None:
        self._emit(ObservedBatch(marks=(Mark(at=at, kind=kind, detail=detail),)))  # type: ignore[arg-type]
        self._progress.message(f"[{self.scenario.id}] {kind}: {detail}")

    def _warn(self, text: str) -> None:
        at = self.clock.now()
        self._notify(lambda listener: listener.warning(at, text))
        self._progress.message(f"[{self.scenario.id}] warning: {text}")

    def _record_gaps(self, outcome: RunOutcome) -> None:
        """Evidence still missing at the end (events unreadable…): the verdict is INCONCLUSIVE with it."""
        for gap in self._gaps:
            if gap not in outcome.missing:
                outcome.missing.append(gap)

    def _lose_evidence(self, outcome: RunOutcome, reason: str) -> None:
        outcome.complete = True  # the lifecycle ended by choice; the verdict sees the missing evidence
        outcome.lost_evidence = reason
        if reason not in outcome.missing:
            outcome.missing.append(reason)
        self._warn(f"load evidence lost, run stopped: {reason}")
        self._collect_diagnostics(outcome)

    def _fail(self, outcome: RunOutcome, reason: str, exc: BaseException, kind: str) -> None:
        outcome.complete = False
        outcome.incomplete_reason = reason
        outcome.error = exc
        self._mark(self.clock.now(), kind, reason)
        self._collect_diagnostics(outcome)

    def _collect_diagnostics(self, outcome: RunOutcome) -> None:
        try:
            outcome.diagnostics.update(self.backend.diagnostics())
        except Exception as diag_exc:  # diagnostics are best effort after a failure
            outcome.diagnostics["diagnostics"] = f"unavailable: {diag_exc}"

    def _show(self, load: Sequence[LoadBucket]) -> None:
        status = self._last_sample.status if self._last_sample else None
        self._progress.update(
            ProgressSnapshot(
                scenario_id=self.scenario.id,
                stage=self._stage,
                elapsed=self.clock.now() - self._started,
                phase=status.phase.value if status else "",
                canary_weight=status.canary_weight if status else 0,
                failed_checks=status.failed_checks if status else 0,
                **_rates(load, self.clock.scale),
            )
        )


def _rates(load: Sequence[LoadBucket], scale: float) -> dict[str, dict[str, float]]:
    """Real requests/s and error % per version over the buckets just collected."""
    requests: dict[str, int] = {}
    bad: dict[str, int] = {}
    buckets: dict[str, set[tuple[float, float]]] = {}
    for b in load:
        requests[b.version] = requests.get(b.version, 0) + b.requests
        bad[b.version] = bad.get(b.version, 0) + b.bad
        buckets.setdefault(b.version, set()).add((b.start, b.duration))
    real_span = {v: sum(d for _, d in spans) / scale for v, spans in buckets.items()}
    return {
        "rps_by_version": {v: n / real_span[v] if real_span[v] else 0.0 for v, n in requests.items()},
        "error_pct_by_version": {v: 100.0 * bad[v] / n if n else 0.0 for v, n in requests.items()},
    }


def _describe_fault(spec: Sequence[object]) -> str:
    kinds = [str(f.get("kind", "?")) if isinstance(f, dict) else "?" for f in spec]
    return "runtime fault: " + ", ".join(kinds)
