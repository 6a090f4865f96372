"""Tick-for-tick conformance with the worked examples and pitfalls of docs/argo-rollouts-semantics.md §9.

The rig's clock starts at 1000 s; ``T0`` is the update's start. Times below are relative to it.
"""

from __future__ import annotations

from harness.controllers.argo_rollouts.model import AnalysisPhase, PauseReason, RolloutPhase

from .rig import DOWN, FAILING, HEALTHY, Rig, make_rig, relative

T0 = 1000.0
ABORT_B = (
    "Rollout aborted update to revision 2: Background analysis phase error/failed: "
    'Metric "success-rate" assessed Failed due to failed (3) > failureLimit (2)'
)
INLINE = [
    {"setWeight": 20},
    {
        "analysis": {
            "templates": [{"templateName": "success-rate"}],
            "args": [{"name": "service", "value": "test-podinfo-canary"}],
        }
    },
    {"setWeight": 50},
    {"pause": {"duration": "60s"}},
]
INLINE_METRIC = {"interval": "30s", "count": 4, "failureLimit": 1}


def writes(rig: Rig) -> list[tuple[float, int]]:
    return [(t - T0, w) for t, w in rig.traefik.writes]


def started(rig: Rig, until: float) -> Rig:
    rig.start()
    rig.run_until(T0 + until)
    return rig


class TestExampleA:
    """Background analysis from step 1, four setWeight + 90 s pause pairs, interval 1m, failureLimit 2."""

    def test_healthy_canary_is_promoted_after_the_pauses(self) -> None:
        rig = started(make_rig(HEALTHY), 600)
        assert writes(rig) == [(0, 0), (0, 20), (90, 40), (180, 60), (270, 80), (360, 100), (360, 0)]
        status = rig.controller.status
        assert (status.phase, status.current_step_index, status.canary_weight) == (RolloutPhase.HEALTHY, 8, 0)
        assert status.stable_rs == "6f9c"
        assert rig.workload.promoted_at == T0 + 360
        assert rig.workload.old_stable_down_at == T0 + 390  # scaleDownDelaySeconds 30
        assert relative(rig, rig.measurement_times()) == [0, 60, 120, 180, 240, 300, 360]
        assert rig.controller.runs.by_name["podinfo-6f9c-2"].phase == AnalysisPhase.SUCCESSFUL
        assert rig.messages("RolloutCompleted") == [
            "Rollout completed update to revision 2 (6f9c): Completed all 8 canary steps"
        ]
        assert rig.messages("RolloutStepCompleted")[:2] == [
            "Rollout step 1/8 completed (setWeight: 20)",
            "Rollout step 2/8 completed (pause: 90s)",
        ]
        assert rig.messages("RolloutPaused")[0] == "Rollout is paused (CanaryPauseStep)"
        assert rig.messages("AnalysisRunRunning") == [
            "Background Analysis Run 'podinfo-6f9c-2' Status New: 'Running' Previous: ''"
        ]
        assert rig.messages("TrafficWeightUpdated")[:2] == [
            "Traffic weight updated from 0 to 20",
            "Traffic weight updated from 20 to 40",
        ]

    def test_paused_phase_during_a_pause_step(self) -> None:
        rig = started(make_rig(HEALTHY), 45)
        status = rig.controller.status
        assert (status.phase, status.message) == (RolloutPhase.PAUSED, "CanaryPauseStep")
        assert status.pause_conditions[0].start_time == T0


class TestExampleB:
    def test_all_failing_aborts_at_two_minutes_at_weight_forty(self) -> None:
        rig = started(make_rig(FAILING), 600)
        abort = rig.first("RolloutAborted")
        assert (abort.at - T0, abort.type, abort.message) == (120, "Warning", ABORT_B)
        assert rig.weight_at(T0 + 119) == 40
        assert writes(rig)[-1] == (120, 0)
        status = rig.controller.status
        assert status.phase == RolloutPhase.DEGRADED
        assert status.message == f"RolloutAborted: {ABORT_B}"
        assert (status.abort, status.aborted_at, status.current_step_index) == (True, T0 + 120, 0)
        assert status.pause_conditions == ()
        assert relative(rig, rig.measurement_times()) == [0, 60, 120]
        assert rig.workload.scaled[-1] == (T0 + 150, 0)  # abortScaleDownDelaySeconds 30
        assert rig.messages("AnalysisRunFailed") == [
            "Background Analysis Run 'podinfo-6f9c-2' Status New: 'Failed' Previous: 'Running'"
        ]

    def test_a_later_starting_step_aborts_later_at_a_higher_weight(self) -> None:
        analysis = {
            "templates": [{"templateName": "success-rate"}],
            "startingStep": 3,
            "args": [{"name": "service", "value": "x"}],
        }
        rig = started(make_rig(FAILING, rollout={"analysis": analysis}), 600)
        assert rig.first("RolloutAborted").at - T0 == 210
        assert rig.weight_at(T0 + 209) == 60

    def test_abort_scale_down_delay_zero_scales_the_canary_down_at_once(self) -> None:
        rig = started(make_rig(FAILING, rollout={"abortScaleDownDelaySeconds": 0}), 600)
        assert rig.workload.scaled[-1] == (T0 + 120, 0)


class TestExampleC:
    def test_query_errors_abort_after_forty_seconds(self) -> None:
        rig = started(make_rig(DOWN), 600)
        assert relative(rig, rig.measurement_times()) == [0, 10, 20, 30, 40]
        abort = rig.first("RolloutAborted")
        assert abort.at - T0 == 40
        assert "consecutiveErrors (5) > consecutiveErrorLimit (4)" in abort.message
        assert abort.message.endswith(
            '"Error Message: Post "http://127.0.0.1:9090/api/v1/query": dial tcp '
            '127.0.0.1:9090: connect: connection refused"'
        )
        assert rig.weight_at(T0 + 39) == 20


class TestExampleD:
    """Inline analysis: [setWeight 20, analysis (30s × 4, failureLimit 1), setWeight 50, pause 60s]."""

    def test_healthy_inline_analysis_completes_the_step(self) -> None:
        rig = started(
            make_rig(HEALTHY, rollout={"analysis": None, "steps": INLINE}, metric=INLINE_METRIC), 400
        )
        assert writes(rig) == [(0, 0), (0, 20), (90, 50), (150, 100), (150, 0)]
        assert relative(rig, rig.measurement_times()) == [0, 30, 60, 90]
        assert rig.controller.status.phase == RolloutPhase.HEALTHY
        assert rig.controller.runs.by_name["podinfo-6f9c-2-1"].phase == AnalysisPhase.SUCCESSFUL
        assert "Rollout step 2/4 completed (analysis)" in rig.messages("RolloutStepCompleted")

    def test_failing_inline_analysis_aborts_at_the_second_measurement(self) -> None:
        rig = started(
            make_rig(FAILING, rollout={"analysis": None, "steps": INLINE}, metric=INLINE_METRIC), 400
        )
        abort = rig.first("RolloutAborted")
        assert abort.at - T0 == 30
        assert abort.message == (
            "Rollout aborted update to revision 2: Step-based analysis phase error/failed: "
            'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)'
        )
        assert rig.weight_at(T0 + 29) == 20
        assert rig.controller.status.phase == RolloutPhase.DEGRADED

    def test_one_failure_is_forgiven(self) -> None:
        rig = started(
            make_rig(
                lambda t: [0.5] if t < 1 else [0.99],
                rollout={"analysis": None, "steps": INLINE},
                metric=INLINE_METRIC,
            ),
            400,
        )
        assert rig.controller.status.phase == RolloutPhase.HEALTHY
        assert not rig.messages("RolloutAborted")


class TestExampleE:
    def test_inconclusive_step_analysis_pauses_forever_without_aborting(self) -> None:
        metric = {**INLINE_METRIC, "failureCondition": "result[0] < 0.5"}
        rig = started(
            make_rig(lambda _t: [0.8], rollout={"analysis": None, "steps": INLINE}, metric=metric), 36000
        )
        status = rig.controller.status
        assert (status.phase, status.message) == (RolloutPhase.PAUSED, "InconclusiveAnalysisRun")
        assert (status.abort, status.canary_weight, status.current_step_index) == (False, 20, 1)
        assert rig.messages("RolloutPaused") == ["Rollout is paused (InconclusiveAnalysisRun)"]
        assert relative(rig, rig.measurement_times()) == [0]

    def test_inconclusive_background_run_does_not_hold_the_steps(self) -> None:
        """Pitfall 6 [inferred from v1.9.1 code]: pause steps count as resumed; the rollout promotes."""
        rig = started(make_rig(lambda _t: [0.8], metric={"failureCondition": "result[0] < 0.5"}), 600)
        assert rig.controller.status.phase == RolloutPhase.HEALTHY
        assert rig.workload.promoted_at == T0 + 90
        paused = [s for s in rig.history if s.phase == RolloutPhase.PAUSED and s.at > T0 and s.weight == 40]
        assert not paused  # the 90 s pause at weight 40 is skipped


class TestExampleF:
    def test_progress_deadline_abort(self) -> None:
        rig = started(
            make_rig(
                HEALTHY,
                rollout={"progressDeadlineSeconds": 120, "progressDeadlineAbort": True},
                ready_after=None,
            ),
            600,
        )
        aborted = [e for e in rig.controller.events if e.reason == "RolloutAborted"]
        assert [e.message for e in aborted] == [
            'ReplicaSet "podinfo-6f9c" has timed out progressing.',
            "Rollout aborted update to revision 2",
        ]
        assert aborted[0].at - T0 == 120  # the requeue lands on the deadline (Argo: a few ms after)
        status = rig.controller.status
        assert (status.phase, status.abort) == (RolloutPhase.DEGRADED, True)
        assert writes(rig) == [(0, 0)]  # the canary never got traffic

    def test_progress_deadline_without_abort_is_degraded_but_keeps_going(self) -> None:
        rig = started(make_rig(HEALTHY, rollout={"progressDeadlineSeconds": 120}, ready_after=None), 600)
        status = rig.controller.status
        assert status.phase == RolloutPhase.DEGRADED
        assert (
            status.message == 'ProgressDeadlineExceeded: ReplicaSet "podinfo-6f9c" has timed out progressing.'
        )
        assert not status.abort
        assert not rig.messages("RolloutAborted")

    def test_a_pause_step_cannot_time_out(self) -> None:
        rig = started(make_rig(HEALTHY, rollout={"progressDeadlineSeconds": 30}), 80)
        assert rig.controller.status.phase == RolloutPhase.PAUSED


class TestPitfalls:
    def test_indefinite_pause_without_analysis_never_aborts(self) -> None:
        steps = [{"setWeight": 20}, {"pause": {}}]
        rig = started(make_rig(FAILING, rollout={"analysis": None, "steps": steps}), 10 * 3600)
        status = rig.controller.status
        assert (status.phase, status.canary_weight, status.abort) == (RolloutPhase.PAUSED, 20, False)
        assert status.pause_condition(PauseReason.CANARY_PAUSE_STEP) is not None
        assert rig.prometheus.queries == []

    def test_background_analysis_without_starting_step_measures_before_traffic(self) -> None:
        """Pitfall 2: the run starts at weight 0; an empty vector errors, and a healthy canary is aborted."""
        analysis = {
            "templates": [{"templateName": "success-rate"}],
            "args": [{"name": "service", "value": "x"}],
        }
        rig = make_rig(lambda _t: [], rollout={"analysis": analysis}, ready_after=60)
        rig.prometheus._answer = lambda _t: [0.99] if rig.traefik.weight else []
        started(rig, 600)
        assert rig.first("RolloutAborted").at - T0 == 40
        assert rig.traefik.writes == [(T0, 0)]

    def test_dry_run_metric_never_aborts(self) -> None:
        analysis = {
            "templates": [{"templateName": "success-rate"}],
            "startingStep": 1,
            "dryRun": [{"metricName": "success-.*"}],
            "args": [{"name": "service", "value": "x"}],
        }
        rig = started(make_rig(FAILING, rollout={"analysis": analysis}), 600)
        assert rig.controller.status.phase == RolloutPhase.HEALTHY
        run = rig.controller.runs.by_name["podinfo-6f9c-2"]
        assert run.result("success-rate").phase == AnalysisPhase.FAILED
        assert run.phase == AnalysisPhase.SUCCESSFUL

    def test_traffic_routing_error_is_retried(self) -> None:
        rig = make_rig(HEALTHY)
        rig.traefik.failures = 2
        started(rig, 600)
        assert rig.messages("TrafficRoutingError")[0] == 'Error updating traefik service "podinfo": conflict'
        assert rig.controller.status.phase == RolloutPhase.HEALTHY
