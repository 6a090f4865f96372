"""The Argo Rollouts plan against the emulation, driven with the same fault on a FakeClock.

Each case builds one Rollout + AnalysisTemplate, plans it (``plan_rollout`` with δ = 0, or ``walk`` for a
given onset) and runs ``harness.controllers.argo_rollouts`` with a Prometheus fake whose answer turns bad
at the same onset. Abort time, weight at the abort, highest weight and promotion time must be equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from harness.controllers.argo_rollouts.model import RolloutPhase
from harness.controllers.argo_rollouts.ports import QueryResult
from harness.plan.rollout import plan_rollout
from harness.plan.rollout_runs import Fault, FaultEffect
from harness.plan.rollout_walk import walk
from harness.scenario.argo_rollout import parse_bundle
from harness.scenario.policy import Policy

from ..controllers.argo_rollouts.rig import DOWN, Rig, make_rig, manifests

T0 = 1000.0  # the rig's clock at the update's start
LENIENT = Policy(max_canary_weight=100, progress_deadline_seconds=1e9, abort_within_seconds=None)
ARGS = [{"name": "service", "value": "test-podinfo-canary"}]
BACKGROUND = {"templates": [{"templateName": "success-rate"}], "args": ARGS}
STEP_ANALYSIS = {"analysis": {"templates": [{"templateName": "success-rate"}], "args": ARGS}}
GOOD, BAD, UNSURE = [0.99], [0.42], [0.8]


@dataclass(frozen=True)
class Observed:
    outcome: str
    decided_at: float | None
    weight_at_abort: int | None
    max_weight: int


def answer_for(onset: float | None, effect: FaultEffect) -> Callable[[float], QueryResult | Exception]:
    bad: QueryResult | Exception = {"failed": BAD, "inconclusive": UNSURE}.get(effect, GOOD)
    if effect == "error":
        bad = DOWN(0.0)

    def answer(now: float) -> QueryResult | Exception:
        return bad if onset is not None and now >= onset - 1e-9 else GOOD

    return answer


def emulate(
    rollout: Mapping[str, Any] | None,
    metric: Mapping[str, Any] | None,
    onset: float | None,
    effect: FaultEffect = "failed",
    *,
    ready_after: float | None = 0.0,
    until: float = 1500.0,
) -> Observed:
    rig = make_rig(answer_for(onset, effect), rollout=rollout, metric=metric, ready_after=ready_after)
    rig.start()
    rig.run_until(T0 + until, stop=lambda r: r.aborted() or r.workload.promoted_at is not None)
    return observed(rig)


def observed(rig: Rig) -> Observed:
    writes = [(t - T0, w) for t, w in rig.traefik.writes]
    aborts = [e.at - T0 for e in rig.controller.events if e.reason == "RolloutAborted"]
    if aborts:
        at = aborts[0]
        before = [w for t, w in writes if t <= at + 1e-9]
        if before and before[-1] == 0 and len(before) > 1 and writes[len(before) - 1][0] == at:
            before = before[:-1]  # the abort's own 0
        return Observed("aborted", at, before[-1] if before else 0, max(before, default=0))
    if rig.workload.promoted_at is not None:
        at = rig.workload.promoted_at - T0
        return Observed("promoted", at, None, max((w for t, w in writes if w < 100), default=0))
    status = rig.controller.status
    outcome = "paused" if status.phase == RolloutPhase.PAUSED else str(status.phase).lower()
    return Observed(outcome, None, None, max((w for _, w in writes), default=0))


def predicted(
    rollout: Mapping[str, Any] | None,
    metric: Mapping[str, Any] | None,
    onset: float | None,
    effect: FaultEffect = "failed",
    *,
    readiness: float | None = 0.0,
) -> Observed:
    bundle = parse_bundle(manifests(rollout, metric), "rollout.yaml")
    run = walk(bundle.rollout, bundle.templates, Fault(onset, effect), readiness=readiness)
    aborted = run.outcome == "aborted"
    decided = run.decided_at if run.outcome in ("aborted", "promoted") else None
    return Observed(run.outcome, decided, run.weight_at_decision if aborted else None, run.max_weight)


def both(
    rollout: Mapping[str, Any] | None,
    metric: Mapping[str, Any] | None,
    onset: float | None,
    effect: FaultEffect = "failed",
    **kwargs: Any,
) -> tuple[Observed, Observed]:
    readiness = kwargs.pop("readiness", 0.0)
    return (
        predicted(rollout, metric, onset, effect, readiness=readiness),
        emulate(rollout, metric, onset, effect, ready_after=readiness, **kwargs),
    )


# ---- worked examples of docs/argo-rollouts-semantics.md §9 -------------------------------------------------
class TestWorkedExamples:
    def test_example_a_healthy_promotes_at_six_minutes(self) -> None:
        plan, emu = both(None, None, None)
        assert plan == emu == Observed("promoted", 360.0, None, 80)

    def test_example_b_all_failing_aborts_at_two_minutes_at_forty(self) -> None:
        plan, emu = both(None, None, 0.0)
        assert plan == emu == Observed("aborted", 120.0, 40, 40)

    def test_example_b_starting_step_three(self) -> None:
        rollout = {"analysis": {**BACKGROUND, "startingStep": 3}}
        plan, emu = both(rollout, None, 0.0)
        assert plan == emu == Observed("aborted", 210.0, 60, 60)

    def test_example_c_errors_abort_after_forty_seconds(self) -> None:
        plan, emu = both(None, None, 0.0, "error")
        assert plan == emu == Observed("aborted", 40.0, 20, 20)

    def test_example_d_inline_analysis(self) -> None:
        rollout = {
            "analysis": None,
            "steps": [{"setWeight": 20}, STEP_ANALYSIS, {"setWeight": 50}, {"pause": {"duration": "60s"}}],
        }
        metric = {"interval": "30s", "count": 4, "failureLimit": 1}
        assert both(rollout, metric, None) == (Observed("promoted", 150.0, None, 50),) * 2
        assert both(rollout, metric, 0.0) == (Observed("aborted", 30.0, 20, 20),) * 2

    def test_example_e_inconclusive_step_pauses_for_good(self) -> None:
        rollout = {
            "analysis": None,
            "steps": [{"setWeight": 20}, STEP_ANALYSIS, {"setWeight": 50}, {"pause": {"duration": "60s"}}],
        }
        metric = {"interval": "30s", "count": 4, "failureLimit": 1, "failureCondition": "result[0] < 0.5"}
        plan, emu = both(rollout, metric, 0.0, "inconclusive", until=600)
        assert plan == emu == Observed("paused", None, None, 20)


# ---- limits and onsets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("failure_limit", [0, 1, 2, 3])
def test_failure_limit_from_the_start(failure_limit: int) -> None:
    plan, emu = both(None, {"failureLimit": failure_limit}, 0.0)
    assert plan == emu
    assert plan.outcome == "aborted"


@pytest.mark.parametrize("limit", [0, 1, 2, 6])
def test_consecutive_error_limit(limit: int) -> None:
    plan, emu = both(None, {"consecutiveErrorLimit": limit}, 0.0, "error")
    assert plan == emu
    assert plan.decided_at == limit * 10.0


@pytest.mark.parametrize("onset", [45.0, 60.0, 130.0, 179.0, 181.0, 230.0, 290.0])
def test_slow_burn_crossing_mid_rollout(onset: float) -> None:
    plan, emu = both(None, None, onset)
    assert plan == emu


def test_first_step_5xx_without_starting_step_decides_on_the_creation_measurement() -> None:
    rollout = {
        "analysis": BACKGROUND,
        "steps": [{"setWeight": 10}, {"setWeight": 30}, {"pause": {"duration": "60s"}}],
    }
    plan, emu = both(rollout, {"failureLimit": 0}, 0.0)
    assert plan == emu


def test_background_with_initial_delay_and_count() -> None:
    metric = {"initialDelay": "30s", "count": 3, "failureLimit": 1}
    for onset in (0.0, 100.0):
        plan, emu = both(None, metric, onset)
        assert plan == emu


def test_slow_canary_pods_shift_every_step() -> None:
    plan, emu = both(None, None, None, readiness=7.0)
    assert plan == emu == Observed("promoted", 367.0, None, 80)
    plan, emu = both(None, None, 0.0, readiness=7.0)
    assert plan == emu


def test_indefinite_pause_without_analysis_never_aborts() -> None:
    rollout = {"analysis": None, "steps": [{"setWeight": 20}, {"pause": {}}]}
    plan, emu = both(rollout, None, 0.0, until=900)
    assert plan == emu == Observed("paused", None, None, 20)


def test_indefinite_pause_covered_by_background_aborts() -> None:
    rollout = {"analysis": {**BACKGROUND, "startingStep": 1}, "steps": [{"setWeight": 20}, {"pause": {}}]}
    plan, emu = both(rollout, None, 300.0, until=900)
    assert plan == emu == Observed("aborted", 420.0, 20, 20)


def test_inconclusive_background_does_not_hold_the_steps() -> None:
    metric = {"failureCondition": "result[0] < 0.5"}
    plan, emu = both(None, metric, 100.0, "inconclusive")
    assert plan == emu
    assert plan.outcome == "promoted"


def test_never_ready_with_progress_deadline_abort() -> None:
    rollout = {"progressDeadlineSeconds": 120, "progressDeadlineAbort": True}
    plan = predicted(rollout, None, None, readiness=None)
    emu = emulate(rollout, None, None, ready_after=None, until=300)
    assert plan == emu == Observed("aborted", 120.0, 0, 0)


# ---- the plan's own cases against the emulation --------------------------------------------------------
@pytest.mark.parametrize(
    "rollout",
    [
        None,
        {"analysis": {**BACKGROUND, "startingStep": 3}},
        {
            "analysis": None,
            "steps": [{"setWeight": 20}, STEP_ANALYSIS, {"setWeight": 50}, {"pause": {"duration": "60s"}}],
        },
    ],
    ids=["example-a", "starting-step-3", "inline"],
)
def test_plan_cases_match_the_emulation(rollout: Mapping[str, Any] | None) -> None:
    metric = {"count": 4, "interval": "30s", "failureLimit": 1} if rollout and "steps" in rollout else None
    bundle = parse_bundle(manifests(rollout, metric), "rollout.yaml")
    plan = plan_rollout(bundle, rps=100, policy=LENIENT, check_delay=0.0)
    assert emulate(rollout, metric, None) == Observed(
        plan.healthy.outcome, plan.healthy.decided_at, None, plan.healthy.max_weight
    )
    for case in (plan.from_start, *plan.at_steps):
        emu = emulate(rollout, metric, case.onset)
        decided = case.decided_at if case.outcome in ("aborted", "promoted") else None
        assert emu == Observed(case.outcome, decided, case.weight_at_abort, case.max_weight), case.label


@pytest.mark.parametrize("starting_step", [1, 2, 3])
def test_a_run_deciding_at_creation_lets_the_next_weight_through(starting_step: int) -> None:
    """The abort is recorded one reconcile pass after the run's creation (semantics §2 'Consequences')."""
    steps = [{"setWeight": 10}, {"setWeight": 30}, {"setWeight": 50}, {"pause": {"duration": "60s"}}]
    rollout = {"analysis": {**BACKGROUND, "startingStep": starting_step}, "steps": steps}
    plan, emu = both(rollout, {"failureLimit": 0}, 0.0)
    assert plan == emu
