"""Run-time faults by phase and by offset from detection, switched on at the right moment (FakeClock)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.clock import FakeClock
from harness.controllers.flagger.model import Phase
from harness.scenario.model import FaultPlan, FaultTrigger, Scenario
from harness.testing.run import FakeBackend, FakeLoad, ScriptStep

from .test_runner import run, spike

PROMOTED = (
    ScriptStep(30, Phase.PROGRESSING, 0, 0, ("New revision detected! Scaling up faulty-app.canary-chaos",)),
    ScriptStep(90, Phase.PROGRESSING, 10),
    ScriptStep(150, Phase.PROGRESSING, 20),
    ScriptStep(210, Phase.PROMOTING, 20),
    ScriptStep(270, Phase.FINALISING, 0),
    ScriptStep(330, Phase.SUCCEEDED, 0, 0, ("Promotion completed! Scaling down faulty-app.canary-chaos",)),
)
ERRORS = ({"kind": "http_errors", "rate": 1.0},)


def healthy_traffic(t: float) -> dict[str, tuple[int, int]]:
    return {"1.0.0": (100, 0)}


def scenario_with(trigger: FaultTrigger) -> Scenario:
    base = spike()
    return replace(base, revision=replace(base.revision, faults=()), fault=FaultPlan(ERRORS, trigger))


class TestFaultTriggers:
    @pytest.mark.parametrize(
        ("trigger", "after_trigger"),
        [
            (FaultTrigger(None, phase="Promoting"), 210),
            (FaultTrigger(None, phase="Finalising"), 270),
            (FaultTrigger(None, phase="Progressing"), 30),
            (FaultTrigger(None, after_detection=100.0), 130),
            (FaultTrigger(None, after_detection=0.0), 30),
        ],
    )
    def test_the_fault_is_set_on_the_canary_at_the_planned_moment(self, trigger, after_trigger):
        """set_canary_faults runs on the first poll at/after the moment (polls are 1 s apart here)."""
        clock = FakeClock()
        backend = FakeBackend(clock, PROMOTED)
        runner, outcome = run(scenario_with(trigger), backend, FakeLoad(clock, healthy_traffic))
        mark = runner.recorder.timeline.first_mark("trigger")
        assert mark is not None
        assert outcome.complete
        assert len(backend.faults_set) == 1
        at, faults = backend.faults_set[0]
        assert after_trigger <= at - mark.at < after_trigger + 1.001
        assert faults == ERRORS
        fault_on = runner.recorder.timeline.first_mark("fault_on")
        assert fault_on is not None
        assert fault_on.at == at

    def test_a_phase_the_run_never_reaches_never_switches_the_fault_on(self):
        """A rolled-back canary never shows Promoting: no fault, so the verdict can say it never reached."""
        clock = FakeClock()
        rollback = (*PROMOTED[:3], ScriptStep(210, Phase.FAILED, 0))
        backend = FakeBackend(clock, rollback)
        runner, _ = run(
            scenario_with(FaultTrigger(None, phase="Promoting")), backend, FakeLoad(clock, healthy_traffic)
        )
        assert backend.faults_set == []
        assert runner.recorder.timeline.first_mark("fault_on") is None
