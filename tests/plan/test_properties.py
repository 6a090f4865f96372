"""Property tests: on random Canary tunings and fault times the plan predicts the controller's ticks."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.plan.planner import plan, predicted_measures

from ..flagger.rig import canary
from .emulate import emulate
from .test_worked_examples import LENIENT

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tunings(draw):
    """(analysis overrides, readiness ticks, promotion ticks) over Flagger-valid tunings."""
    analysis = {"interval": f"{draw(st.integers(10, 300))}s", "threshold": draw(st.integers(1, 10))}
    if draw(st.booleans()):
        steps = sorted(draw(st.sets(st.integers(1, 100), min_size=1, max_size=6)))
        analysis |= {"stepWeights": steps, "stepWeight": None, "maxWeight": None}
    else:
        analysis |= {"stepWeight": draw(st.integers(5, 60)), "maxWeight": draw(st.integers(1, 100))}
    if draw(st.booleans()):
        analysis["stepWeightPromotion"] = draw(st.integers(10, 100))
    return analysis, draw(st.integers(0, 2)), draw(st.integers(0, 2))


def _setup(tuning):
    analysis, readiness, promotion = tuning
    spec = canary(analysis)
    interval = spec.analysis.interval_seconds
    predicted = plan(
        spec,
        rps=100,
        policy=LENIENT,
        readiness_ticks=readiness,
        promotion_ticks=promotion,
        detection_delay=interval / 2,
        check_delay=0.0,
    )
    ready = {
        "canary_ready_after": (readiness + 1 / 3) * interval,
        "primary_ready_after": (promotion + 1 / 3) * interval,
    }
    return spec, predicted, ready


class TestPlanMatchesController:
    """Predicted promotion / rollback ticks and weights equal the emulated ones."""

    @PROPERTY
    @given(tunings())
    def test_healthy_run(self, tuning):
        """A healthy canary promotes and succeeds on the predicted ticks, at the predicted top weight."""
        spec, predicted, ready = _setup(tuning)
        observed = emulate(spec, **ready)
        healthy = predicted.healthy
        assert (healthy.outcome, healthy.promote_tick, healthy.decided_tick) == (
            observed.outcome,
            observed.promote_tick,
            observed.decided_tick,
        )
        assert healthy.max_weight == observed.max_weight == predicted.reachable_weight

    @PROPERTY
    @given(tunings())
    def test_fault_from_start(self, tuning):
        """A canary bad from the start is rolled back on the predicted tick at the first weight."""
        spec, predicted, ready = _setup(tuning)
        observed = emulate(spec, lambda emulation, now: True, **ready)
        case = predicted.from_start
        assert (case.outcome, case.rollback_tick, case.weight_at_abort) == (
            observed.outcome,
            observed.decided_tick,
            observed.weight_at_abort,
        )
        assert case.first_failing_at == observed.first_failing_tick * spec.analysis.interval_seconds

    @PROPERTY
    @given(tunings(), st.integers(0, 2 * 60 * 20))
    def test_fault_at_a_time(self, tuning, half_seconds):
        """A fault switched on x seconds after the trigger: decision time, weights and abort as predicted."""
        spec, predicted, ready = _setup(tuning)
        onset = half_seconds / 2 * spec.analysis.interval_seconds / 60  # scale with the interval
        observed = emulate(spec, lambda emulation, now: now >= emulation.trigger + onset, **ready)
        measures = predicted_measures(predicted, onset)
        assert measures["decision_within"] == observed.decided_from_trigger
        assert measures["max_canary_weight"] == observed.max_weight
        rolled_back = observed.outcome == "rolled-back"
        assert ("abort_within" in measures) == rolled_back
        if rolled_back:
            assert measures["abort_within"] == observed.decided_from_trigger - onset

    @PROPERTY
    @given(tunings(), st.integers(0, 5))
    def test_fault_at_a_weight(self, tuning, index):
        """A fault switched on once the router shows weight ≥ w: rollback tick and weight as predicted."""
        spec, predicted, ready = _setup(tuning)
        weight = predicted.weights[min(index, len(predicted.weights) - 1)]
        observed = emulate(spec, lambda emulation, now: emulation.reached_weight_before(weight, now), **ready)
        measures = predicted_measures(predicted, ("weight", weight))
        assert measures["decision_within"] == observed.decided_from_trigger
        assert measures["max_canary_weight"] == observed.max_weight
        assert ("abort_within" in measures) == (observed.outcome == "rolled-back")
        case = next(c for c in predicted.at_weights if c.at_weight == weight)
        assert (case.rollback_tick, case.weight_at_abort) == (observed.decided_tick, observed.weight_at_abort)
