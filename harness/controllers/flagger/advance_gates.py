"""Steps 5–15 of a tick, before the analysis: initialise, spec change, primary readiness, new revision
(confirm-rollout, scale up → Progressing) and restart (``advanceCanary`` in ``scheduler.go``, spec §2.2).

A mixin of ``FlaggerController`` on top of ``StrategyRunner`` (rollback and failed promotion); it uses the
controller's ports, its injected clock and the stored / in-memory Canary status.
"""

from __future__ import annotations

from dataclasses import replace

from harness.clock import Clock
from harness.controllers.flagger import events as msg
from harness.controllers.flagger import hooks
from harness.controllers.flagger.model import CanaryStatus, Phase
from harness.controllers.flagger.readiness import primary_readiness
from harness.controllers.flagger.status import has_spec_changed, sync_status
from harness.controllers.flagger.strategies import StrategyRunner
from harness.errors import HarnessError

ADVANCING = frozenset(
    {Phase.PROGRESSING, Phase.WAITING, Phase.WAITING_PROMOTION, Phase.PROMOTING, Phase.FINALISING}
)
ANALYSING = frozenset({Phase.PROGRESSING, Phase.WAITING_PROMOTION, Phase.PROMOTING, Phase.FINALISING})


class AdvanceGates(StrategyRunner):
    """Needs ``_clock`` and ``_status`` (the stored Canary status) besides ``StrategyRunner``'s fields."""

    _clock: Clock
    _status: CanaryStatus

    def _initialize(self, initializing: bool) -> bool:
        """Steps 5–10: primary, primary readiness while initializing, scale target to 0, Initialized."""
        spec = self._spec
        try:
            self._workloads.ensure_primary()
        except HarnessError as exc:
            self.emit("Warning", f"createPrimaryDeployment failed: {exc}")
            return False
        if initializing and not spec.skip_analysis:
            readiness = primary_readiness(spec, self._workloads.primary_state(), self._clock.now())
            if not readiness.ready:
                self.emit("Warning", readiness.message)
                if not readiness.retriable:
                    self._rollback()
                return False
        if not initializing:
            return True
        try:
            self._workloads.scale_canary(0)
        except HarnessError as exc:
            self.emit("Warning", f"scaling down canary {spec.target_kind} {spec.target_ref} failed: {exc}")
            return False
        self._write(self._sync(Phase.INITIALIZED))
        self._cd = replace(
            self._cd, phase=Phase.INITIALIZED, last_applied_spec=self._status.last_applied_spec
        )
        self.emit("Normal", msg.initialized(spec))
        return True

    def _should_advance(self) -> bool:
        """Step 11; in Failed the status is re-synced first (lastAppliedSpec := current template)."""
        cd = self._cd
        if cd.phase in ADVANCING:
            return True
        template = self._workloads.target_template_hash()
        if cd.phase == Phase.FAILED:
            spec, now = self._spec, self._clock.now()
            self._write(
                lambda s: sync_status(
                    s,
                    phase=cd.phase,
                    template_hash=template,
                    target_kind=spec.target_kind,
                    now=now,
                    canary_weight=cd.canary_weight,
                    failed_checks=cd.failed_checks,
                    iterations=cd.iterations,
                )
            )
        return has_spec_changed(cd, template)

    def _primary_ready(self) -> bool:
        """Step 12: not ready → Warning; non-retriable → failed promotion or rollback."""
        readiness = primary_readiness(self._spec, self._workloads.primary_state(), self._clock.now())
        if readiness.ready:
            return True
        self.emit("Warning", readiness.message)
        if not readiness.retriable:
            if self._cd.phase in (Phase.PROMOTING, Phase.FINALISING):
                self._failed_promotion(readiness.message)
            else:
                self._rollback()
        return False

    def _check_canary_status(self) -> bool:
        """Step 14: continue an analysis, or (new revision / Waiting) gate, scale up and → Progressing."""
        if self._cd.phase in ANALYSING:
            return True
        spec, fresh = self._spec, self._status  # Flagger re-reads the Canary here
        rejecting = hooks.confirm_rollout(self, fresh)
        if rejecting is not None:
            if fresh.phase != Phase.WAITING:
                self._write(self._phase(Phase.WAITING))
                self.emit("Warning", msg.waiting_approval(spec, rejecting.name), fresh.phase)
            return False
        self.emit("Normal", msg.new_revision(spec), Phase.PROGRESSING)
        try:
            self._workloads.scale_canary(self._scale_up_replicas())
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return False
        self._write(self._sync(Phase.PROGRESSING))
        return False

    def _scale_up_replicas(self) -> int:
        """``ScaleFromZero``: target replicas if > 0, else the primary's (no autoscaler), else 1."""
        replicas = self._workloads.target_replicas()
        if replicas > 0:
            return replicas
        if self._spec.autoscaler_ref is None:
            primary = self._workloads.primary_state().replicas
            return primary if primary > 0 else 1
        return 1  # [inferred] HPA/ScaledObject minimums are not modelled; Flagger uses them when > 1

    def _restarted(self) -> bool:
        """Step 15: a new revision during Progressing/WaitingPromotion restarts the analysis."""
        cd = self._cd
        if cd.phase not in (Phase.PROGRESSING, Phase.WAITING_PROMOTION):
            return False
        if not has_spec_changed(cd, self._workloads.target_template_hash()):
            return False
        self.emit("Normal", msg.restart(self._spec))
        if self._set_routes(100, 0):
            self._write(self._sync(Phase.PROGRESSING))
        return True
