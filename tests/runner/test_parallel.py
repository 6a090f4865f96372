"""``--parallel N``: concurrent runs, schedule order, journaled schedule entries, Ctrl-C cleans up all."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.clock import FakeClock
from harness.controllers.flagger.model import CanarySpec, Phase
from harness.errors import EXIT_INTERRUPTED
from harness.model import Decision, Revision
from harness.processes.procs import install_signal_handlers
from harness.report.journal import read_journal
from harness.run.execute import RunOptions, run_scenarios, schedule_for
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario
from harness.testing.run import BAD_FROM_START, FakeBackend, FakeLoad, ScriptStep, bad_canary_traffic

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Tracker:
    """Which runs are between deploy and teardown, and the most at once."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    active: int = 0
    peak: int = 0
    deployed: list[str] = field(default_factory=list)
    torn_down: list[str] = field(default_factory=list)


@dataclass
class TrackedBackend(FakeBackend):
    scenario_id: str = ""
    tracker: Tracker = field(default_factory=Tracker)
    real_seconds_per_observe: float = 0.0

    def deploy(self, canary: CanarySpec, stable: Revision):  # type: ignore[no-untyped-def]
        ingress = super().deploy(canary, stable)
        with self.tracker.lock:
            self.tracker.active += 1
            self.tracker.peak = max(self.tracker.peak, self.tracker.active)
            self.tracker.deployed.append(self.scenario_id)
        return ingress

    def observe(self):  # type: ignore[no-untyped-def]
        time.sleep(self.real_seconds_per_observe)  # real time passes, so runs overlap
        return super().observe()

    def teardown(self) -> None:
        super().teardown()
        with self.tracker.lock:
            self.tracker.active -= 1
            self.tracker.torn_down.append(self.scenario_id)


def spikes(count: int) -> list[Scenario]:
    base = load_scenario(ROOT / "scenarios" / "http-5xx-spike.yaml")
    return [replace(base, id=f"spike-{i}") for i in range(count)]


def run_batch(
    tmp_path: Path,
    scenarios: Sequence[Scenario],
    parallel: int,
    tracker: Tracker,
    script: Sequence[ScriptStep] = BAD_FROM_START,
    real_seconds_per_observe: float = 0.001,
):  # type: ignore[no-untyped-def]
    clocks: dict[str, FakeClock] = {}

    def backend(scenario: Scenario, options: RunOptions, run_dir: Path) -> TrackedBackend:
        clock = clocks.setdefault(scenario.id, FakeClock(scale=100))  # each poll step: 5 emulated seconds
        return TrackedBackend(
            clock,
            script,
            scenario_id=scenario.id,
            tracker=tracker,
            real_seconds_per_observe=real_seconds_per_observe,
        )

    def load(options, run_dir, backend):  # type: ignore[no-untyped-def]
        return lambda scenario, ingress: FakeLoad(backend.clock, bad_canary_traffic(120.0))

    options = RunOptions(backend="kubernetes", time_scale=100, report_dir=tmp_path, progress=False,
                         parallel=parallel)  # fmt: skip
    return run_scenarios(scenarios, options, backend_factory=backend, load_factory=load)


def test_runs_overlap_each_with_its_own_backend_and_journal(tmp_path: Path) -> None:
    tracker = Tracker()
    batch = run_batch(tmp_path, spikes(3), 3, tracker)
    assert tracker.peak == 3
    assert sorted(tracker.deployed) == sorted(tracker.torn_down) == ["spike-0", "spike-1", "spike-2"]
    assert [r.decision for r in batch.records] == [Decision.GO] * 3, [r.verdict for r in batch.records]
    assert batch.exit_code == 0
    journals = sorted(tmp_path.glob("*/runs/*/journal.json"))
    assert len(journals) == 3
    for journal in journals:
        record = read_journal(journal)
        assert record.schedule is not None
        assert record.schedule["scenario"] == record.scenario_id
        assert record.schedule["slot"] in (1, 2, 3)
        assert record.wall_seconds is not None
        assert record.wall_seconds > 0
    html = batch.html.read_text()
    assert "wall time" in html
    assert html.count("measured ") >= 3


def test_one_slot_runs_one_at_a_time_in_the_given_order(tmp_path: Path) -> None:
    tracker = Tracker()
    run_batch(tmp_path, spikes(2), 1, tracker)
    assert tracker.peak == 1
    assert tracker.deployed == ["spike-0", "spike-1"]


def test_runs_start_in_schedule_order(tmp_path: Path) -> None:
    """Longest first: the healthy control (8 intervals) starts before the spikes (7m bound)."""
    healthy = load_scenario(ROOT / "scenarios" / "healthy-control.yaml")
    scenarios = [*spikes(2), healthy]
    options = RunOptions(backend="kubernetes", time_scale=100, parallel=2)
    assert schedule_for(scenarios, options).entries[0].scenario_id == "healthy-control"
    tracker = Tracker()
    run_batch(tmp_path, scenarios, 2, tracker)
    assert "healthy-control" in tracker.deployed[:2]


def test_ctrl_c_tears_down_every_started_run_and_starts_no_more(tmp_path: Path) -> None:
    """SIGINT reaches the main thread; both running runs stop and tear down; the other two never start."""
    tracker = Tracker()
    never_ends = (ScriptStep(30, Phase.PROGRESSING, 10, 0),)

    def interrupt_when_both_deployed() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with tracker.lock:
                if len(tracker.deployed) == 2:
                    break
            time.sleep(0.01)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    restore = install_signal_handlers()
    try:
        threading.Thread(target=interrupt_when_both_deployed, daemon=True).start()
        batch = run_batch(tmp_path, spikes(4), 2, tracker, script=never_ends, real_seconds_per_observe=0.005)
    finally:
        restore()
    assert batch.interrupted is not None
    assert batch.exit_code == EXIT_INTERRUPTED
    assert sorted(tracker.deployed) == sorted(tracker.torn_down)
    assert len(tracker.deployed) == 2
    assert tracker.active == 0
    assert len(batch.records) == 2
    for record in batch.records:
        assert record.decision == "INCOMPLETE"
        assert "interrupted by SIGINT" in (record.incomplete_reason or "")
