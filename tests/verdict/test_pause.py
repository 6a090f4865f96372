"""Outcome ``paused``: a hold that lasts to the end of the watch, its reason and how soon it began."""

from __future__ import annotations

from dataclasses import replace

from harness.controllers.flagger.model import Phase
from harness.model import Decision, Verdict
from harness.scenario.model import Expectations
from harness.scenario.policy import Policy
from harness.verdict.judge import evaluate
from harness.verdict.pause import held_pause

from .timeline import Story

INCONCLUSIVE = "InconclusiveAnalysisRun"
EXPECT = Expectations("paused", max_canary_weight=10, pause_within_seconds=240, pause_reason=INCONCLUSIVE)


def paused_story(reasons: list[str]) -> Story:
    """Trigger at 120; one Progressing tick per minute with the given pause reasons, 10 % traffic."""
    s = Story()
    s.mark("stage", "baseline")
    s.tick(Phase.INITIALIZED)
    s.traffic(120, 0)
    s.mark("trigger")
    for reason in reasons:
        s.tick(Phase.PROGRESSING, 10)
        s.samples[-1] = replace(s.samples[-1], status=replace(s.samples[-1].status, paused_reason=reason))
        s.traffic(60, 10)
    return s


def judge(story: Story, expect: Expectations = EXPECT) -> Verdict:
    return evaluate(expect, Policy(), story.evidence())


def measured(verdict: Verdict, name: str) -> object:
    return next(m.measured for m in verdict.measures if m.name == name)


def test_an_inconclusive_hold_to_the_end_is_go() -> None:
    verdict = judge(paused_story(["", "CanaryPauseStep", INCONCLUSIVE, INCONCLUSIVE, INCONCLUSIVE]))
    assert verdict.decision == Decision.GO, verdict.reasons
    assert measured(verdict, "outcome") == "paused"
    assert measured(verdict, "pause_within") == 120.0  # trigger 120 → the hold's first sample at 240


def test_a_pause_step_that_ended_is_no_hold() -> None:
    verdict = judge(paused_story(["", "CanaryPauseStep", "CanaryPauseStep", ""]))
    assert verdict.decision == Decision.NO_GO
    assert measured(verdict, "outcome") == "not paused"


def test_a_hold_for_another_reason_fails_the_reason() -> None:
    verdict = judge(paused_story(["", "CanaryPauseStep", "CanaryPauseStep"]))
    assert verdict.decision == Decision.NO_GO
    assert measured(verdict, "pause_reason") == "CanaryPauseStep"


def test_a_late_hold_fails_pause_within() -> None:
    verdict = judge(paused_story(["", "", "", "", "", INCONCLUSIVE]))
    assert measured(verdict, "pause_within") == 300.0
    assert verdict.decision == Decision.NO_GO


def test_the_hold_restarts_when_its_reason_changes() -> None:
    story = paused_story(["CanaryPauseStep", INCONCLUSIVE])
    hold = held_pause(story.samples, 120.0)
    assert hold is not None
    assert (hold.reason, hold.since) == (INCONCLUSIVE, 180.0)
