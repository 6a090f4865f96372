"""Requests in flight at the rollback: answered after it, but sent before it (hung or slow canary answers)."""

from __future__ import annotations

from dataclasses import replace

from harness.model import NO_VERSION, LoadBucket, Measure, Verdict
from harness.scenario.model import Expectations
from harness.scenario.policy import Policy
from harness.verdict.judge import evaluate

from .timeline import CANARY, STABLE, rolled_back_story

POLICY = Policy()
EXPECT = Expectations(
    outcome="rolled-back", recovery_within_seconds=120, primary_untouched=True, max_failed_fraction=0.5
)
ROLLBACK_AT = 420.0  # rolled_back_story's rollback tick
SCALE = 60.0  # 1 real second = 1 emulated minute


def measure(verdict: Verdict, name: str) -> Measure:
    return next(m for m in verdict.measures if m.name == name)


def _bucket(start: float, version: str, status: int, requests: int, bad: int, max_ms: float) -> LoadBucket:
    return LoadBucket(start, 10.0, version, status, requests, bad, max_ms, max_ms, max_ms, max_ms)


def _verdict(*extra: LoadBucket) -> Verdict:
    story = rolled_back_story()
    evidence = story.evidence(time_scale=SCALE)
    return evaluate(EXPECT, POLICY, replace(evidence, load=evidence.load + extra))


class TestRecoveryIgnoresRequestsInFlightAtTheRollback:
    def test_client_timeouts_of_requests_sent_before_the_rollback_are_not_counted(self) -> None:
        """2 s timeouts (120 emulated s) ending 100 s after the rollback were sent before it."""
        timeouts = _bucket(ROLLBACK_AT + 100, NO_VERSION, 0, 40, 40, 2000)
        recovery = measure(_verdict(timeouts), "recovery_within")
        assert recovery.measured == 0.0
        assert "40 failures of requests in flight at the rollback not counted" in recovery.note

    def test_timeouts_of_requests_sent_after_the_rollback_still_fail_recovery(self) -> None:
        """The same timeouts 150 s after the rollback were sent after it: the primary is not healthy."""
        timeouts = _bucket(ROLLBACK_AT + 150, NO_VERSION, 0, 40, 40, 2000)
        recovery = measure(_verdict(timeouts), "recovery_within")
        assert recovery.passed is False

    def test_fast_failures_after_the_rollback_still_count(self) -> None:
        """A 5xx answered in 5 ms 150 s after the rollback was sent after it: it counts."""
        errors = _bucket(ROLLBACK_AT + 150, STABLE, 500, 60, 60, 5)
        assert measure(_verdict(errors), "recovery_within").passed is False


class TestPrimaryUntouchedAllowsSlowAnswersSentBeforeTheRollback:
    def test_a_slow_canary_answer_after_the_grace_sent_before_it_is_not_late(self) -> None:
        """Answered 70 s after the rollback after 1.5 s real (90 emulated s): sent before the grace ended."""
        slow = _bucket(ROLLBACK_AT + 70, CANARY, 200, 2, 0, 1500)
        assert measure(_verdict(slow), "primary_untouched").passed is True

    def test_a_fast_canary_answer_after_the_grace_is_late(self) -> None:
        """Answered 70 s after the rollback in 20 ms: the router still sent traffic to the canary."""
        fast = _bucket(ROLLBACK_AT + 70, CANARY, 200, 2, 0, 20)
        untouched = measure(_verdict(fast), "primary_untouched")
        assert untouched.passed is False
        assert untouched.measured == "2 requests answered by the canary version after the rollback"
