"""Wall-clock jumps do not move run time; missing evidence is never GO; hostile scenario text is escaped."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.clock import FakeClock, ScaledClock
from harness.errors import Interrupted
from harness.model import Decision
from harness.run.execute import run_scenarios
from harness.run.options import RunOptions
from harness.run.runner import ScenarioRun
from harness.scenario.loader import load_scenario
from harness.testing.run import BAD_FROM_START, FakeBackend, FakeLoad, bad_canary_traffic

from .procwatch import ROOT

SPIKE = load_scenario(ROOT / "scenarios" / "http-5xx-spike.yaml")


def _execute(backend: FakeBackend, load: FakeLoad, tmp_path: Path, scenario=SPIKE):  # type: ignore[no-untyped-def]
    return run_scenarios(
        [scenario],
        RunOptions(report_dir=tmp_path, progress=False),
        backend_factory=lambda s, o, d: backend,
        load_factory=lambda o, d, b: lambda s, i: load,
    )


class TestClockJumps:
    def test_wall_clock_jump_does_not_move_the_run_clock(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """time.time jumping an hour back and a day forward leaves ScaledClock.now() monotonic and exact."""
        clock = ScaledClock(60.0)
        real_time = time.time
        readings = [clock.now()]
        for jump in (-3600.0, 86400.0, -(10**6)):
            monkeypatch.setattr(time, "time", lambda j=jump: real_time() + j)
            readings.append(clock.now())
            time.sleep(0.01)
        assert readings == sorted(readings)
        assert readings[-1] - readings[0] < 60.0 * 2  # well under 2 real seconds of emulated time

    def test_scaled_clock_now_is_monotonic(self) -> None:
        """10 000 consecutive now() readings never go backwards."""
        clock = ScaledClock(600.0)
        readings = [clock.now() for _ in range(10_000)]
        assert all(b >= a for a, b in itertools.pairwise(readings))

    def test_tick_and_verdict_times_ignore_wall_jumps(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """The same fake run with time.time ten years back gives identical mark times and verdict."""

        def run_once() -> tuple[list[tuple[str, float]], str]:
            clock = FakeClock()
            batch = _execute(
                FakeBackend(clock, BAD_FROM_START), FakeLoad(clock, bad_canary_traffic(120.0)), tmp_path
            )
            record = batch.records[0]
            return [(m.kind, m.at) for m in record.marks], record.decision

        reference = run_once()
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() - 10 * 365 * 86400)
        assert run_once() == reference
        assert reference[1] == Decision.GO


FAILURES = st.one_of(
    st.tuples(st.just("load"), st.floats(0, 400)),
    st.tuples(st.just("observe"), st.floats(0, 400)),
    st.tuples(st.just("interrupt"), st.floats(0, 400)),
    st.tuples(st.just("deploy"), st.just(0.0)),
)


class TestNeverGoWithoutEvidence:
    @settings(max_examples=60, deadline=None)
    @given(FAILURES)
    def test_injected_failure_is_never_go(self, failure: tuple[str, float]) -> None:
        """Load death, a failing observe, an interrupt or a failed deploy at any time: decision != GO."""
        kind, at = failure
        clock = FakeClock()

        class Failing(FakeBackend):
            def observe(self):  # type: ignore[no-untyped-def]
                if self._trigger_at is not None and self.clock.now() >= self._trigger_at + at:
                    if kind == "interrupt":
                        raise Interrupted("SIGINT")
                    if kind == "observe":
                        self.fail_on = "observe"
                return super().observe()

        backend = Failing(clock, BAD_FROM_START, fail_on="deploy" if kind == "deploy" else None)
        load = FakeLoad(clock, bad_canary_traffic(120.0), problem_at=120.0 + at if kind == "load" else None)
        runner = ScenarioRun(SPIKE, backend=backend, load_factory=lambda s, i: load, poll_real_seconds=1.0)
        outcome = runner.execute()
        assert backend.calls[-1] == "teardown"
        if outcome.complete and outcome.lost_evidence is None:  # it came after the rollback: evidence whole
            assert outcome.recorder.timeline.first_mark("rollback") is not None
            return
        from harness.report.journal import RunRecord
        from harness.run.execute import _record

        record = _record(RunRecord(run_id="r", scenario_id=SPIKE.id), SPIKE, outcome, {})
        assert record.decision != Decision.GO
        if outcome.lost_evidence is not None:  # the load died: INCONCLUSIVE, naming it first
            assert record.decision == Decision.INCONCLUSIVE
            assert record.verdict is not None
            assert record.verdict.reasons[0] == outcome.lost_evidence
        else:
            assert record.incomplete_reason


class TestHostileScenarioText:
    def test_script_in_a_scenario_description_is_escaped_end_to_end(self, tmp_path: Path) -> None:
        """A <script> in a scenario's description and in Flagger event text renders as text, not markup."""
        evil = "<script>alert(1)</script>"
        scenario = replace(SPIKE, description=evil)
        clock = FakeClock()
        script = tuple(replace(s, events=(*s.events, evil)) for s in BAD_FROM_START)
        batch = _execute(
            FakeBackend(clock, script), FakeLoad(clock, bad_canary_traffic(120.0)), tmp_path, scenario
        )
        html = batch.html.read_text()
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
