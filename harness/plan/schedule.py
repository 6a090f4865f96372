"""The schedule of a set of runs: each scenario's predicted wall time, the slots, the whole set (pure).

A run is deploy → warm-up → trigger … decision → recovery → teardown. The part between the trigger and
the decision comes from the planner (``harness.plan``, Flagger's timing model); warm-up and recovery
are the scenario's own; all three are run-clock seconds and last ``1 / time_scale`` as long in real
time. Deploy and teardown are real time on any clock (``StartupEstimate``).

``--parallel N`` runs the scenarios on N slots; the schedule packs them longest first onto the slot
that frees up first (LPT list scheduling), which is exactly what ``harness.execute`` does: its workers
take the scenarios in schedule order as they free up. Wall time of the set = the latest slot end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.controllers.argo_rollouts.model import PauseStep
from harness.errors import InputError
from harness.plan.planner import plan, predicted_measures
from harness.plan.predict import scenario_onset
from harness.scenario.model import Scenario

ROLLOUT_START_UP = 120.0  # trigger → first weight on the local backend, measured 35–160 s at ×60


@dataclass(frozen=True)
class StartupEstimate:
    """Real seconds outside the analysis, per run. Kubernetes defaults assume kind with the image loaded.

    ``deploy_seconds``: namespace + server-side apply (≈ 5 s), image present on the node (0 s on kind after
    ``kind load``; add the pull time on other clusters), primary rollout to ready (≈ 15 s), Flagger's
    control loop picking up the new Canary (≤ 10 s), event receiver ready (≈ 5 s), Locust start (≈ 5 s).
    Flagger then initialises on its own tick grid: ``init_intervals`` analysis intervals (scaled).
    ``teardown_seconds``: stopping Locust and the namespace delete call (deletion finishes in the
    background; namespaces are unique per run, so nothing waits for it).
    """

    deploy_seconds: float = 40.0
    init_intervals: int = 2
    teardown_seconds: float = 5.0


LOCAL_STARTUP = StartupEstimate(deploy_seconds=3.0, init_intervals=2, teardown_seconds=1.0)


@dataclass(frozen=True)
class ScheduleEntry:
    """One scenario's predicted wall time, by part (real seconds)."""

    scenario_id: str
    file: str
    deploy: float
    warmup: float
    analysis: float  # trigger → decision
    recovery: float
    teardown: float
    basis: str  # where ``analysis`` comes from
    index: int = 0  # position in the list of runs given to ``make_schedule``
    slot: int = 0
    start: float = 0.0

    @property
    def seconds(self) -> float:
        return self.deploy + self.warmup + self.analysis + self.recovery + self.teardown

    @property
    def end(self) -> float:
        return self.start + self.seconds


@dataclass(frozen=True)
class Schedule:
    backend: str
    time_scale: float
    parallel: int
    startup: StartupEstimate
    entries: tuple[ScheduleEntry, ...]  # in run order

    @property
    def total_seconds(self) -> float:
        return max((e.end for e in self.entries), default=0.0)

    @property
    def serial_seconds(self) -> float:
        return sum(e.seconds for e in self.entries)

    def slots(self) -> list[list[ScheduleEntry]]:
        lanes: list[list[ScheduleEntry]] = [[] for _ in range(self.parallel)]
        for entry in self.entries:
            lanes[entry.slot].append(entry)
        return lanes

    def entry(self, scenario_id: str) -> ScheduleEntry | None:
        return next((e for e in self.entries if e.scenario_id == scenario_id), None)


def analysis_seconds(scenario: Scenario) -> tuple[float, str]:
    """Predicted trigger → decision, run-clock seconds, and its basis; capped at ``timing.max_duration``.

    Promotion: the planner's healthy run (worst detection delay). Rollback: the later of the planner's
    rollback (it models a fault failing the success rate) and the scenario's own bound, fault onset +
    ``expect.abort_within`` (a latency or readiness fault may take until then and still be GO).
    """
    cap = scenario.timing.max_duration_seconds
    rps = scenario.load.rps if scenario.load.rps is not None else scenario.load.rps_at(0.0)
    if scenario.canary is None:
        return _without_plan(scenario, cap)
    try:
        planned = plan(scenario.canary, rps=max(rps, 0.0), policy=scenario.policy)
    except InputError:
        return cap, "timing.max_duration (the Canary cannot be planned)"
    expect = scenario.expect
    if expect.outcome == "promoted":
        if planned.healthy.outcome == "promoted" and planned.healthy.duration is not None:
            return min(planned.healthy.duration.worst, cap), "planner: healthy run, worst detection delay"
        return cap, "timing.max_duration (the planner predicts no promotion)"
    candidates: list[tuple[float, str]] = []
    onset = scenario_onset(scenario)
    if scenario.fault is not None or scenario.revision.faults:
        predicted = predicted_measures(planned, onset)
        decision = predicted.get("decision_within")
        if "abort_within" in predicted and isinstance(decision, int | float):
            candidates.append((float(decision), "planner: rollback, worst detection delay"))
    if expect.abort_within_seconds is not None and onset == "start":
        candidates.append((expect.abort_within_seconds, "expect.abort_within (fault from the start)"))
    elif expect.abort_within_seconds is not None and isinstance(onset, (int, float)):
        candidates.append((float(onset) + expect.abort_within_seconds, "fault onset + expect.abort_within"))
    if not candidates:
        return cap, "timing.max_duration (no rollback time predicted)"
    seconds, basis = max(candidates)
    return min(seconds, cap), basis


def _without_plan(scenario: Scenario, cap: float) -> tuple[float, str]:
    """A controller with no planner yet (Argo Rollouts): the Rollout's timed pauses, or the expectations."""
    expect, onset = scenario.expect, scenario_onset(scenario)
    if expect.outcome == "rolled-back" and expect.abort_within_seconds is not None:
        start = float(onset) if isinstance(onset, int | float) else 0.0
        return min(start + expect.abort_within_seconds, cap), "fault onset + expect.abort_within (no plan)"
    pauses = sum(
        step.duration or 0.0
        for step in (scenario.rollout.rollout.steps if scenario.rollout else ())
        if isinstance(step, PauseStep)
    )
    if expect.outcome == "promoted" and pauses:
        return min(pauses + ROLLOUT_START_UP, cap), "the Rollout's timed pauses + 2m start-up (no plan)"
    return cap, f"timing.max_duration (no plan for {scenario.controller} yet)"


def predict(scenario: Scenario, *, time_scale: float, startup: StartupEstimate) -> ScheduleEntry:
    """One scenario's wall time at ``time_scale`` (run-clock seconds per real second)."""
    analysis, basis = analysis_seconds(scenario)
    interval = scenario.canary.analysis.interval_seconds if scenario.canary else 1.0
    return ScheduleEntry(
        scenario_id=scenario.id,
        file=str(scenario.file),
        deploy=startup.deploy_seconds + startup.init_intervals * interval / time_scale,
        warmup=scenario.timing.warmup_seconds / time_scale,
        analysis=analysis / time_scale,
        recovery=scenario.timing.recovery_seconds / time_scale,
        teardown=startup.teardown_seconds,
        basis=basis,
    )


def make_schedule(
    scenarios: Sequence[Scenario],
    *,
    backend: str,
    time_scale: float,
    parallel: int,
    startup: StartupEstimate,
    repeat: int = 1,
) -> Schedule:
    """Pack every run (``repeat`` per scenario) onto ``parallel`` slots, longest first."""
    if parallel < 1:
        raise InputError(f"--parallel: expected an integer ≥ 1, found {parallel}")
    runs = [predict(s, time_scale=time_scale, startup=startup) for s in scenarios for _ in range(repeat)]
    runs = [replace(entry, index=index) for index, entry in enumerate(runs)]
    # One slot: the given order (the total is the same). More: longest first (LPT).
    ordered = (
        list(enumerate(runs))
        if parallel == 1
        else sorted(enumerate(runs), key=lambda item: (-item[1].seconds, item[0]))
    )
    free_at = [0.0] * parallel
    placed = []
    for _, entry in ordered:
        slot = min(range(parallel), key=lambda i: (free_at[i], i))
        placed.append(replace(entry, slot=slot, start=free_at[slot]))
        free_at[slot] += entry.seconds
    return Schedule(backend, time_scale, parallel, startup, tuple(placed))


def entry_to_json(e: ScheduleEntry) -> dict[str, Any]:
    return {
        "scenario": e.scenario_id,
        "file": e.file,
        "slot": e.slot + 1,
        "start_seconds": round(e.start, 1),
        "seconds": round(e.seconds, 1),
        "parts": {
            "deploy": round(e.deploy, 1),
            "warmup": round(e.warmup, 1),
            "analysis": round(e.analysis, 1),
            "recovery": round(e.recovery, 1),
            "teardown": round(e.teardown, 1),
        },
        "analysis_basis": e.basis,
    }


def schedule_to_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "backend": schedule.backend,
        "time_scale": schedule.time_scale,
        "parallel": schedule.parallel,
        "startup": {
            "deploy_seconds": schedule.startup.deploy_seconds,
            "init_intervals": schedule.startup.init_intervals,
            "teardown_seconds": schedule.startup.teardown_seconds,
        },
        "scenarios": [entry_to_json(e) for e in schedule.entries],
        "slots": [[e.scenario_id for e in lane] for lane in schedule.slots()],
        "serial_seconds": round(schedule.serial_seconds, 1),
        "total_seconds": math.ceil(schedule.total_seconds),
    }
