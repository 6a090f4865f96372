"""The plan computed before a run, and its predictions attached to the verdict (predicted vs measured)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.errors import InputError
from harness.model import Measure, Verdict
from harness.plan.gates import visible_share
from harness.plan.measures import Onset, Predicted, predicted_measures
from harness.plan.planner import plan, plan_to_json
from harness.scenario.model import Scenario
from harness.verdict.fault_effect import expected_effect


def scenario_onset(scenario: Scenario) -> Onset:
    """When the scenario's fault starts, in the planner's terms."""
    if scenario.fault is None or scenario.faults_from_start:
        return "start"
    at = scenario.fault.at
    if at.at_weight is not None:
        return ("weight", at.at_weight)
    if at.phase is not None:
        return ("phase", at.phase)
    if at.after_detection is not None:
        return ("detection", at.after_detection)
    return float(at.after_seconds or 0.0)


def plan_for(scenario: Scenario, *, time_scale: float = 1.0) -> tuple[dict[str, Any] | None, Predicted]:
    """(plan as JSON, predicted measures); (None, {}) when the spec cannot be planned.

    ``load.rps`` is real requests per real second; the plan runs on emulated seconds, so it gets
    ``rps / time_scale`` (at ``--time-scale 60`` a 1m window holds one real second of load).

    The prediction models this scenario's fault (``harness.plan.gates``): when its effect crosses no
    check's threshold (or there is no fault), the canary is predicted to walk the healthy schedule.
    """
    if scenario.canary is None:  # no planner for this controller yet (Argo Rollouts: branch issue-15p)
        return None, {}
    real_rps = scenario.load.rps if scenario.load.rps is not None else scenario.load.rps_at(0.0)
    rps = real_rps / time_scale if time_scale > 0 else real_rps
    effect = expected_effect(scenario)
    share = visible_share(scenario.canary, effect)
    try:
        planned = plan(
            scenario.canary, rps=max(rps, 0.0), policy=scenario.policy, fault_error_rate=share or 1.0
        )
    except InputError:
        return None, {}
    predicted = predicted_measures(
        planned,
        scenario_onset(scenario),
        visible=share is not None,
        bad_fraction=effect.error_fraction if effect is not None else 0.0,
    )
    return plan_to_json(planned), predicted


def with_predictions(verdict: Verdict, predicted: Predicted) -> Verdict:
    """Copy predicted figures onto the measures of the same name."""
    measures: list[Measure] = [
        replace(m, predicted=_rounded(predicted[m.name])) if m.name in predicted else m
        for m in verdict.measures
    ]
    return replace(verdict, measures=tuple(measures))


def _rounded(value: float | str) -> float | str:
    return value if isinstance(value, str) else round(value, 3)
