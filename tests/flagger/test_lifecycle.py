"""Controller lifecycle: initialization, restarts, deadlines, Failed/Succeeded re-runs, promotion paths."""

from __future__ import annotations

import pytest

from harness.controllers.flagger.model import Phase
from harness.errors import CanarySpecError

from .rig import MINUTE, canary, make_rig, table

BAD = {"request-success-rate": 10.0, "request-duration": 99.0}


def start_run(rig):
    rig.initialized()
    rig.new_revision()
    return rig.controller.next_tick_at


class TestInitialization:
    def test_initialization_takes_two_ticks_while_the_primary_rolls_out(self):
        """Tick 1 creates the primary (not ready: Warning); tick 2 finds it ready → Initialized."""
        rig = make_rig(primary_ready_after=30.0)
        records = rig.initialized()
        assert table(records, 0.0) == [
            (
                0.0,
                "Initializing",
                0,
                0,
                [
                    "all the metrics providers are available!",
                    "podinfo-primary.test not ready: waiting for rollout to finish: "
                    "0 of 1 (readyThreshold 100%) updated replicas are available",
                ],
            ),
            (
                60.0,
                "Initialized",
                0,
                0,
                ["all the metrics providers are available!", "Initialization done! podinfo.test"],
            ),
        ]
        assert [e.type for e in records[0].events] == ["Normal", "Warning"]
        status = records[-1].status
        assert (status.last_applied_spec, status.last_promoted_spec) == ("rev-1", "rev-1")
        assert rig.workloads.canary.replicas == 0
        assert status.condition is not None
        assert status.condition.message == "Deployment initialization completed."

    def test_unreachable_prometheus_only_warns(self):
        """A failing provider check emits a Warning and never blocks initialization."""
        rig = make_rig()
        rig.metrics.online = False
        records = rig.initialized()
        assert records[0].events[0].message == (
            "Error checking metric providers: prometheus not avaiable: value is not 1 for query: vector(1)"
        )
        assert records[0].status.phase == Phase.INITIALIZED

    def test_unsupported_provider_is_refused(self):
        """The emulation only knows the Traefik router and metrics."""
        with pytest.raises(CanarySpecError, match=r"spec\.provider"):
            make_rig(canary(provider="istio"))

    def test_suspended_canary_only_reports_it(self):
        """``suspend: true`` → every tick only emits the skip event."""
        rig = make_rig(canary(suspend=True))
        records = rig.ticks(3)
        assert {e.message for r in records for e in r.events} == {
            "skipping canary run as object is suspended"
        }
        assert records[-1].status.phase == Phase.INITIALIZING


class TestRevisions:
    def test_restart_on_new_revision_mid_analysis_resets_weight_and_failures(self):
        """A template change at weight 30 restarts: routes 100/0, failedChecks 0, then a fresh start tick."""
        pattern = [100.0, 100.0, 10.0, 100.0]
        rig = make_rig(metrics={"request-success-rate": pattern, "request-duration": 99.0})
        p0 = start_run(rig)
        rig.ticks(5)  # 0:00 detect, 1:00 → 10, 2:00 → 20, 3:00 → 30, 4:00 fail #1
        assert (rig.controller.status.canary_weight, rig.controller.status.failed_checks) == (30, 1)
        rig.new_revision("rev-3")
        records = rig.ticks(2)
        assert table(records, p0) == [
            (300.0, "Progressing", 0, 0, ["New revision detected! Restarting analysis for podinfo.test"]),
            (
                360.0,
                "Progressing",
                10,
                0,
                [
                    "Starting canary analysis for podinfo.test",
                    "Pre-rollout check acceptance-test passed",
                    "Advance podinfo.test canary weight 10",
                ],
            ),
        ]
        assert records[0].router_weights == (100, 0)
        assert records[0].status.last_applied_spec == "rev-3"

    def test_failed_canary_reruns_only_on_a_new_template(self):
        """After a rollback, ticks stay Failed and silent (status re-synced) until the template changes."""
        rig = make_rig(metrics=dict(BAD))
        start_run(rig)
        rig.until_phase(Phase.FAILED)
        quiet = rig.ticks(3)
        assert all(r.status.phase == Phase.FAILED and not r.events for r in quiet)
        assert [r.status.last_transition_time for r in quiet] == [r.at for r in quiet]
        rig.new_revision("rev-3")
        records = rig.ticks(1)
        assert records[0].events[0].message == "New revision detected! Scaling up podinfo.test"
        assert records[0].status.phase == Phase.PROGRESSING

    def test_reverting_to_the_primary_template_does_not_start_a_run(self):
        """Setting the target back to lastPromotedSpec ("manual rollback") leaves the canary Failed."""
        rig = make_rig(metrics=dict(BAD))
        start_run(rig)
        rig.until_phase(Phase.FAILED)
        rig.new_revision("rev-1")
        records = rig.ticks(3)
        assert all(r.status.phase == Phase.FAILED and not r.events for r in records)
        assert records[-1].status.last_applied_spec == "rev-1"
        rig.new_revision("rev-2")  # the failed template again is a new run now
        assert rig.ticks(1)[0].status.phase == Phase.PROGRESSING

    def test_succeeded_canary_ignores_ticks_until_the_next_revision(self):
        """After Succeeded nothing happens until a new template; then a new run starts."""
        rig = make_rig()
        start_run(rig)
        rig.until_phase(Phase.SUCCEEDED)
        assert not any(r.events for r in rig.ticks(2))
        rig.new_revision("rev-3")
        assert rig.ticks(1)[0].status.phase == Phase.PROGRESSING


class TestDeadlines:
    def test_minimum_replicas_unavailable_past_progress_deadline_rolls_back_silently(self):
        """Never-ready canary; deadline 120 s via Available=False → silent rollback at P0+3 min."""
        rig = make_rig(canary(progressDeadlineSeconds=120))
        p0 = start_run(rig)
        rig.workloads.canary.ready_after = None
        records = rig.until_phase(Phase.FAILED, max_ticks=10)
        not_ready = (
            "canary deployment podinfo.test not ready: waiting for rollout to finish: "
            "0 of 1 (readyThreshold 100%) updated replicas are available"
        )
        rows = table(records, p0)
        assert [row[0] for row in rows] == [0.0, 60.0, 120.0, 180.0]
        assert rows[1][4] == [not_ready]
        assert rows[2][4] == [not_ready]
        assert rows[3][4] == [not_ready, "Canary failed! Scaling down podinfo.test"]
        assert not any("Rolling back" in m for row in rows for m in row[4])
        assert all(row[3] == 0 for row in rows)

    def test_progress_deadline_exceeded_condition_rolls_back(self):
        """The Deployment's own deadline (60 s) sets ProgressDeadlineExceeded → non-retriable → rollback."""
        rig = make_rig(deployment_deadline=60.0)
        p0 = start_run(rig)
        rig.workloads.canary.ready_after = None
        records = rig.until_phase(Phase.FAILED, max_ticks=10)
        assert records[-1].at - p0 == 2 * MINUTE
        assert [e.message for e in records[-1].events] == [
            'canary deployment podinfo.test not ready: deployment "podinfo" exceeded its progress deadline',
            "Canary failed! Scaling down podinfo.test",
        ]

    def test_failed_promotion_routes_all_traffic_to_the_canary(self):
        """v1.44: primary stuck during Promoting → Failed with weight 100, traffic on the canary."""
        rig = make_rig(deployment_deadline=60.0)
        p0 = start_run(rig)
        records = rig.until_phase(Phase.PROMOTING)
        rig.workloads.primary.ready_after = None  # the rollout started by promote() never finishes
        records += rig.until_phase(Phase.FAILED)
        rows = table(records, p0)
        assert rows[-3][0:2] == (360.0, "Promoting")
        assert rows[-2][4] == [
            "podinfo-primary.test not ready: waiting for rollout to finish: 0 of 1 (readyThreshold 100%) "
            "updated replicas are available"
        ]
        error = 'podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline'
        assert rows[-1] == (
            480.0,
            "Failed",
            100,
            0,
            [error, f"Promotion of podinfo.test failed, primary not ready: {error}"],
        )
        assert records[-1].router_weights == (0, 100)
        assert rig.workloads.canary.replicas == 1


class TestPromotion:
    def test_step_weight_promotion_shifts_back_in_steps(self):
        """stepWeightPromotion 20 from 50/50: primary 70, 90, 100 → Finalising → Succeeded."""
        rig = make_rig(canary({"stepWeightPromotion": 20}))
        p0 = start_run(rig)
        rows = table(rig.until_phase(Phase.SUCCEEDED), p0)
        assert rows[6:] == [
            (360.0, "Promoting", 50, 0, ["Copying podinfo.test template spec to podinfo-primary.test"]),
            (420.0, "Promoting", 30, 0, ["Advance podinfo.test primary weight 70"]),
            (480.0, "Promoting", 10, 0, ["Advance podinfo.test primary weight 90"]),
            (540.0, "Finalising", 0, 0, ["Advance podinfo.test primary weight 100"]),
            (600.0, "Succeeded", 0, 0, ["Promotion completed! Scaling down podinfo.test"]),
        ]

    def test_weights_overshoot_max_weight(self):
        """maxWeight 50, stepWeight 20 → 20, 40, 60, then promotion on the next passing tick."""
        rig = make_rig(canary({"maxWeight": 50, "stepWeight": 20}))
        p0 = start_run(rig)
        rows = table(rig.until_phase(Phase.PROMOTING), p0)
        assert [(row[0], row[1], row[2]) for row in rows] == [
            (0.0, "Progressing", 0),
            (60.0, "Progressing", 20),
            (120.0, "Progressing", 40),
            (180.0, "Progressing", 60),
            (240.0, "Promoting", 60),
        ]

    def test_skip_analysis_promotes_once_the_canary_is_ready(self):
        """skipAnalysis: detection tick, then one tick that promotes without any check."""
        rig = make_rig(canary(skipAnalysis=True), primary_ready_after=30.0)
        records = rig.ticks(1)
        assert records[0].status.phase == Phase.INITIALIZED  # primary readiness is not awaited
        rig.new_revision()
        p0 = rig.controller.next_tick_at
        rows = table(rig.ticks(2), p0)
        assert rows[1] == (
            60.0,
            "Succeeded",
            0,
            0,
            [
                "Copying podinfo.test template spec to podinfo-primary.test",
                "Promotion completed! Canary analysis was skipped for podinfo.test",
            ],
        )
        assert rig.metrics.calls == []
        assert rig.webhooks.calls == []


class TestStrategies:
    def test_blue_green_counts_iterations_then_routes_to_canary_and_promotes(self):
        """B/G: iteration 1 on the start tick, +1 per passing tick, then 0/100, then promotion."""
        spec = canary({"iterations": 3, "stepWeight": None, "maxWeight": None})
        rig = make_rig(spec)
        p0 = start_run(rig)
        records = rig.until_phase(Phase.SUCCEEDED)
        rows = table(records, p0)
        assert [row[4][-1] for row in rows[1:4]] == [
            "Advance podinfo.test canary iteration 1/3",
            "Advance podinfo.test canary iteration 2/3",
            "Advance podinfo.test canary iteration 3/3",
        ]
        assert [r.router_weights for r in records[1:4]] == [(100, 0)] * 3
        assert rows[4][4] == ["Routing all traffic to canary"]
        assert records[4].router_weights == (0, 100)
        assert rows[5][1] == "Promoting"
        assert rows[6][1] == "Finalising"
        assert rows[7][1] == "Succeeded"

    def test_ab_testing_on_traefik_sends_all_traffic_to_the_canary(self):
        """A/B with match + iterations: the Traefik router ignores the match, so canary gets 100%."""
        spec = canary(
            {
                "iterations": 2,
                "stepWeight": None,
                "maxWeight": None,
                "match": [{"headers": {"x": {"exact": "1"}}}],
            }
        )
        rig = make_rig(spec)
        start_run(rig)
        records = rig.ticks(3)
        assert records[1].events[-1].message == "Advance podinfo.test canary iteration 1/2"
        assert records[1].router_weights == (0, 100)

    def test_mirroring_on_traefik_never_leaves_weight_zero(self):
        """mirror: true with canary steps: every tick is a start tick at weight 0 (§2.11)."""
        rig = make_rig(canary({"mirror": True}))
        start_run(rig)
        records = rig.ticks(5)[1:]
        assert all(r.status.canary_weight == 0 and r.router_weights == (100, 0) for r in records)
        assert all(r.events[-1].message == "Advance podinfo.test canary weight 0" for r in records)
        assert rig.metrics.calls == []


class TestTickGrid:
    def test_overrunning_tick_is_followed_at_once_then_realigns(self):
        """A 90 s tick at 2:00 (interval 1m) → next tick at 3:30 right away, then 4:00, 5:00 (Go ticker)."""
        rig = make_rig()
        rig.initialized()
        rig.new_revision()
        rig.webhooks.scripts["acceptance-test"] = lambda payload: rig.clock.advance(90.0) or True
        records = rig.ticks(5)
        assert [r.at for r in records] == [60.0, 120.0, 210.0, 240.0, 300.0]
