"""The plan computed before a run, and its predictions attached to the verdict (predicted vs measured)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.errors import InputError
from harness.model import Measure, Verdict
from harness.plan.planner import Onset, plan, plan_to_json, predicted_measures
from harness.scenario.model import Scenario


def scenario_onset(scenario: Scenario) -> Onset:
    """When the scenario's fault starts, in the planner's terms."""
    if scenario.fault is None or scenario.faults_from_start:
        return "start"
    if scenario.fault.at.at_weight is not None:
        return ("weight", scenario.fault.at.at_weight)
    return float(scenario.fault.at.after_seconds or 0.0)


def plan_for(scenario: Scenario) -> tuple[dict[str, Any] | None, dict[str, float]]:
    """(plan as JSON, predicted measures); (None, {}) when the spec cannot be planned."""
    rps = scenario.load.rps if scenario.load.rps is not None else scenario.load.rps_at(0.0)
    try:
        planned = plan(scenario.canary, rps=max(rps, 0.0), policy=scenario.policy)
    except InputError:
        return None, {}
    predicted = (
        predicted_measures(planned, scenario_onset(scenario))
        if scenario.fault or scenario.revision.faults
        else {}
    )
    return plan_to_json(planned), predicted


def with_predictions(verdict: Verdict, predicted: dict[str, float]) -> Verdict:
    """Copy predicted figures onto the measures of the same name."""
    measures: list[Measure] = [
        replace(m, predicted=round(predicted[m.name], 3)) if m.name in predicted else m
        for m in verdict.measures
    ]
    return replace(verdict, measures=tuple(measures))
