"""GO / NO-GO against the policy's blast limits, and remedies that are the smallest change meeting them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from harness.plan.limits import with_interval, with_threshold
from harness.plan.planner import plan, predicted_measures
from harness.scenario.flagger_canary import load_canary
from harness.scenario.policy import DEFAULT_POLICY, Policy

from ..flagger.rig import canary

FAULTY_APP = "scenarios/canaries/faulty-app.yaml"


def limit(predicted, name):
    return next(c for c in predicted.limits if c.name == name)


def remedy(check, prefix):
    """The number after '→' in the remedy starting with ``prefix``."""
    text = next(r for r in check.remedies if r.startswith(prefix))
    return int(re.search(r"→ (\d+)", text).group(1))


class TestVerdict:
    def test_tuned_canary_is_go(self):
        """30s / threshold 1 / 5→20 % / deadline 120 s meets every default limit."""
        spec = canary(
            {"interval": "30s", "threshold": 1, "stepWeight": 5, "maxWeight": 20}, progressDeadlineSeconds=120
        )
        predicted = plan(spec, rps=200, policy=DEFAULT_POLICY)
        assert [c.name for c in predicted.limits if not c.passed] == []
        assert (predicted.verdict, predicted.reasons) == ("GO", ())

    def test_error_trap_alone_makes_it_no_go(self):
        """Limits met but every check fails (service name mismatch): NO-GO with the trap as reason."""
        spec = canary(
            {"interval": "30s", "threshold": 1, "stepWeight": 5, "maxWeight": 20},
            progressDeadlineSeconds=120,
            service={"name": "web", "port": 80},
        )
        predicted = plan(spec, rps=200, policy=DEFAULT_POLICY)
        assert predicted.verdict == "NO-GO"
        assert any("service-name-mismatch" in r for r in predicted.reasons)


class TestRemedies:
    def test_abort_within_threshold_and_interval_are_the_smallest_changes(self):
        """abort_within 4m: threshold 3 → 1 and interval 1m → 40s meet it; one step less does not."""
        spec = load_canary(FAULTY_APP)
        policy = Policy(abort_within_seconds=240.0)
        check = limit(plan(spec, rps=200, policy=policy), "abort_within")
        assert not check.passed
        assert check.predicted == 360.0
        threshold, interval = remedy(check, "threshold"), remedy(check, "interval")
        assert (threshold, interval) == (1, 40)
        assert limit(plan(with_threshold(spec, threshold), rps=200, policy=policy), "abort_within").passed
        assert limit(plan(with_interval(spec, interval), rps=200, policy=policy), "abort_within").passed
        assert not limit(
            plan(with_threshold(spec, threshold + 1), rps=200, policy=policy), "abort_within"
        ).passed
        assert not limit(
            plan(with_interval(spec, interval + 1), rps=200, policy=policy), "abort_within"
        ).passed

    def test_decision_within_progress_deadline(self):
        """A crash loop decides at (⌊600/60⌋ + 1)·60 + D > 600 s: deadline 539 s meets it, 540 s does not."""
        spec = load_canary(FAULTY_APP)
        predicted = plan(spec, rps=200)
        check = limit(predicted, "decision_within")
        assert predicted.crash_loop.rollback_at == 660.0
        assert check.predicted == 720.0
        deadline = remedy(check, "progressDeadlineSeconds")
        assert deadline == 539
        for value, ok in ((539, True), (540, False)):
            changed = load_canary(FAULTY_APP).__class__(
                **{**spec.__dict__, "progress_deadline_seconds": value}
            )
            assert limit(plan(changed, rps=200), "decision_within").passed is ok

    def test_max_canary_weight_overshoot(self):
        """20/40/60 with maxWeight 50 breaks a 50 % limit; remedies keep the step or divide the max."""
        check = limit(plan(canary({"maxWeight": 50, "stepWeight": 20}), rps=100), "max_canary_weight")
        assert (check.predicted, check.passed) == (60, False)
        assert check.remedies == (
            "maxWeight 50 → 40 (keeps stepWeight 20)",
            "stepWeight 20 → 10 (divides maxWeight 50)",
        )

    def test_max_canary_weight_step_weights(self):
        """stepWeights beyond the limit are cut at it."""
        check = limit(
            plan(canary({"stepWeights": [10, 40, 80], "stepWeight": None}), rps=100), "max_canary_weight"
        )
        assert check.remedies == ("stepWeights [10, 40, 80] → [10, 40, 50]",)

    def test_failed_fraction_max_weight_remedy(self):
        """The top weight's fault dominates the bad fraction: maxWeight 30 → 20 meets 5 %, 30 does not."""
        analysis = {"interval": "30s", "threshold": 3, "maxWeight": 30, "stepWeight": 10}
        check = limit(plan(canary(analysis, progressDeadlineSeconds=120), rps=200), "max_failed_fraction")
        assert not check.passed
        assert check.predicted > 0.3 * 4 * 30 / 600  # top weight for (T + 1)·I, plus δ at the weight before
        lower = remedy(check, "maxWeight")
        assert lower == 20
        changed = canary(analysis | {"maxWeight": lower}, progressDeadlineSeconds=120)
        assert limit(plan(changed, rps=200), "max_failed_fraction").passed

    def test_max_failed_requests_when_the_policy_has_it(self):
        """A policy carrying max_failed_requests is judged on the worst bad request count."""

        @dataclass(frozen=True)
        class CountingPolicy(Policy):
            max_failed_requests: int = 1000

        predicted = plan(canary(), rps=100, policy=CountingPolicy())
        check = limit(predicted, "max_failed_requests")
        assert check.predicted == pytest.approx(
            max(c.bad_requests for c in (predicted.from_start, *predicted.at_weights, predicted.random))
        )
        assert not check.passed
        assert check.remedies


class TestPredictedMeasures:
    def test_start_with_unknown_detection_delay(self):
        """Bad from the start, D unknown: abort within (T+2)·I … (T+3)·I of the trigger."""
        measures = predicted_measures(plan(canary(), rps=100), "start")
        assert (measures["abort_within_best"], measures["abort_within"]) == (420.0, 480.0)
        assert measures["max_canary_weight"] == 10.0
        assert measures["max_failed_requests"] == pytest.approx(100 * 0.1 * 360)
        assert "max_users_hurt" not in measures

    def test_weight_never_reached(self):
        """A fault waiting for a weight the run never reaches: no abort, healthy decision."""
        measures = predicted_measures(plan(canary(), rps=100, detection_delay=0.0), ("weight", 80))
        assert "abort_within" not in measures
        assert (measures["decision_within"], measures["max_failed_requests"]) == (480.0, 0.0)
