"""A slow burn is expected at the ramp's value where the canary served, not at its mean over the ramp."""

from __future__ import annotations

import pytest

from harness.model import LoadBucket
from harness.verdict.fault_effect import ErrorRamp, FaultExpectation
from harness.verdict.reach import REACH_RATIO, expected_error_fraction

# ramps 0 → 50 % over 600 s on the canary pod's clock, as scenarios/argo-slow-burn.yaml and slow-burn.yaml
RAMP = ErrorRamp(start=0.0, end=0.5, seconds=600.0, share=1.0)
SLOW_BURN = FaultExpectation(error_fraction=RAMP.mean, server_error_fraction=RAMP.mean, error_ramps=(RAMP,))


def bucket(start: float, requests: int, bad: int = 0) -> LoadBucket:
    return LoadBucket(start, 10.0, "1.1.0", 200, requests, bad, 5.0, 9.0, 12.0, 20.0, workload="canary")


def test_a_rollout_stopped_early_in_the_ramp_expects_the_ramp_so_far() -> None:
    """The case seen on argo-slow-burn: aborted ≈ 3 min into a 10 min ramp, measured 4.1 % bad. Against
    the ramp's mean (25 %) that read as 'the fault never reached traffic'; the ramp where the canary
    served expects about 6 %, which 4.1 % reaches."""
    canary = [bucket(100.0 + 10 * k, 10) for k in range(18)]  # first request at 100 s, served for 180 s
    expected = expected_error_fraction(SLOW_BURN, canary)
    assert expected == pytest.approx(sum(RAMP.rate_after(5.0 + 10 * k) for k in range(18)) / 18)
    assert 0.04 < expected < 0.08
    assert REACH_RATIO * expected <= 0.041
    assert REACH_RATIO * SLOW_BURN.error_fraction > 0.041  # the old comparison, which said 'never reached'


def test_requests_weigh_the_ramp_and_a_full_ramp_expects_its_end() -> None:
    """More canary requests late in the ramp (higher weights) pull the expectation up; past the ramp's
    end every request expects ``end``."""
    early_light = [bucket(0.0, 1), bucket(290.0, 9)]
    assert expected_error_fraction(SLOW_BURN, early_light) == pytest.approx(
        (1 * RAMP.rate_after(5.0) + 9 * RAMP.rate_after(295.0)) / 10
    )
    late = [bucket(0.0, 1), bucket(700.0, 99)]
    assert expected_error_fraction(SLOW_BURN, late) == pytest.approx((RAMP.rate_after(5.0) + 99 * 0.5) / 100)


def test_steady_faults_and_no_canary_requests_keep_the_configured_fraction() -> None:
    steady = FaultExpectation(error_fraction=0.3)
    assert expected_error_fraction(steady, [bucket(0.0, 10)]) == 0.3
    assert expected_error_fraction(SLOW_BURN, []) == SLOW_BURN.error_fraction
    both = FaultExpectation(error_fraction=0.1 + RAMP.mean, error_ramps=(RAMP,))  # 10 % steady + the ramp
    assert expected_error_fraction(both, [bucket(0.0, 10)]) == pytest.approx(0.1 + RAMP.rate_after(5.0))
