"""The tail of a tick: strategy runners, promotion traffic shift, finalising, rollback (``scheduler.go``).

A mixin of ``FlaggerController``; it only uses the controller's ports and its status/event helpers.
Traefik specifics (§2.11): ``GetRoutes`` never reports mirroring and ``SetRoutes`` ignores the mirror
flag and A/B ``match`` (so A/B sends all traffic to the canary, and B/G keeps it at weight 0).
"""

from __future__ import annotations

from collections.abc import Callable

from harness.controllers.flagger import events as msg
from harness.controllers.flagger import hooks
from harness.controllers.flagger.hooks import EventType
from harness.controllers.flagger.model import CanarySpec, CanaryStatus, Phase, WebhookSpec
from harness.controllers.flagger.ports import TrafficRouter, WebhookResult, Workloads
from harness.controllers.flagger.status import set_iterations, set_phase, set_weight, sync_status
from harness.controllers.flagger.weights import TOTAL_WEIGHT, max_weight, next_step_weight, promotion_step
from harness.errors import HarnessError

StatusWrite = Callable[[CanaryStatus], CanaryStatus]


class StrategyRunner:
    """Needs ``_spec``, ``_router``, ``_workloads``, ``_cd`` and the helpers below from the controller."""

    _spec: CanarySpec
    _router: TrafficRouter
    _workloads: Workloads
    _cd: CanaryStatus  # the tick's in-memory Canary status (Flagger's ``cd``)

    @property
    def spec(self) -> CanarySpec:
        return self._spec

    def emit(self, kind: EventType, message: str, phase: Phase | None = None) -> None:
        raise NotImplementedError

    def call_hook(self, hook: WebhookSpec, phase: Phase, status: CanaryStatus | None = None) -> WebhookResult:
        raise NotImplementedError

    def _write(self, change: StatusWrite) -> None:
        raise NotImplementedError

    def _now(self) -> float:
        raise NotImplementedError

    def _set_routes(self, primary: int, canary: int) -> bool:
        """SetRoutes; on error a Warning event with the error text and False."""
        try:
            self._router.set_routes(primary, canary)
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return False
        return True

    def _phase(self, phase: Phase) -> StatusWrite:
        spec, now = self._spec, self._now()
        return lambda s: set_phase(
            s, phase, analysis_iterations=spec.analysis.iterations, target_kind=spec.target_kind, now=now
        )

    def _sync(self, phase: Phase, *, canary_weight: int = 0) -> StatusWrite:
        spec, now, template = self._spec, self._now(), self._workloads.target_template_hash()
        return lambda s: sync_status(
            s,
            phase=phase,
            template_hash=template,
            target_kind=spec.target_kind,
            now=now,
            canary_weight=canary_weight,
        )

    # ---- strategies ----------------------------------------------------------------------------------
    def _promotion_gate(self) -> bool:
        """``runConfirmPromotionHooks``: reject → WaitingPromotion (first time) or iterations = N − 1."""
        rejecting = hooks.confirm_promotion(self)
        if rejecting is None:
            return True
        if self._cd.phase != Phase.WAITING_PROMOTION:
            self._write(self._phase(Phase.WAITING_PROMOTION))
            self.emit("Warning", msg.waiting_promotion(self._spec, rejecting.name))
        else:
            now, value = self._now(), self._spec.analysis.iterations - 1
            self._write(lambda s: set_iterations(s, value, now))
        return False

    def _promote(self) -> None:
        self.emit("Normal", msg.copying(self._spec))
        try:
            self._workloads.promote()
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return
        self._write(self._phase(Phase.PROMOTING))

    def _run_canary(self, primary_weight: int, canary_weight: int, mirrored: bool) -> None:
        analysis, now = self._spec.analysis, self._now()
        if canary_weight < max_weight(analysis):
            step = next_step_weight(analysis, canary_weight)
            if analysis.mirror and canary_weight == 0:
                if not mirrored:  # always the case on Traefik: the mirror step repeats forever (§2.11)
                    primary_weight, canary_weight = TOTAL_WEIGHT, 0
                else:
                    primary_weight, canary_weight = TOTAL_WEIGHT - step, step
            else:
                primary_weight = max(primary_weight - step, 0)
                canary_weight = min(canary_weight + step, TOTAL_WEIGHT)
            if not self._set_routes(primary_weight, canary_weight):
                return
            weight = canary_weight
            self._write(lambda s: set_weight(s, weight, now))
            self.emit("Normal", msg.advance_weight(self._spec, canary_weight))
            return
        if self._promotion_gate():
            self._promote()

    def _run_ab(self) -> None:
        analysis, iterations, now = self._spec.analysis, self._cd.iterations, self._now()
        if analysis.iterations > iterations:
            if not self._set_routes(0, TOTAL_WEIGHT):  # Traefik ignores the match: all traffic to canary
                return
            self._write(lambda s: set_iterations(s, iterations + 1, now))
            self.emit("Normal", msg.advance_iteration(self._spec, iterations + 1, analysis.iterations))
            return
        if self._promotion_gate() and analysis.iterations == iterations:
            self._promote()

    def _run_blue_green(self, mirrored: bool) -> None:
        analysis, iterations, now = self._spec.analysis, self._cd.iterations, self._now()
        if analysis.iterations > iterations:
            if analysis.mirror and not mirrored:
                self._set_routes(TOTAL_WEIGHT, 0)  # mirror flag ignored by the Traefik router
            self._write(lambda s: set_iterations(s, iterations + 1, now))
            self.emit("Normal", msg.advance_iteration(self._spec, iterations + 1, analysis.iterations))
            return
        if not self._promotion_gate():
            return
        if analysis.iterations == iterations:
            self.emit("Normal", msg.mirroring_stopped() if analysis.mirror else msg.routing_to_canary())
            if not self._set_routes(0, TOTAL_WEIGHT):
                return
            self._write(lambda s: set_iterations(s, iterations + 1, now))
            return
        if analysis.iterations < iterations:
            self._promote()

    # ---- promotion, finalising, rollback --------------------------------------------------------------
    def _promotion_shift(self, primary_weight: int, canary_weight: int) -> None:
        """``runPromotionTrafficShift``: all at once, or ``stepWeightPromotion`` per tick."""
        analysis, now = self._spec.analysis, self._now()
        if analysis.step_weight_promotion == 0:
            self.emit("Normal", msg.routing_to_primary())
            if self._set_routes(TOTAL_WEIGHT, 0):
                self._write(self._phase(Phase.FINALISING))
            return
        if canary_weight > 0:  # [src] a router reporting canary 0 here leaves the run stuck (PR #1692)
            primary, canary = promotion_step(analysis, primary_weight, canary_weight)
            if not self._set_routes(primary, canary):
                return
            self.emit("Normal", msg.advance_primary(self._spec, primary))
            if primary == TOTAL_WEIGHT:
                self._write(self._phase(Phase.FINALISING))
            else:
                self._write(lambda s: set_weight(s, canary, now))

    def _finalise(self) -> None:
        try:
            self._workloads.scale_canary(0)
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return
        self._write(self._phase(Phase.SUCCEEDED))
        hooks.post_rollout(self, Phase.SUCCEEDED, Phase.SUCCEEDED)
        self.emit("Normal", msg.promotion_completed(self._spec), Phase.SUCCEEDED)

    def _skip_analysis(self) -> None:
        """``shouldSkipAnalysis``: promote straight away (the canary is ready at this point)."""
        if not self._set_routes(TOTAL_WEIGHT, 0):
            return
        self.emit("Normal", msg.copying(self._spec))
        try:
            self._workloads.promote()
            self._workloads.scale_canary(0)
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return
        self._write(self._phase(Phase.SUCCEEDED))
        hooks.post_rollout(self, Phase.SUCCEEDED, Phase.SUCCEEDED)
        self.emit("Normal", msg.promotion_skipped(self._spec), Phase.SUCCEEDED)

    def _rollback(self) -> None:
        """``rollback()`` — effects in the order of spec §2.8."""
        spec, cd = self._spec, self._cd
        if cd.failed_checks >= spec.analysis.threshold:
            self.emit("Warning", msg.threshold_reached(spec, cd.failed_checks))
        if not self._set_routes(TOTAL_WEIGHT, 0):
            return
        self.emit("Warning", msg.canary_failed(spec), Phase.FAILED)
        try:
            self._workloads.scale_canary(0)
        except HarnessError as exc:
            self.emit("Warning", str(exc))
            return
        self._write(self._sync(Phase.FAILED))
        hooks.post_rollout(self, Phase.FAILED)

    def _failed_promotion(self, error: str) -> None:
        """``handleFailedPromotion`` (v1.44): all traffic to the canary, Failed with weight 100."""
        self.emit("Warning", msg.promotion_failed(self._spec, error))
        if not self._set_routes(0, TOTAL_WEIGHT):
            return
        self._write(self._sync(Phase.FAILED, canary_weight=TOTAL_WEIGHT))
        hooks.post_rollout(self, Phase.FAILED)
