"""Webhook gates, manual rollback, payloads and event webhooks."""

from __future__ import annotations

from harness.controllers.flagger.model import Phase
from harness.controllers.flagger.ports import WebhookResult

from .rig import canary, make_rig, table

HOOKS = [
    {"name": "acceptance-test", "type": "pre-rollout", "url": "http://tester/", "metadata": {"type": "bash"}},
    {"name": "load-test", "url": "http://tester/", "metadata": {"cmd": "hey"}},
]


def with_hooks(*extra, **analysis):
    return canary({"webhooks": [*HOOKS, *extra], **analysis})


def start_run(rig):
    rig.initialized()
    rig.new_revision()
    return rig.controller.next_tick_at


class TestConfirmRollout:
    def test_rejection_waits_silently_then_approval_starts_the_run(self):
        """Reject → Waiting + one Halt event; later rejections are silent; approval → Progressing."""
        spec = with_hooks({"name": "gate", "type": "confirm-rollout", "url": "http://tester/gate/check"})
        rig = make_rig(spec, hooks={"gate": False})
        p0 = start_run(rig)
        records = rig.ticks(2)
        assert table(records, p0) == [
            (0.0, "Waiting", 0, 0, ["Halt podinfo.test advancement waiting for approval gate"]),
            (60.0, "Waiting", 0, 0, []),
        ]
        assert records[0].events[0].phase == Phase.INITIALIZED
        assert [c.payload["phase"] for c in rig.webhooks.calls_of("gate")] == ["Initialized", "Waiting"]
        rig.webhooks.scripts["gate"] = True
        rows = table(rig.ticks(2), p0)
        assert rows[0] == (
            120.0,
            "Progressing",
            0,
            0,
            ["Confirm-rollout check gate passed", "New revision detected! Scaling up podinfo.test"],
        )
        assert rows[1][4][0] == "Starting canary analysis for podinfo.test"


class TestTrafficAndPromotionGates:
    def test_traffic_increase_rejection_halts_without_counting(self):
        """confirm-traffic-increase rejection keeps the weight and adds no failed check."""
        spec = with_hooks({"name": "more", "type": "confirm-traffic-increase", "url": "http://tester/"})
        rig = make_rig(spec, hooks={"more": [False, False, True]})
        p0 = start_run(rig)
        rows = table(rig.ticks(4), p0)
        halt = "Halt podinfo.test advancement waiting for traffic increase approval more"
        assert rows[1][1:4] == ("Progressing", 0, 0)
        assert rows[1][4][-1] == halt
        assert rows[2] == (
            120.0,
            "Progressing",
            0,
            0,
            ["Starting canary analysis for podinfo.test", "Pre-rollout check acceptance-test passed", halt],
        )
        assert rows[3][2] == 10
        assert rows[3][4][-2:] == [
            "Confirm-traffic-increase check more passed",
            "Advance podinfo.test canary weight 10",
        ]

    def test_promotion_gate_waits_keeps_analysing_then_promotes(self):
        """Reject at max weight → WaitingPromotion (status weight 0, iterations −1); approve → Promoting."""
        spec = with_hooks({"name": "promo", "type": "confirm-promotion", "url": "http://tester/"})
        rig = make_rig(spec, hooks={"promo": [False, False, True]})
        p0 = start_run(rig)
        records = rig.until_phase(Phase.SUCCEEDED)
        rows = table(records, p0)
        assert rows[6] == (
            360.0,
            "WaitingPromotion",
            0,
            0,
            ["Halt podinfo.test advancement waiting for promotion approval promo"],
        )
        assert records[6].status.iterations == -1
        assert records[6].router_weights == (50, 50)
        assert rows[7] == (420.0, "WaitingPromotion", 0, 0, [])
        assert any(at == p0 + 420 for at, _ in rig.metrics.calls)  # analysis still runs while waiting
        assert rows[8] == (
            480.0,
            "Promoting",
            0,
            0,
            [
                "Confirm-promotion check promo passed",
                "Copying podinfo.test template spec to podinfo-primary.test",
            ],
        )
        assert rows[-1][1] == "Succeeded"

    def test_failures_while_waiting_for_promotion_still_roll_back(self):
        """Metric failures count in WaitingPromotion and the threshold check rolls back from there."""
        spec = with_hooks(
            {"name": "promo", "type": "confirm-promotion", "url": "http://tester/"}, threshold=2
        )
        rig = make_rig(spec, hooks={"promo": False})
        p0 = start_run(rig)
        rig.until_phase(Phase.WAITING_PROMOTION)
        rig.metrics.values["request-success-rate"] = 1.0
        records = rig.until_phase(Phase.FAILED)
        assert records[-1].at - p0 == 540.0
        assert records[-1].events[0].message == "Rolling back podinfo.test failed checks threshold reached 2"


class TestManualRollback:
    def test_rollback_hook_success_rolls_back_without_threshold_event(self):
        """Rollback hook: "not signaling" each tick, then "Rollback check … passed" → Failed."""
        spec = with_hooks({"name": "abort", "type": "rollback", "url": "http://tester/rollback/check"})
        rig = make_rig(spec, hooks={"abort": [False, False, True]})
        p0 = start_run(rig)
        records = rig.until_phase(Phase.FAILED)
        rows = table(records, p0)
        assert rows[1][4][0] == "Rollback hook abort not signaling a rollback"
        assert rows[-1] == (
            180.0,
            "Failed",
            0,
            0,
            [
                "Rollback check abort passed",
                "Rolling back podinfo.test manual webhook invoked",
                "Canary failed! Scaling down podinfo.test",
            ],
        )
        assert [e.type for e in records[-1].events] == ["Warning", "Warning", "Warning"]


class TestPayloads:
    def test_hook_payloads_carry_phase_checksum_and_metadata(self):
        """Pre-rollout/rollout payloads: name, namespace, phase Progressing, checksum, metadata."""
        spec = with_hooks({"name": "done", "type": "post-rollout", "url": "http://tester/"})
        rig = make_rig(spec)
        start_run(rig)
        rig.until_phase(Phase.SUCCEEDED)
        pre = rig.webhooks.calls_of("acceptance-test")[0].payload
        assert set(pre) == {"name", "namespace", "phase", "checksum", "metadata"}
        assert (pre["name"], pre["namespace"], pre["phase"], pre["metadata"]) == (
            "podinfo",
            "test",
            "Progressing",
            {"type": "bash"},
        )
        assert rig.webhooks.calls_of("load-test")[0].payload["phase"] == "Progressing"
        assert rig.webhooks.calls_of("done")[0].payload["phase"] == "Succeeded"
        assert "metadata" not in rig.webhooks.calls_of("done")[0].payload
        first_checksum = pre["checksum"]
        rig.new_revision("rev-3")
        rig.until_phase(Phase.SUCCEEDED)
        assert rig.webhooks.calls_of("acceptance-test")[-1].payload["checksum"] != first_checksum

    def test_post_rollout_failure_is_only_a_warning(self):
        """A failing post-rollout hook after rollback emits "Post-rollout hook … failed" and nothing else."""
        spec = with_hooks({"name": "done", "type": "post-rollout", "url": "http://tester/"}, threshold=1)
        rig = make_rig(
            spec,
            metrics={"request-success-rate": 1.0, "request-duration": 1.0},
            hooks={"done": WebhookResult(False, "boom")},
        )
        start_run(rig)
        records = rig.until_phase(Phase.FAILED)
        assert records[-1].events[-1].message == "Post-rollout hook done failed boom"
        assert rig.webhooks.calls_of("done")[0].payload["phase"] == "Failed"

    def test_event_webhook_receives_every_event_with_metadata(self):
        """type: event gets eventMessage/eventType/timestamp; user metadata cannot override them."""
        hook = {
            "name": "events",
            "type": "event",
            "url": "http://sink/",
            "metadata": {"eventType": "x", "team": "web"},
        }
        rig = make_rig(with_hooks(hook), metrics={"request-success-rate": 1.0, "request-duration": 1.0})
        start_run(rig)
        rig.until_phase(Phase.FAILED)
        calls = rig.webhooks.calls_of("events")
        assert [c.payload["metadata"]["eventMessage"] for c in calls] == [
            e.message for e in rig.controller.events
        ]
        failed = next(
            c.payload for c in calls if c.payload["metadata"]["eventMessage"].startswith("Canary failed!")
        )
        assert failed["phase"] == "Failed"
        assert failed["metadata"]["eventType"] == "Warning"
        assert failed["metadata"]["team"] == "web"
        assert failed["metadata"]["timestamp"] == str(int(rig.clock.wall(calls[-1].at).timestamp() * 1000))
        scaling = next(
            c.payload for c in calls if c.payload["metadata"]["eventMessage"].startswith("New revision")
        )
        assert scaling["phase"] == "Progressing"
