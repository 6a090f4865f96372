"""Verdict measures and decisions over hand-built timelines (tests/verdict/timeline.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.controllers.flagger.model import Phase
from harness.model import Decision, Measure, StatusSample, Verdict
from harness.scenario.model import Expectations
from harness.scenario.policy import Policy
from harness.verdict.fault_effect import FaultExpectation
from harness.verdict.judge import evaluate, summarize_repeats
from harness.verdict.samples import low_sample_checks

from .timeline import CANARY, INTERVAL, REF, Story, promoted_story, rolled_back_story, status

POLICY = Policy()
ROLLED_BACK = Expectations(
    outcome="rolled-back",
    abort_within_seconds=400,
    max_canary_weight=10,
    max_failed_requests=300,
    max_failed_fraction=0.05,
    max_users_hurt=10,
    recovery_within_seconds=120,
    primary_untouched=True,
    rollback_cause="failed-checks",
)
PROMOTED = Expectations(outcome="promoted", max_canary_weight=50, max_failed_fraction=0.01)


def measure(verdict: Verdict, name: str) -> Measure:
    return next(m for m in verdict.measures if m.name == name)


class TestDecisions:
    def test_go_when_every_measure_passes(self) -> None:
        """A canary bad from the start, rolled back 300 s after the trigger at 10 %, is GO."""
        verdict = evaluate(ROLLED_BACK, POLICY, rolled_back_story().evidence())
        assert verdict.decision == Decision.GO, verdict.reasons
        assert measure(verdict, "abort_within").measured == 300.0
        assert measure(verdict, "max_canary_weight").measured == 10
        assert measure(verdict, "max_failed_requests").measured == 240
        assert measure(verdict, "max_failed_fraction").measured == pytest.approx(240 / 6000)
        assert measure(verdict, "max_users_hurt").measured == 7
        assert measure(verdict, "recovery_within").measured == 0.0
        assert measure(verdict, "rollback_cause").measured == "failed-checks"
        assert measure(verdict, "fault_reached_traffic").measured == "yes"

    def test_healthy_promotion_is_go(self) -> None:
        """A control promoted at 50 % with no errors is GO, and no fault check is added."""
        verdict = evaluate(PROMOTED, POLICY, promoted_story().evidence())
        assert verdict.decision == Decision.GO, verdict.reasons
        assert measure(verdict, "outcome").measured == "promoted"
        assert all(m.name != "fault_reached_traffic" for m in verdict.measures)

    @pytest.mark.parametrize(
        ("expect", "story", "failing"),
        [
            (replace(ROLLED_BACK, abort_within_seconds=240), rolled_back_story(), "abort_within"),
            (ROLLED_BACK, rolled_back_story(weight=20), "max_canary_weight"),
            (replace(ROLLED_BACK, max_failed_fraction=0.01), rolled_back_story(), "max_failed_fraction"),
            (replace(ROLLED_BACK, max_failed_requests=100), rolled_back_story(), "max_failed_requests"),
            (replace(ROLLED_BACK, max_users_hurt=3), rolled_back_story(), "max_users_hurt"),
            (ROLLED_BACK, rolled_back_story(stable_bad_after=0.5), "recovery_within"),
            (ROLLED_BACK, rolled_back_story(post_rollback_canary=True), "primary_untouched"),
            (ROLLED_BACK, rolled_back_story(cause_event=None), "rollback_cause"),
            (
                replace(PROMOTED, max_canary_weight=50),
                promoted_story(weights=(20, 40, 60)),
                "max_canary_weight",
            ),
            (PROMOTED, rolled_back_story(fault=None), "outcome"),
        ],
        ids=[
            "abort",
            "weight",
            "fraction",
            "requests",
            "users",
            "recovery",
            "primary",
            "cause",
            "overshoot",
            "outcome",
        ],
    )
    def test_no_go_names_the_failed_measure(self, expect: Expectations, story: Story, failing: str) -> None:
        """Each exceeded limit makes the verdict NO-GO, with that measure failed and named in the reasons."""
        verdict = evaluate(expect, POLICY, story.evidence())
        assert verdict.decision == Decision.NO_GO
        assert measure(verdict, failing).passed is False
        assert any(reason.startswith(failing) for reason in verdict.reasons)

    def test_inconclusive_when_canary_errors_never_appear(self) -> None:
        """A configured 100 % error fault but a clean canary: the fault never reached traffic, never GO."""
        verdict = evaluate(ROLLED_BACK, POLICY, rolled_back_story(canary_bad=0.0).evidence())
        assert verdict.decision == Decision.INCONCLUSIVE
        assert measure(verdict, "fault_reached_traffic").measured == "no"
        assert measure(verdict, "outcome").passed is None
        assert "never reached traffic" in verdict.reasons[0]

    def test_inconclusive_when_run_time_fault_never_switched_on(self) -> None:
        """An at-weight fault with no fault_on mark did not reach traffic, even though the canary failed."""
        story = rolled_back_story(fault=FaultExpectation(error_fraction=1.0, from_start=False))
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence())
        assert verdict.decision == Decision.INCONCLUSIVE
        assert "never switched on" in measure(verdict, "fault_reached_traffic").note

    def test_inconclusive_when_canary_got_no_requests(self) -> None:
        """A fault that was on while the canary served 0 requests cannot support GO."""
        story = rolled_back_story()
        no_canary = tuple(b for b in story.load if b.version != CANARY)
        verdict = evaluate(replace(ROLLED_BACK, max_users_hurt=None), POLICY, story.evidence(load=no_canary))
        assert verdict.decision == Decision.INCONCLUSIVE
        assert "0 requests" in measure(verdict, "fault_reached_traffic").note

    def test_readiness_fault_reaches_through_not_ready_events(self) -> None:
        """A never-ready canary 'reaches' when Flagger reports it not ready; the deadline cause is judged."""
        story = rolled_back_story(
            fault=FaultExpectation(blocks_readiness=True, from_start=True), weight=0, cause_event=None
        )
        story.events.append(
            replace(
                story.events[0],
                at=200.0,
                type="Warning",
                message=f"canary deployment {REF} not ready: waiting for rollout to finish",
            )
        )
        expect = replace(
            ROLLED_BACK, max_canary_weight=0, max_users_hurt=None, rollback_cause="progress-deadline"
        )
        verdict = evaluate(expect, POLICY, story.evidence(progress_deadline_seconds=240.0))
        assert verdict.decision == Decision.GO, verdict.reasons
        assert measure(verdict, "rollback_cause").measured == "progress-deadline"
        assert measure(verdict, "progress_deadline").passed is True  # 300 s ≤ 240 + 2 × 60
        late = evaluate(expect, POLICY, story.evidence(progress_deadline_seconds=120.0))
        assert late.decision == Decision.NO_GO
        assert measure(late, "progress_deadline").measured == 300.0  # > 120 + 2 × 60

    def test_primary_not_ready_is_not_the_canary_fault(self) -> None:
        """Only 'canary deployment … not ready' shows a readiness fault; the primary's message does not."""
        story = rolled_back_story(fault=FaultExpectation(blocks_readiness=True, from_start=True), weight=0)
        message = "faulty-app-primary.canary-chaos not ready: waiting for rollout to finish"
        story.events.append(replace(story.events[0], at=200.0, type="Warning", message=message))
        expect = replace(ROLLED_BACK, max_canary_weight=0, max_users_hurt=None)
        verdict = evaluate(expect, POLICY, story.evidence())
        assert verdict.decision == Decision.INCONCLUSIVE
        assert measure(verdict, "fault_reached_traffic").measured == "no"

    @pytest.mark.parametrize(
        ("changes", "decision"),
        [
            ({"missing": ("load generator died",)}, Decision.INCONCLUSIVE),
            ({"complete": False}, Decision.INCOMPLETE),
            ({"samples": ()}, Decision.INCONCLUSIVE),
            ({"load": ()}, Decision.INCONCLUSIVE),
            ({"marks": ()}, Decision.INCONCLUSIVE),
        ],
        ids=["missing", "incomplete", "no-samples", "no-load", "no-trigger"],
    )
    def test_never_go_on_missing_evidence(self, changes: dict[str, object], decision: str) -> None:
        """Missing or incomplete evidence is never GO, even when everything that was seen passed."""
        verdict = evaluate(ROLLED_BACK, POLICY, rolled_back_story().evidence(**changes))
        assert verdict.decision == decision, verdict.reasons

    def test_incomplete_even_if_a_measure_failed(self) -> None:
        """An interrupted run is INCOMPLETE; failed measures still appear in the reasons."""
        story = rolled_back_story(weight=20)
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence(complete=False))
        assert verdict.decision == Decision.INCOMPLETE
        assert any(r.startswith("max_canary_weight") for r in verdict.reasons)


class TestRollbackTime:
    def test_rollback_time_is_condition_last_update_not_transition(self) -> None:
        """A late Failed sample uses conditions[Promoted].lastUpdateTime (420), not lastTransitionTime."""
        story = rolled_back_story()
        late = []
        for sample in story.samples:
            if sample.status.phase == Phase.FAILED:
                st = status(Phase.FAILED, updated=420.0, transition=sample.at + 30)
                sample = StatusSample(sample.at + 30, st)
            late.append(sample)
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence(samples=tuple(late)))
        assert measure(verdict, "abort_within").measured == 300.0

    def test_sample_time_without_condition(self) -> None:
        """Without a condition the first Failed sample's time is the rollback time."""
        story = rolled_back_story()
        bare = tuple(
            StatusSample(s.at + 15, replace(s.status, condition=None))
            if s.status.phase == Phase.FAILED
            else s
            for s in story.samples
        )
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence(samples=bare))
        assert measure(verdict, "abort_within").measured == 315.0

    def test_stale_terminal_phase_before_the_run_is_ignored(self) -> None:
        """A Succeeded from an earlier run (condition older than the trigger) is not this run's outcome."""
        story = rolled_back_story()
        stale = StatusSample(120.0, status(Phase.SUCCEEDED, updated=10.0, transition=10.0))
        samples = tuple(sorted((*(s for s in story.samples if s.at != 120.0), stale), key=lambda s: s.at))
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence(samples=samples))
        assert measure(verdict, "outcome").measured == "rolled-back"

    def test_no_decision_within_policy_deadline(self) -> None:
        """A run that ends without Succeeded/Failed fails outcome and decision_within."""
        story = rolled_back_story()
        running = tuple(s for s in story.samples if s.status.phase != Phase.FAILED)
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence(samples=running))
        assert verdict.decision == Decision.NO_GO
        assert measure(verdict, "outcome").measured == "not reached"
        assert measure(verdict, "decision_within").passed is False

    def test_manual_webhook_cause(self) -> None:
        """A 'manual webhook invoked' event makes the cause manual-webhook."""
        story = rolled_back_story(cause_event=f"Rolling back {REF} manual webhook invoked")
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence())
        assert measure(verdict, "rollback_cause").measured == "manual-webhook"

    def test_lost_rollback_events_are_inconclusive_not_progress_deadline(self) -> None:
        """Events seen up to the analysis but none of the rollback's: the cause is unknown, never NO-GO."""
        story = rolled_back_story(cause_event=None)
        story.events[:] = [e for e in story.events if "Canary failed!" not in e.message]
        verdict = evaluate(ROLLED_BACK, POLICY, story.evidence())
        assert verdict.decision == Decision.INCONCLUSIVE, verdict.reasons
        cause = measure(verdict, "rollback_cause")
        assert cause.measured is None
        assert "events lost or unreadable" in cause.note
        assert any("rollback_cause could not be judged" in reason for reason in verdict.reasons)

    def test_silent_rollback_is_the_progress_deadline(self) -> None:
        """Only 'Canary failed! Scaling down' (no threshold event): Flagger's silent deadline rollback."""
        story = rolled_back_story(cause_event=None)
        expect = replace(ROLLED_BACK, rollback_cause="progress-deadline")
        assert measure(evaluate(expect, POLICY, story.evidence()), "rollback_cause").passed is True

    def test_unreadable_events_make_the_run_inconclusive(self) -> None:
        """Evidence marked missing by the backend (events unreadable) gives INCONCLUSIVE with that reason."""
        reason = "Flagger events unreadable since t=400s: HTTP 503"
        verdict = evaluate(ROLLED_BACK, POLICY, rolled_back_story().evidence(missing=(reason,)))
        assert verdict.decision == Decision.INCONCLUSIVE
        assert verdict.reasons[0] == reason


class TestLowSamples:
    def test_warns_for_each_thin_interval(self) -> None:
        """60 canary requests per minute against a minimum of 100 warns once per full check interval."""
        story = rolled_back_story()
        warnings = low_sample_checks(
            story.load, story.samples, (), interval=INTERVAL, window=60, minimum=100, canary_version=CANARY,
            origin=120.0,
        )  # fmt: skip
        assert len(warnings) == 3
        assert warnings[0].startswith(
            "check at 2:00 after the trigger (canary weight 10%): 60 canary requests in its 1m metric window"
            " < 100"
        )
        assert "no sample, no signal" in warnings[0]

    def test_no_warning_when_enough(self) -> None:
        """With the minimum at 60, each 60-request interval passes."""
        story = rolled_back_story()
        checks = low_sample_checks(
            story.load, story.samples, (), interval=INTERVAL, window=60, minimum=60, canary_version=CANARY
        )
        assert checks == []

    def test_guesses_canary_version_and_reports_in_verdict(self) -> None:
        """Without a version the non-stable one is used; evaluate() copies the warnings into the verdict."""
        story = rolled_back_story()
        assert (
            len(low_sample_checks(story.load, story.samples, (), interval=INTERVAL, window=60, minimum=61))
            == 3
        )
        strict = replace(POLICY, min_samples_per_interval=61)
        warnings = evaluate(ROLLED_BACK, strict, story.evidence()).warnings
        assert len(warnings) == 3
        assert warnings[0].startswith("check at 2:00 after the trigger")  # as on the charts


class TestRepeats:
    def test_spread_of_abort_time_and_users(self) -> None:
        """min/median/max come from the runs' measures; decisions are counted."""

        def verdict(abort: float, users: int, decision: str) -> Verdict:
            return Verdict(
                decision, (Measure("abort_within", abort, 400, "s"), Measure("max_users_hurt", users, 10))
            )

        summary = summarize_repeats([verdict(300, 4, "GO"), verdict(360, 7, "GO"), verdict(330, 5, "NO-GO")])
        abort, users = summary.spreads
        assert (abort.minimum, abort.median, abort.maximum, abort.unit) == (300, 330, 360, "s")
        assert (users.minimum, users.median, users.maximum) == (4, 5, 7)
        assert summary.decisions == (("GO", 2), ("NO-GO", 1))
