"""The plan against flagger-semantics §3.3 / §3.4 and against the emulated controller, tick for tick."""

from __future__ import annotations

import pytest

from harness.plan.planner import plan, predicted_measures
from harness.scenario.policy import Policy

from ..flagger.rig import canary
from .emulate import emulate

LENIENT = Policy(
    max_canary_weight=100,
    progress_deadline_seconds=1e9,
    abort_within_seconds=None,
    max_failed_fraction=None,
)
STEP_WEIGHTS = {"stepWeights": [5, 10, 25, 50], "stepWeight": None, "maxWeight": None}


def exact(spec, **kwargs):
    """A plan with the emulation's timing: D = half an interval, δ = 0 (the fake metric flips at once)."""
    kwargs.setdefault("policy", LENIENT)
    return plan(spec, rps=100, detection_delay=spec.analysis.interval_seconds / 2, check_delay=0.0, **kwargs)


def fault_from(onset_after_p0):
    return lambda emulation, now: now >= emulation.p0 + onset_after_p0


def always(emulation, now):
    return True


class TestExampleA:
    """§3.3: interval 1m, threshold 5, stepWeight 10, maxWeight 50."""

    def test_healthy_promotes_at_tick_six_and_succeeds_at_eight(self):
        """Healthy: Promoting at 6:00, Succeeded at 8:00 (n + 3 intervals), as the controller does."""
        predicted = exact(canary()).healthy
        observed = emulate(canary())
        assert (predicted.promote_tick, predicted.decided_tick) == (6, 8)
        assert (observed.promote_tick, observed.decided_tick) == (6, 8)
        assert predicted.outcome == observed.outcome == "promoted"
        assert predicted.max_weight == observed.max_weight == 50

    def test_bad_from_start_rolls_back_at_seven_minutes_at_ten_percent(self):
        """Bad from the start: failures 2:00–6:00, rollback 7:00 at weight 10 (T + 2 intervals)."""
        case = exact(canary()).from_start
        observed = emulate(canary(), always)
        assert (case.first_failing_at, case.rollback_tick, case.weight_at_abort) == (120.0, 7, 10)
        assert (observed.first_failing_tick, observed.decided_tick, observed.weight_at_abort) == (2, 7, 10)
        assert case.canary_requests == pytest.approx(100 * 0.10 * 6 * 60)  # 6 min at 10 %

    def test_fault_at_three_twenty_rolls_back_at_nine_minutes(self):
        """Fault at 3:20 (weight 30): first failure 4:00, rollback 9:00, 5 min 40 s after the fault."""
        spec = canary()
        measures = predicted_measures(exact(spec), 30.0 + 200.0)  # seconds after the trigger (D = 30 s)
        observed = emulate(spec, fault_from(200.0))
        assert measures["decision_within"] == 30.0 + 540.0 == observed.decided_from_trigger
        assert measures["abort_within"] == 340.0
        assert measures["max_canary_weight"] == 30 == observed.weight_at_abort
        assert observed.decided_tick == 9

    def test_random_onset_latency_is_threshold_to_threshold_plus_one_intervals(self):
        """A random onset is rolled back T·I + δ to (T+1)·I + δ after it (§3.2)."""
        case = plan(canary(), rps=100, check_delay=7.0, policy=LENIENT).random
        assert case.latency is not None
        assert (case.latency.best, case.latency.worst) == (307.0, 367.0)
        assert case.mean_latency == pytest.approx((53 * 333.5 + 240 * 337) / 293)  # first piece is I − δ long


class TestExampleB:
    """§3.4: interval 1m, threshold 5, stepWeights [5, 10, 25, 50]."""

    def test_healthy_takes_seven_intervals(self):
        """Weights 5 → 10 → 25 → 50, promotion at 5:00, Succeeded at 7:00."""
        spec = canary(STEP_WEIGHTS)
        predicted = exact(spec)
        observed = emulate(spec)
        assert predicted.weights == (5, 10, 25, 50)
        assert (predicted.healthy.promote_tick, predicted.healthy.decided_tick) == (5, 7)
        assert (observed.promote_tick, observed.decided_tick) == (5, 7)

    def test_bad_from_start_rolls_back_after_seven_intervals_at_five_percent(self):
        """Bad from the start: rollback at 7:00 with 5 % exposure for 6 minutes."""
        spec = canary(STEP_WEIGHTS)
        case = exact(spec).from_start
        observed = emulate(spec, always)
        assert (
            (case.rollback_tick, case.weight_at_abort)
            == (7, 5)
            == (observed.decided_tick, observed.weight_at_abort)
        )
        assert case.bad_requests == pytest.approx(100 * 0.05 * 360)

    def test_fault_at_three_twenty_rolls_back_at_nine_minutes(self):
        """Fault at 3:20 (weight 25): rollback at 9:00."""
        spec = canary(STEP_WEIGHTS)
        measures = predicted_measures(exact(spec), 230.0)
        observed = emulate(spec, fault_from(200.0))
        assert observed.decided_tick == 9
        assert measures["decision_within"] == 570.0 == observed.decided_from_trigger
        assert measures["max_canary_weight"] == 25 == observed.weight_at_abort


class TestFormulas:
    """§3.1's closed forms hold for the walked timeline."""

    @pytest.mark.parametrize(("readiness", "promotion"), [(0, 0), (1, 0), (0, 2), (2, 1)])
    def test_healthy_is_n_plus_3_plus_r_plus_p_and_rollback_is_t_plus_2_plus_r(self, readiness, promotion):
        """Healthy (n + 3 + r + p)·I, bad from start (T + 2 + r)·I, both matching the controller."""
        spec = canary()
        predicted = exact(spec, readiness_ticks=readiness, promotion_ticks=promotion)
        ready = {"canary_ready_after": readiness * 60 + 20, "primary_ready_after": promotion * 60 + 20}
        assert predicted.healthy.decided_tick == 5 + 3 + readiness + promotion
        assert predicted.from_start.rollback_tick == 5 + 2 + readiness
        assert emulate(spec, **ready).decided_tick == predicted.healthy.decided_tick
        assert emulate(spec, always, **ready).decided_tick == predicted.from_start.rollback_tick

    def test_duration_from_trigger_adds_the_detection_delay(self):
        """Unknown D: healthy duration spans [8, 9) minutes after the trigger."""
        duration = plan(canary(), rps=100, policy=LENIENT).healthy.duration
        assert duration is not None
        assert (duration.best, duration.worst) == (480.0, 540.0)

    def test_step_weight_promotion_adds_one_tick_per_shift(self):
        """stepWeightPromotion 20 from 50 %: 3 shift ticks (70/30, 90/10, 100/0) instead of 1."""
        spec = canary({"stepWeightPromotion": 20})
        predicted = exact(spec)
        assert predicted.timeline.promotion_weights == (30, 10, 0)
        assert predicted.healthy.decided_tick == 6 + 3 + 1
        assert emulate(spec).decided_tick == predicted.healthy.decided_tick


class TestCrashLoop:
    """A canary that never becomes ready: silent rollback after progressDeadlineSeconds (§2.7)."""

    @pytest.mark.parametrize(
        ("deadline", "interval", "tick"), [(120, "1m", 3), (90, "1m", 2), (60, "30s", 3)]
    )
    def test_rollback_tick_matches_the_controller(self, deadline, interval, tick):
        """Rollback on the first tick k with k·I > progressDeadlineSeconds; no canary traffic."""
        spec = canary({"interval": interval}, progressDeadlineSeconds=deadline)
        crash = exact(spec).crash_loop
        observed = emulate(spec, canary_ready_after=None)
        assert crash.rollback_tick == tick == observed.decided_tick
        assert observed.outcome == "rolled-back"
        assert observed.max_weight == 0

    def test_deployment_deadline_can_fire_first(self):
        """The target Deployment's own deadline (600 s) caps a longer Canary deadline."""
        spec = canary(progressDeadlineSeconds=900)
        assert exact(spec).crash_loop.rollback_tick == 11
        assert emulate(spec, canary_ready_after=None).decided_tick == 11
