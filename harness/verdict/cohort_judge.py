"""The cohort measures of one run (pure): which expectations apply, on which load, in which window.

Called by ``harness.verdict.judge`` for every run; it adds measures when the scenario declares cohorts or a
``segment_regression``. The experiment's cohorts are
``expect.cohort_boundary`` when given, else every declared cohort. Canary answers are the canary
workload's (``attribution.canary_load``); without the router's workload header the window ends at the
first Promoting/Finalising/Succeeded status, because the estimate cannot split the workloads after it.
"""

from __future__ import annotations

from harness.model import Measure
from harness.scenario.model import Expectations
from harness.verdict.attribution import PRIMARY_HAS_NEW_VERSION, canary_load, workload_recorded
from harness.verdict.cohort import Window, cohort_boundary, segment_finding, segment_regression, users_hurt
from harness.verdict.evidence import Evidence
from harness.verdict.measure import Terminal


def cohort_measures(
    expect: Expectations,
    ev: Evidence,
    trigger: float | None,
    end: Terminal | None,
    cause: str | None,
    default_min_success: float,
) -> list[Measure]:
    """``cohort_boundary``, users hurt inside/outside (with cohorts), ``segment_regression`` (a cohort or a
    route, so also without cohorts) as the scenario asks."""
    wanted = expect.cohorts
    if trigger is None or (not ev.cohorts and wanted.segment is None):
        return []
    inside = wanted.boundary if wanted.boundary is not None else tuple(c.name for c in ev.cohorts)
    served = canary_load(
        ev.load,
        ev.samples,
        ev.canary_version,
        trigger=trigger,
        fault_in_revision=ev.fault_configured is not None and ev.fault_configured.from_start,
    )
    window = _window(ev, trigger)
    measures: list[Measure] = []
    if wanted.boundary is not None:
        measures.append(cohort_boundary(served, inside, ev.cohorts, window, trigger))
    if ev.cohorts:
        measures += users_hurt(
            served,
            inside,
            window,
            inside_limit=wanted.max_users_hurt_inside,
            outside_limit=wanted.max_users_hurt_outside,
        )
    if wanted.segment is not None:
        caught = None if end is None else (end.outcome == "rolled-back" and cause == "failed-checks")
        finding = segment_finding(
            served,
            wanted.segment.kind,
            wanted.segment.name,
            window,
            min_success_rate=ev.min_success_rate if ev.min_success_rate is not None else default_min_success,
            caught=caught,
        )
        measures.append(segment_regression(finding, wanted.segment.caught))
    return measures


def _window(ev: Evidence, trigger: float) -> Window | None:
    if workload_recorded(ev.load):
        return None
    promoted = [s.at for s in ev.samples if s.at >= trigger and s.status.phase in PRIMARY_HAS_NEW_VERSION]
    return (float("-inf"), min(promoted, default=float("inf")))
