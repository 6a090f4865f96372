"""What a run observed, as the verdict reads it (pure data), and how a scenario fills in its defaults."""

from __future__ import annotations

from dataclasses import dataclass

from harness.controllers.flagger.model import CanaryEvent, MetricResult
from harness.controllers.registry import controller_named
from harness.model import LoadBucket, Mark, StatusSample
from harness.scenario.model import Cohort, Scenario
from harness.verdict.fault_effect import FaultExpectation, expected_effect


@dataclass(frozen=True)
class Evidence:
    """Everything a run observed, in emulated seconds on the run clock."""

    samples: tuple[StatusSample, ...]
    events: tuple[CanaryEvent, ...]
    checks: tuple[MetricResult, ...]
    load: tuple[LoadBucket, ...]
    marks: tuple[Mark, ...]
    interval_seconds: float
    stable_version: str
    canary_version: str
    fault_configured: FaultExpectation | None = None
    progress_deadline_seconds: float = 600.0  # the controller spec's
    complete: bool = True
    missing: tuple[str, ...] = ()  # evidence known to be missing, e.g. "load generator died"
    time_scale: float = 1.0  # emulated seconds per real second (load latencies are real milliseconds)
    metric_window_seconds: float = 60.0  # the builtin metrics' query window (``interval`` of the metric)
    cohorts: tuple[Cohort, ...] = ()  # the scenario's load.cohorts (the records name them)
    min_success_rate: float | None = None  # the controller spec's success-rate check minimum, percent


def evidence_for(scenario: Scenario, **observed: object) -> Evidence:
    """Evidence with the scenario's versions, interval, deadline and expected fault effect filled in."""
    timing = controller_named(scenario.controller).timing_of(scenario.controller_spec)
    defaults: dict[str, object] = {
        "samples": (),
        "events": (),
        "checks": (),
        "load": (),
        "marks": (),
        "interval_seconds": timing.interval_seconds,
        "stable_version": scenario.stable.version,
        "canary_version": scenario.revision.version,
        "fault_configured": expected_effect(scenario),
        "progress_deadline_seconds": timing.progress_deadline_seconds,
        "metric_window_seconds": timing.metric_window_seconds,
        "cohorts": scenario.load.cohorts,
        "min_success_rate": timing.min_success_rate,
    }
    defaults.update(observed)
    return Evidence(**defaults)  # type: ignore[arg-type]
