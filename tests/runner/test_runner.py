"""The runner's lifecycle against scripted fakes (no processes, no sleeping: a FakeClock)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.clock import FakeClock
from harness.controllers.flagger.model import Phase
from harness.errors import Interrupted
from harness.model import Decision
from harness.report.journal import read_journal
from harness.run.execute import run_scenarios
from harness.run.options import RunOptions
from harness.run.runner import ScenarioRun
from harness.scenario.loader import load_scenario
from harness.scenario.model import FaultPlan, FaultTrigger, Scenario
from harness.testing.run import (
    BAD_FROM_START,
    ROLLBACK_EVENTS,
    FakeBackend,
    FakeLoad,
    ScriptStep,
    bad_canary_traffic,
)

ROOT = Path(__file__).resolve().parents[2]


def spike() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "http-5xx-spike.yaml")


def run(scenario: Scenario, backend: FakeBackend, load: FakeLoad) -> tuple[ScenarioRun, object]:
    runner = ScenarioRun(scenario, backend=backend, load_factory=lambda s, i: load, poll_real_seconds=1.0)
    return runner, runner.execute()


class TestLifecycle:
    def test_stages_run_in_order_and_teardown_always_runs(self) -> None:
        """preflight → deploy → baseline → trigger → observe → recovery → teardown, then done."""
        clock = FakeClock()
        backend = FakeBackend(clock, BAD_FROM_START)
        load = FakeLoad(clock, bad_canary_traffic(120.0))
        runner, outcome = run(spike(), backend, load)
        stages = [m.detail for m in runner.recorder.timeline.marks if m.kind == "stage"]
        assert stages == [
            "preflight",
            "deploy",
            "baseline",
            "trigger",
            "observe",
            "recovery",
            "teardown",
            "done",
        ]
        assert outcome.complete
        assert outcome.error is None
        assert backend.calls[-1] == "teardown"
        assert load.stopped

    def test_rollback_is_marked_at_the_failed_sample(self) -> None:
        """The terminal phase ends observation and the rollback mark carries the Failed sample's time."""
        clock = FakeClock()
        backend = FakeBackend(clock, BAD_FROM_START)
        runner, _ = run(spike(), backend, FakeLoad(clock, bad_canary_traffic(120.0)))
        timeline = runner.recorder.timeline
        trigger = timeline.first_mark("trigger")
        rollback = timeline.first_mark("rollback")
        assert trigger is not None
        assert rollback is not None
        assert rollback.at - trigger.at == 330
        assert timeline.first_mark("fault_on") is not None  # the fault is in the revision: onset = trigger
        assert [e.message for e in timeline.events][-2:] == list(ROLLBACK_EVENTS)

    def test_runtime_fault_is_injected_when_the_weight_is_reached(self) -> None:
        """A fault planned `at_weight: 10` is switched on right after the first sample at weight 10."""
        clock = FakeClock()
        scenario = replace(
            spike(),
            revision=replace(spike().revision, faults=()),
            fault=FaultPlan(spec=({"kind": "http_errors", "rate": 1.0},), at=FaultTrigger(None, 10)),
        )
        backend = FakeBackend(clock, BAD_FROM_START)
        runner, _ = run(scenario, backend, FakeLoad(clock, bad_canary_traffic(120.0)))
        trigger = runner.recorder.timeline.first_mark("trigger")
        assert trigger is not None
        assert len(backend.faults_set) == 1
        at, faults = backend.faults_set[0]
        assert 90 <= at - trigger.at < 92
        assert faults[0]["kind"] == "http_errors"

    def test_infrastructure_failure_is_recorded_and_cleaned_up(self) -> None:
        """A deploy failure makes the run incomplete with the reason, and teardown still runs."""
        clock = FakeClock()
        backend = FakeBackend(clock, BAD_FROM_START, fail_on="deploy")
        load = FakeLoad(clock, bad_canary_traffic(0.0))
        _, outcome = run(spike(), backend, load)
        assert not outcome.complete
        assert "InfrastructureError during deploy" in (outcome.incomplete_reason or "")
        assert backend.calls[-1] == "teardown"
        assert not load.started

    def test_dead_load_generator_makes_the_evidence_missing(self) -> None:
        """When the load generator dies mid-run, the run stops cleanly, names the lost evidence, and the
        verdict is INCONCLUSIVE (never GO, and no NO-GO on the partial evidence)."""
        from harness.report.journal import RunRecord
        from harness.run.execute import _record

        clock = FakeClock()
        backend = FakeBackend(clock, BAD_FROM_START)
        load = FakeLoad(clock, bad_canary_traffic(120.0), problem_at=200.0)
        _, outcome = run(spike(), backend, load)
        assert outcome.lost_evidence == "fake load worker died (exit code -9)"
        assert outcome.missing == ["fake load worker died (exit code -9)"]
        assert load.stopped
        assert backend.calls[-1] == "teardown"
        record = _record(RunRecord(run_id="r", scenario_id="s"), spike(), outcome, {})
        assert record.decision == Decision.INCONCLUSIVE
        assert record.verdict is not None
        assert record.verdict.reasons[0] == "fake load worker died (exit code -9)"

    def test_events_unreadable_to_the_end_are_inconclusive(self) -> None:
        """A backend evidence gap still open at the end (events unreadable) ends INCONCLUSIVE with it."""
        from harness.report.journal import RunRecord
        from harness.run.execute import _record

        clock = FakeClock()
        backend = FakeBackend(clock, BAD_FROM_START, event_gap=(30.0, None))
        _, outcome = run(spike(), backend, FakeLoad(clock, bad_canary_traffic(120.0)))
        gap = "Flagger events unreadable since 30s after the trigger (fake)"
        assert outcome.complete
        assert outcome.missing == [gap]
        record = _record(RunRecord(run_id="r", scenario_id="s"), spike(), outcome, {})
        assert record.decision == Decision.INCONCLUSIVE
        assert record.verdict is not None
        assert record.verdict.reasons[0] == gap

    def test_a_gap_closed_by_a_later_read_loses_nothing(self) -> None:
        """Events unreadable for a while, then read again (the receiver keeps them): no missing evidence."""
        clock = FakeClock()
        backend = FakeBackend(clock, BAD_FROM_START, event_gap=(30.0, 60.0))
        runner, outcome = run(spike(), backend, FakeLoad(clock, bad_canary_traffic(120.0)))
        assert outcome.complete
        assert outcome.missing == []
        assert any("evidence gap" in w for w in runner.recorder.timeline.warnings)

    def test_no_terminal_phase_before_the_cap_is_incomplete(self) -> None:
        """A canary that never finishes is stopped at timing.max_duration with diagnostics."""
        clock = FakeClock()
        stuck = (ScriptStep(30, Phase.PROGRESSING, 0, 0),)
        scenario = replace(spike(), timing=replace(spike().timing, max_duration_seconds=300.0))
        _, outcome = run(scenario, FakeBackend(clock, stuck), FakeLoad(clock, bad_canary_traffic(0.0)))
        assert not outcome.complete
        assert outcome.incomplete_reason == "no terminal phase before timing.max_duration"
        assert "fake status" in outcome.diagnostics

    def test_interrupt_is_recorded_and_cleaned_up(self) -> None:
        """Ctrl-C during observation leaves an incomplete outcome carrying the Interrupted error."""
        clock = FakeClock()

        class InterruptingBackend(FakeBackend):
            def observe(self):  # type: ignore[no-untyped-def]
                if self._trigger_at is not None and self.clock.now() > self._trigger_at + 100:
                    raise Interrupted("SIGINT")
                return super().observe()

        backend = InterruptingBackend(clock, BAD_FROM_START)
        _, outcome = run(spike(), backend, FakeLoad(clock, bad_canary_traffic(120.0)))
        assert isinstance(outcome.error, Interrupted)
        assert "interrupted by SIGINT during observe" in (outcome.incomplete_reason or "")
        assert backend.calls[-1] == "teardown"


class TestExecute:
    def _run(self, tmp_path: Path, backend_fail: str | None = None) -> object:
        clock = FakeClock()
        options = RunOptions(report_dir=tmp_path, progress=False)
        return run_scenarios(
            [spike()],
            options,
            backend_factory=lambda s, o, d: FakeBackend(clock, BAD_FROM_START, fail_on=backend_fail),
            load_factory=lambda o, d, b: lambda s, i: FakeLoad(clock, bad_canary_traffic(120.0)),
        )

    def test_a_timely_rollback_is_go_with_all_evidence_written(self, tmp_path: Path) -> None:
        """The 5xx spike rolled back 5.5 intervals after the trigger is GO; journal, HTML and JUnit exist."""
        batch = self._run(tmp_path)
        assert batch.exit_code == 0, [r.verdict for r in batch.records]
        record = batch.records[0]
        assert record.decision == Decision.GO
        journal = next(tmp_path.glob("*/runs/*/journal.json"))
        assert read_journal(journal).decision == Decision.GO
        assert batch.html is not None
        assert batch.html.exists()
        assert batch.junit is not None
        assert "testcase" in batch.junit.read_text()

    def test_infrastructure_failure_exits_3_with_an_incomplete_report(self, tmp_path: Path) -> None:
        """A broken backend gives exit code 3 and a report marked INCOMPLETE."""
        batch = self._run(tmp_path, backend_fail="deploy")
        assert batch.exit_code == 3
        assert batch.records[0].decision == Decision.INCOMPLETE
        assert "INCOMPLETE" in batch.html.read_text()
