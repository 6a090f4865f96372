"""The Rollout canary controller, emulated: ``reconcile()`` is ``rolloutCanary`` (semantics §2) at clock time.

One call first lets the AnalysisRun controller take the measurements that are due, then runs reconcile
passes until the status stops changing (each status patch re-enqueues the real Rollout at once). Drive it by
calling ``reconcile()`` at ``next_wakeup()`` and whenever the workload may have changed (pods became
ready); the local backend can simply call it every emulated second. Decisions read the status as it was at
the start of a pass (Argo's ``c.rollout.Status``) and write a new one (``persistRolloutStatus``).

Not modelled: setCanaryScale, experiments, header/mirror routes, dynamicStableScale, ping-pong, rollback
windows, manual promote/abort/retry, minReadySeconds, template changes in the middle of an update.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from harness.clock import Clock
from harness.controllers.argo_rollouts import rollout_status as rules
from harness.controllers.argo_rollouts.analysis_run import (
    AnalysisRunState,
    next_due,
)
from harness.controllers.argo_rollouts.model import (
    AnalysisPhase,
    AnalysisStep,
    AnalysisTemplate,
    PauseReason,
    PauseStep,
    ProgressingCondition,
    RolloutEvent,
    RolloutPhase,
    RolloutSpec,
    RolloutStatus,
    RunRef,
    SetWeightStep,
    step_string,
)
from harness.controllers.argo_rollouts.ports import (
    EventSink,
    PrometheusQueries,
    RolloutWorkload,
    TraefikWeights,
)
from harness.controllers.argo_rollouts.rollout_status import PauseChanges
from harness.controllers.argo_rollouts.runs import AnalysisRuns
from harness.errors import HarnessError

MAX_PASSES = 12


class RolloutController:
    """One Rollout after its first deploy: stable = ``stable_hash``, waiting for ``start_update``."""

    def __init__(
        self,
        spec: RolloutSpec,
        templates: Mapping[str, AnalysisTemplate],
        *,
        traffic: TraefikWeights,
        workload: RolloutWorkload,
        prometheus: PrometheusQueries,
        clock: Clock,
        events: EventSink | None = None,
        stable_hash: str = "stable",
        revision: int = 2,
    ) -> None:
        self.spec = spec
        self._traffic, self._workload = traffic, workload
        self._clock = clock
        self._sink = events
        self._revision = revision
        self.events: list[RolloutEvent] = []
        self.runs = AnalysisRuns(spec, templates, prometheus, self._record, revision)
        self.step_run: AnalysisRunState | None = None
        self.background_run: AnalysisRunState | None = None
        self._canary_replicas = 0
        self._written_weight: int | None = None
        self._abort_scale_down_at: float | None = None
        self._old_stable_scale_down_at: float | None = None
        self._canary_available = self._stable_available = 0
        self.status = RolloutStatus(
            RolloutPhase.HEALTHY, "", len(spec.steps), 0, stable_rs=stable_hash, current_pod_hash=stable_hash
        )

    # ---- driving ----------------------------------------------------------------------------------

    def start_update(self) -> None:
        """A new pod template: the new ReplicaSet is created and the status reset (``rolloutCanary`` 1)."""
        now = self._clock.now()
        pod_hash = self._workload.canary_hash()
        message = f'Created new replica set "{self.rs_name(pod_hash)}"'
        self.status = replace(
            self.status,
            current_step_index=0,
            current_pod_hash=pod_hash,
            abort=False,
            aborted_at=None,
            pause_conditions=(),
            controller_pause=False,
            step_run=None,
            background_run=None,
            progressing=ProgressingCondition("True", "NewReplicaSetCreated", message, now),
        )
        self.step_run = self.background_run = None
        self._canary_replicas = 0
        self._abort_scale_down_at = None
        self.status = replace(self.status, phase=rules.rollout_phase(self.spec, self.status)[0])
        self._emit(
            "Normal",
            "RolloutNotCompleted",
            f"Rollout not completed, started update to revision {self._revision} ({pod_hash})",
        )
        self.reconcile()

    def reconcile(self) -> None:
        now = self._clock.now()
        if self.step_run is not None:
            self.step_run = self.runs.settle(self.step_run, now)
        if self.background_run is not None:
            self.background_run = self.runs.settle(self.background_run, now)
        for _ in range(MAX_PASSES):
            before = (self.status, self.step_run, self.background_run, self._canary_replicas)
            self._pass(now)
            if before == (self.status, self.step_run, self.background_run, self._canary_replicas):
                return

    def next_wakeup(self) -> float | None:
        """The earliest time something is due: a measurement, a pause expiry, a deadline, a scale-down."""
        due = [next_due(run) for run in (self.step_run, self.background_run) if run is not None]
        step = rules.current_step(self.spec, self.status)
        pause = self.status.pause_condition(PauseReason.CANARY_PAUSE_STEP)
        if isinstance(step, PauseStep) and step.duration is not None and pause is not None:
            due.append(pause.start_time + step.duration)
        due += [
            rules.deadline_at(self.spec, self.status),
            self._abort_scale_down_at,
            self._old_stable_scale_down_at,
        ]
        times = [t for t in due if t is not None]
        return min(times) if times else None

    def rs_name(self, pod_hash: str) -> str:
        return f"{self.spec.name}-{pod_hash}"

    # ---- one pass -----------------------------------------------------------------------------------

    def _pass(self, now: float) -> None:
        # replica counts as the informer cache shows them at the start of the reconcile
        self._canary_available = self._workload.canary_available_replicas()
        self._stable_available = self._workload.stable_available_replicas()
        previous = self.status
        written = rules.paused_condition(self.spec, previous, now)
        if written is not None:  # checkPausedConditions patches before the canary reconcile
            previous = self.status = replace(previous, progressing=written)
        weight = self._traffic_routing(previous)
        if weight is None:
            return
        changes = self._analysis_runs(previous, now)
        if not changes.add:
            scaled = self._replica_sets(previous, changes, now)
            if not scaled and not self.spec.paused:
                changes = self._canary_pause(previous, changes)
        self._sync_status(previous, changes, weight, now)

    def _traffic_routing(self, previous: RolloutStatus) -> int | None:
        """``reconcileTrafficRouting`` (§4); None when the write failed (the reconcile errors out)."""
        available = self._canary_available
        index = previous.current_step_index
        if rules.fully_promoted(previous) or previous.abort or available == 0:
            weight = 0
        elif available < rules.desired_canary_replicas(self.spec, previous):
            weight = rules.previous_set_weight(self.spec, index)
        else:
            weight = rules.current_set_weight(self.spec, previous)
        stable_pods = available if rules.fully_promoted(previous) else self._stable_available
        if stable_pods < -(-(100 - weight) * self.spec.replicas // 100):
            return previous.canary_weight or 0  # checkReplicasAvailable: leave the weights as they are
        if weight != self._written_weight:
            try:
                self._traffic.set_weight(weight)
            except HarnessError as exc:
                self._emit("Warning", "TrafficRoutingError", str(exc))
                return None
            self._written_weight = weight
        if weight != previous.canary_weight:
            detail = "to" if previous.canary_weight is None else f"from {previous.canary_weight} to"
            self._emit("Normal", "TrafficWeightUpdated", f"Traffic weight updated {detail} {weight}")
        return weight

    def _analysis_runs(self, previous: RolloutStatus, now: float) -> PauseChanges:
        """``reconcileAnalysisRuns`` (§3.1, §3.7, §5)."""
        if previous.abort or not previous.stable_rs:  # cancelled, still recorded in the status
            self.step_run = self.runs.cancel(self.step_run, now)
            self.background_run = self.runs.cancel(self.background_run, now)
            self._record_runs(previous)
            return PauseChanges()
        add: list[PauseReason] = []
        abort = ""
        step_run, created_step = self._step_analysis(previous, now)
        background, created_background = self._background_analysis(previous, now)
        for run, created, label in (
            (step_run, created_step, "Step-based"),
            (background, created_background, "Background"),
        ):
            if run is None or created:
                continue
            if run.phase == AnalysisPhase.INCONCLUSIVE:
                add.append(PauseReason.INCONCLUSIVE_ANALYSIS)
            elif run.phase in (AnalysisPhase.FAILED, AnalysisPhase.ERROR) and not abort:
                abort = f"{label} analysis phase error/failed" + (f": {run.message}" if run.message else "")
        self.step_run, self.background_run = step_run, background
        self._record_runs(previous, created_step, created_background)
        return PauseChanges(add=tuple(add), add_abort=bool(abort), abort_message=abort)

    def _step_analysis(self, previous: RolloutStatus, now: float) -> tuple[AnalysisRunState | None, bool]:
        current = self.step_run
        if previous.pause_conditions or previous.abort:
            return current, False
        step, index = rules.current_step(self.spec, previous), previous.current_step_index
        from_previous_step = current is not None and current.step_index != index
        if not isinstance(step, AnalysisStep) or from_previous_step:
            self.runs.cancel(current, now)
            return None, False
        if self._needs_new_run(current, previous):
            return self.runs.create("Step", step.analysis, index, previous, now), True
        return current, False

    def _background_analysis(
        self, previous: RolloutStatus, now: float
    ) -> tuple[AnalysisRunState | None, bool]:
        current, analysis = self.background_run, self.spec.background
        starting = None if analysis is None else analysis.starting_step
        before_start = starting is not None and previous.current_step_index < starting
        if analysis is None or rules.fully_promoted(previous) or before_start:
            self.runs.cancel(current, now)
            return None, False
        if previous.pause_condition(PauseReason.INCONCLUSIVE_ANALYSIS) is not None:
            return current, False
        if self._needs_new_run(current, previous):
            return self.runs.create("Background", analysis, None, previous, now), True
        return current, False

    def _needs_new_run(self, current: AnalysisRunState | None, previous: RolloutStatus) -> bool:
        """``needsNewAnalysisRun``."""
        if current is None:
            return True
        if previous.controller_pause and previous.pause_condition(PauseReason.CANARY_PAUSE_STEP) is None:
            return current.phase == AnalysisPhase.INCONCLUSIVE
        return previous.aborted_at is not None

    def _record_runs(
        self, previous: RolloutStatus, created_step: bool = False, created_bg: bool = False
    ) -> None:
        """``SetCurrentAnalysisRuns`` + ``emitAnalysisRunStatusChanges``."""
        refs: dict[str, RunRef | None] = {}
        for kind, run, prior, created in (
            ("Step", self.step_run, previous.step_run, created_step),
            ("Background", self.background_run, previous.background_run, created_bg),
        ):
            if run is None:
                refs[kind] = None
                continue
            seen = AnalysisPhase.NONE if created else run.phase
            changed = prior is None or (prior.name == run.name and prior.status != seen)
            if seen != AnalysisPhase.NONE and changed:
                before = "NoPreviousStatus" if prior is None else str(prior.status)
                kind_of: Literal["Normal", "Warning"] = (
                    "Warning" if seen in (AnalysisPhase.FAILED, AnalysisPhase.ERROR) else "Normal"
                )
                message = f"{kind} Analysis Run '{run.name}' Status New: '{seen}' Previous: '{before}'"
                self._emit(kind_of, f"AnalysisRun{seen}", message)
            refs[kind] = RunRef(run.name, seen)
        self.status = replace(self.status, step_run=refs["Step"], background_run=refs["Background"])

    def _replica_sets(self, previous: RolloutStatus, changes: PauseChanges, now: float) -> bool:
        """``reconcileCanaryReplicaSets``; True when something was scaled."""
        if self.spec.paused or previous.pause_condition(PauseReason.INCONCLUSIVE_ANALYSIS) is not None:
            return False  # haltProgress
        if self._old_stable_scale_down_at is not None and now >= self._old_stable_scale_down_at:
            self._old_stable_scale_down_at = None
            self._workload.scale_down_previous_stable()
        desired = rules.desired_canary_replicas(self.spec, previous)
        delay = self.spec.abort_scale_down_delay()
        if changes.aborted(previous) and delay is not None:
            if self._abort_scale_down_at is None:
                if self._stable_available >= self.spec.replicas:
                    self._abort_scale_down_at = now + delay
                return False
            if now < self._abort_scale_down_at:
                return False
            desired = 0
        if desired == self._canary_replicas:
            return False
        self._workload.scale_canary(desired)
        self._canary_replicas = desired
        return True

    def _canary_pause(self, previous: RolloutStatus, changes: PauseChanges) -> PauseChanges:
        """``reconcileCanaryPause``: enter a pause step."""
        step = rules.current_step(self.spec, previous)
        if not isinstance(step, PauseStep) or previous.pause_condition(PauseReason.CANARY_PAUSE_STEP):
            return changes
        if previous.controller_pause:
            return changes
        return replace(changes, add=(*changes.add, PauseReason.CANARY_PAUSE_STEP))

    def _sync_status(self, previous: RolloutStatus, changes: PauseChanges, weight: int, now: float) -> None:
        """``syncRolloutStatusCanary`` + ``calculateRolloutConditions`` + ``persistRolloutStatus``."""
        available = self._canary_available
        index = previous.current_step_index
        stable_rs = previous.stable_rs
        steps = len(self.spec.steps)
        if not changes.aborted(previous) and available >= self.spec.replicas and index == steps:
            changes = replace(changes, clear=True, remove_abort=True)
            if stable_rs != previous.current_pod_hash:
                stable_rs = previous.current_pod_hash
                self._workload.promote()
                self._old_stable_scale_down_at = now + self.spec.scale_down_delay_seconds
                self._emit(
                    "Normal",
                    "RolloutCompleted",
                    f"Rollout completed update to revision {self._revision} "
                    f"({stable_rs}): Completed all {steps} canary steps",
                )
        elif changes.aborted(previous):
            index = steps if stable_rs == previous.current_pod_hash else 0
        elif self._completed_current_step(previous, now):
            index += 1
            step = self.spec.steps[index - 1]
            self._emit(
                "Normal",
                "RolloutStepCompleted",
                f"Rollout step {index}/{steps} completed ({step_string(step)})",
            )
            changes = replace(changes, remove=(*changes.remove, PauseReason.CANARY_PAUSE_STEP))
        abort, aborted_at, pauses, controller_pause = rules.pause_status(previous, changes, now)
        new = replace(
            self.status,
            current_step_index=index,
            canary_weight=weight,
            stable_rs=stable_rs,
            abort=abort,
            aborted_at=aborted_at,
            pause_conditions=pauses,
            controller_pause=controller_pause,
            updated_replicas=self._canary_replicas,
            available_replicas=available + self._stable_available,
        )
        condition, deadline_abort, warning = rules.progressing_condition(
            self.spec, previous, new, changes, self.rs_name(new.current_pod_hash), self._revision, now
        )
        if warning:
            self._emit("Warning", rules.ABORTED, warning)
        new = replace(new, progressing=condition)
        if deadline_abort:  # AddAbort inside calculateRolloutConditions, then CalculatePauseStatus
            new = replace(new, abort=True, aborted_at=now, pause_conditions=(), controller_pause=False)
        phase, message = rules.rollout_phase(self.spec, new)
        self.status = replace(new, phase=phase, message=message)
        self._state_change_events(previous, self.status)

    def _completed_current_step(self, previous: RolloutStatus, now: float) -> bool:
        """``completedCurrentCanaryStep`` (§2.1)."""
        if self.spec.paused:
            return False
        step = rules.current_step(self.spec, previous)
        if isinstance(step, SetWeightStep):
            return self._canary_available >= rules.desired_canary_replicas(self.spec, previous)
        if isinstance(step, PauseStep):
            condition = previous.pause_condition(PauseReason.CANARY_PAUSE_STEP)
            if previous.controller_pause and condition is None:
                return True
            return (
                step.duration is not None
                and condition is not None
                and condition.start_time + step.duration <= now
            )
        if isinstance(step, AnalysisStep):
            run = self.step_run
            return run is not None and run.phase == AnalysisPhase.SUCCESSFUL
        return False

    def _state_change_events(self, previous: RolloutStatus, new: RolloutStatus) -> None:
        """``sendStateChangeEvents``."""
        if bool(previous.pause_conditions) == bool(new.pause_conditions):
            return
        if new.pause_conditions:
            self._emit("Normal", rules.PAUSED, f"Rollout is paused ({new.pause_conditions[0].reason})")
        elif new.aborted_at is None:
            self._emit("Normal", rules.RESUMED, "Rollout is resumed")

    def _emit(self, kind: Literal["Normal", "Warning"], reason: str, message: str) -> None:
        self._record(RolloutEvent(self._clock.now(), kind, reason, message, "Rollout", self.spec.name))

    def _record(self, event: RolloutEvent) -> None:
        self.events.append(event)
        if self._sink is not None:
            self._sink.emit(event)
