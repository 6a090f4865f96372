"""Tick-for-tick conformance with the worked examples of flagger-semantics.md §3.3 and §3.4."""

from __future__ import annotations

from typing import ClassVar

from harness.controllers.flagger.model import Phase
from harness.errors import NoValuesFound

from .rig import MINUTE, canary, make_rig, table

BAD = {"request-success-rate": 53.42, "request-duration": 99.0}


def detect(rig):
    """Initialize, change the template at 0:30; returns P0 (the detection tick's time)."""
    rig.initialized()
    rig.new_revision()
    return rig.controller.next_tick_at


class TestExampleA:
    """§3.3: interval 1m, threshold 5, stepWeight 10, maxWeight 50."""

    def test_healthy_run_promotes_at_six_and_succeeds_at_eight_minutes(self):
        """Healthy column: weights 10…50, Promoting at 6:00, Finalising 7:00, Succeeded 8:00."""
        rig = make_rig()
        p0 = detect(rig)
        records = rig.until_phase(Phase.SUCCEEDED, Phase.FAILED)
        assert table(records, p0) == [
            (0.0, "Progressing", 0, 0, ["New revision detected! Scaling up podinfo.test"]),
            (
                60.0,
                "Progressing",
                10,
                0,
                [
                    "Starting canary analysis for podinfo.test",
                    "Pre-rollout check acceptance-test passed",
                    "Advance podinfo.test canary weight 10",
                ],
            ),
            (120.0, "Progressing", 20, 0, ["Advance podinfo.test canary weight 20"]),
            (180.0, "Progressing", 30, 0, ["Advance podinfo.test canary weight 30"]),
            (240.0, "Progressing", 40, 0, ["Advance podinfo.test canary weight 40"]),
            (300.0, "Progressing", 50, 0, ["Advance podinfo.test canary weight 50"]),
            (360.0, "Promoting", 50, 0, ["Copying podinfo.test template spec to podinfo-primary.test"]),
            (420.0, "Finalising", 0, 0, ["Routing all traffic to primary"]),
            (480.0, "Succeeded", 0, 0, ["Promotion completed! Scaling down podinfo.test"]),
        ]
        assert [r.router_weights for r in records] == [
            (100, 0),
            (90, 10),
            (80, 20),
            (70, 30),
            (60, 40),
            (50, 50),
            (50, 50),
            (100, 0),
            (100, 0),
        ]
        assert records[-1].status.last_promoted_spec == "rev-2"
        assert records[-1].status.condition is not None
        assert (records[-1].status.condition.status, records[-1].status.condition.reason) == (
            "True",
            "Succeeded",
        )

    def test_bad_canary_rolls_back_at_seven_minutes_after_five_failures(self):
        """Bad column: failures #1–#5 at 2:00–6:00 with weight stuck at 10, rollback at 7:00."""
        rig = make_rig(metrics=BAD)
        p0 = detect(rig)
        records = rig.until_phase(Phase.FAILED)
        rows = table(records, p0)
        halt = "Halt podinfo.test advancement success rate 53.42% < 99%"
        assert rows[:2] == [
            (0.0, "Progressing", 0, 0, ["New revision detected! Scaling up podinfo.test"]),
            (
                60.0,
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
        assert rows[2:7] == [(60.0 * k, "Progressing", 10, k - 1, [halt]) for k in range(2, 7)]
        assert rows[7] == (
            420.0,
            "Failed",
            0,
            0,
            [
                "Rolling back podinfo.test failed checks threshold reached 5",
                "Canary failed! Scaling down podinfo.test",
            ],
        )
        assert records[7].router_weights == (100, 0)
        assert rig.workloads.canary.replicas == 0
        condition = records[7].status.condition
        assert condition is not None
        assert (condition.status, condition.reason) == ("False", "Failed")
        assert condition.message == "Canary analysis failed, Deployment scaled to zero."
        # Only analysis ticks query metrics, and the first query of the run happens at 2:00.
        assert min(at for at, _ in rig.metrics.calls) - p0 == 2 * MINUTE

    def test_fault_at_three_twenty_rolls_back_at_nine_minutes(self):
        """A fault injected at 3:20 (weight 30) fails 4:00…8:00 and rolls back at 9:00 (5 min 40 s)."""
        rig = make_rig()
        p0 = detect(rig)
        fault_at = p0 + 200
        rig.metrics.values["request-success-rate"] = lambda now: 40.0 if now >= fault_at else 100.0
        records = rig.until_phase(Phase.FAILED, Phase.SUCCEEDED)
        rows = table(records, p0)
        assert rows[-1][0:2] == (540.0, "Failed")
        failing = [row[0] for row in rows if row[4] and row[4][0].startswith("Halt")]
        assert failing == [240.0, 300.0, 360.0, 420.0, 480.0]
        assert {row[2] for row in rows if 240.0 <= row[0] < 540.0} == {30}
        assert rows[-1][0] - 200 == 340.0

    def test_no_values_found_counts_as_failure_and_rolls_back_after_threshold(self):
        """A canary without traffic gets "no values found" on each analysis tick and is rolled back."""
        rig = make_rig(metrics={"request-success-rate": NoValuesFound(), "request-duration": NoValuesFound()})
        p0 = detect(rig)
        records = rig.until_phase(Phase.FAILED)
        assert records[-1].at - p0 == 7 * MINUTE
        assert records[2].events[0].message == (
            "Halt advancement no values found for traefik metric request-success-rate probably podinfo.test "
            "is not receiving traffic: running query failed: no values found"
        )
        assert records[2].checks[0].passed is False
        assert records[2].checks[0].value is None

    def test_request_duration_no_values_has_no_error_suffix(self):
        """The request-duration variant of "no values found" ends after "receiving traffic"."""
        rig = make_rig(metrics={"request-success-rate": 100.0, "request-duration": NoValuesFound()})
        detect(rig)
        records = rig.ticks(3)
        assert records[-1].events[0].message == (
            "Halt advancement no values found for traefik metric request-duration probably podinfo.test "
            "is not receiving traffic"
        )

    def test_slow_canary_reports_go_durations(self):
        """p99 1191.7 ms is truncated to 1191 ms and printed as Go durations: "1.191s > 500ms"."""
        rig = make_rig(metrics={"request-success-rate": 100.0, "request-duration": 1191.7})
        detect(rig)
        records = rig.ticks(3)
        assert (
            records[-1].events[0].message == "Halt podinfo.test advancement request duration 1.191s > 500ms"
        )
        assert records[-1].checks[-1].query.startswith(" histogram_quantile( 0.99, sum( rate(")

    def test_pre_rollout_failure_repeats_the_start_tick(self):
        """A failing pre-rollout hook keeps weight 0; failures at 1:00…5:00, rollback at 6:00 = (T+1+r)·I."""
        rig = make_rig(hooks={"acceptance-test": False})
        p0 = detect(rig)
        records = rig.until_phase(Phase.FAILED)
        rows = table(records, p0)
        assert rows[-1][0:2] == (360.0, "Failed")
        assert all(row[2] == 0 for row in rows)
        assert rows[1][4] == [
            "Starting canary analysis for podinfo.test",
            "Halt podinfo.test advancement pre-rollout check acceptance-test failed Forbidden",
        ]
        assert [row[3] for row in rows[1:6]] == [1, 2, 3, 4, 5]
        assert rig.metrics.calls == []

    def test_failures_need_not_be_consecutive(self):
        """Passing ticks never reset failedChecks: the 5th failure, non-consecutive, triggers rollback."""
        spec = canary({"maxWeight": 100, "stepWeight": 5, "threshold": 5})
        pattern = [100.0, 50.0, 100.0, 50.0, 50.0, 100.0, 50.0, 100.0, 50.0]
        rig = make_rig(spec, metrics={"request-success-rate": pattern, "request-duration": 99.0})
        p0 = detect(rig)
        records = rig.until_phase(Phase.FAILED, Phase.SUCCEEDED)
        rows = table(records, p0)
        assert [row[3] for row in rows[2:11]] == [0, 1, 1, 2, 3, 3, 4, 4, 5]
        assert rows[-1][0:2] == (11 * MINUTE, "Failed")
        assert [row[2] for row in rows[2:11]] == [10, 10, 15, 15, 15, 20, 20, 25, 25]


class TestExampleB:
    """§3.4: interval 1m, threshold 5, stepWeights [5, 10, 25, 50]."""

    SPEC: ClassVar[dict[str, object]] = {
        "stepWeights": [5, 10, 25, 50],
        "stepWeight": None,
        "maxWeight": None,
    }

    def test_healthy_run_takes_seven_intervals(self):
        """Healthy: 5 → 10 → 25 → 50, Promoting at 5:00, Finalising 6:00, Succeeded 7:00."""
        rig = make_rig(canary(self.SPEC))
        p0 = detect(rig)
        rows = table(rig.until_phase(Phase.SUCCEEDED, Phase.FAILED), p0)
        assert [(row[0], row[1], row[2]) for row in rows] == [
            (0.0, "Progressing", 0),
            (60.0, "Progressing", 5),
            (120.0, "Progressing", 10),
            (180.0, "Progressing", 25),
            (240.0, "Progressing", 50),
            (300.0, "Promoting", 50),
            (360.0, "Finalising", 0),
            (420.0, "Succeeded", 0),
        ]

    def test_bad_from_start_rolls_back_after_seven_intervals_at_five_percent(self):
        """Bad: start → 5, failures 2:00…6:00 at weight 5, rollback at 7:00."""
        rig = make_rig(canary(self.SPEC), metrics=BAD)
        p0 = detect(rig)
        records = rig.until_phase(Phase.FAILED)
        rows = table(records, p0)
        assert [(row[0], row[1], row[2], row[3]) for row in rows] == [
            (0.0, "Progressing", 0, 0),
            (60.0, "Progressing", 5, 0),
            *[(60.0 * k, "Progressing", 5, k - 1) for k in range(2, 7)],
            (420.0, "Failed", 0, 0),
        ]
        assert [r.router_weights[1] for r in records[1:7]] == [5] * 6

    def test_fault_at_three_twenty_rolls_back_at_nine_minutes(self):
        """Fault at 3:20 (weight 25): failures 4:00…8:00, rollback at 9:00."""
        rig = make_rig(canary(self.SPEC))
        p0 = detect(rig)
        rig.metrics.values["request-success-rate"] = lambda now: 10.0 if now >= p0 + 200 else 100.0
        rows = table(rig.until_phase(Phase.FAILED, Phase.SUCCEEDED), p0)
        assert rows[-1][0:2] == (540.0, "Failed")
        assert {row[2] for row in rows if 240.0 <= row[0] < 540.0} == {25}
