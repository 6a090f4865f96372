"""A/B, Blue/Green and mirroring on Traefik: the plan reports the trap and still predicts the controller."""

from __future__ import annotations

from harness.plan.planner import plan
from harness.scenario.flagger_canary import load_canary

from ..flagger.rig import DATA, canary
from .emulate import emulate
from .test_worked_examples import LENIENT


def exact(spec):
    return plan(
        spec, rps=100, policy=LENIENT, detection_delay=spec.analysis.interval_seconds / 2, check_delay=0.0
    )


class TestAbTesting:
    """A/B on Traefik: the match is ignored, every iteration routes 100 % to the canary."""

    def test_healthy_run_sends_all_traffic_to_the_canary_then_promotes(self):
        """iterations 10: weight 100 from the start tick, promotion on pass 10 (tick 11), Succeeded 13."""
        spec = load_canary(DATA / "ab-testing.yaml")
        predicted = exact(spec)
        observed = emulate(spec)
        assert predicted.strategy == "ab-testing"
        assert "ab-testing-on-traefik" in {t.code for t in predicted.traps}
        assert (predicted.healthy.promote_tick, predicted.healthy.decided_tick) == (11, 13)
        assert (observed.promote_tick, observed.decided_tick) == (11, 13)
        assert predicted.reachable_weight == observed.max_weight == 100

    def test_bad_from_start_is_rolled_back_at_full_weight(self):
        """A bad A/B canary gets 100 % of the traffic until the rollback at tick T + 2."""
        spec = load_canary(DATA / "ab-testing.yaml")
        case = exact(spec).from_start
        observed = emulate(spec, lambda emulation, now: True)
        assert (
            (case.rollback_tick, case.weight_at_abort)
            == (7, 100)
            == (observed.decided_tick, observed.weight_at_abort)
        )


class TestBlueGreen:
    """Blue/Green on Traefik: weight 0 during iterations, so builtin metrics find no values."""

    def test_healthy_canary_is_rolled_back_for_lack_of_traffic(self):
        """threshold 2: every analysis tick finds no values; rollback at tick 4, as in the controller."""
        spec = load_canary(DATA / "blue-green.yaml")
        predicted = exact(spec)
        observed = emulate(spec, zero_traffic_fails=True, window=30.0)
        assert "blue-green-on-traefik" in {t.code for t in predicted.traps}
        assert predicted.healthy.outcome == observed.outcome == "rolled-back"
        assert predicted.healthy.decided_tick == observed.decided_tick == 4
        assert predicted.verdict == "NO-GO"

    def test_without_builtin_metrics_it_switches_all_traffic_at_the_last_iteration(self):
        """With only a custom metric, B/G passes its iterations, then routes 100 % to the canary."""
        analysis = {
            "stepWeight": None,
            "maxWeight": None,
            "iterations": 3,
            "metrics": [{"name": "custom", "query": "vector(0)", "thresholdRange": {"max": 1}}],
        }
        spec = canary(analysis)
        predicted = exact(spec)
        assert predicted.weights == (0, 0, 0, 100)
        assert predicted.reachable_weight == 100
        assert predicted.healthy.promote_tick == 1 + 4
        observed = emulate(spec, queries={"vector(0)": 0.0})
        assert (observed.promote_tick, observed.decided_tick, observed.max_weight) == (5, 7, 100)
        assert predicted.healthy.decided_tick == 7


class TestMirroring:
    """mirror: true with the canary strategy loops at weight 0 on Traefik."""

    def test_never_analyses_never_decides(self):
        """No rollback and no promotion, in the plan and in 30 emulated ticks."""
        spec = canary({"mirror": True})
        predicted = exact(spec)
        observed = emulate(spec, lambda emulation, now: True, max_ticks=30)
        assert predicted.strategy == "mirror"
        assert {"mirroring-on-traefik"} <= {t.code for t in predicted.traps}
        assert predicted.healthy.outcome == predicted.from_start.outcome == observed.outcome == "undecided"
        assert observed.max_weight == 0
        assert predicted.verdict == "NO-GO"
