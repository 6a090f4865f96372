"""Plan a ``controller: argo-rollouts`` scenario: which metrics see its fault, plan, predictions (pure).

Which AnalysisTemplate metric sees a fault is decided from the metric's own shape (**[inferred]**, the
scenario's expected effect against the condition; docs/argo-rollouts-semantics.md §3.3–§3.4, §13):
- a *ratio* (query with ``/``) with a ``result[0] >= X`` success condition (X ≤ 1) sees the 5xx share e
  of the fault: ratio 1 − e; healthy if 1 − e ≥ X, else Failed, or Inconclusive when a
  ``result[0] < Y`` failure condition does not hold (1 − e ≥ Y). An all-5xx canary (e = 1) empties the
  numerator: without ``or vector(0)`` the ratio is an empty vector and ``result[0]`` an Error;
- a *latency* query (``histogram_quantile(q, …)`` or a ``duration`` series) with ``result[0] <= L`` sees
  added latency: Failed when at least 1 − q of the requests gain more than L (milliseconds when the query
  multiplies by 1000, else seconds);
- any other metric is assumed not to see the fault (the plan then predicts it is never aborted).
"""

from __future__ import annotations

import re
from typing import Any

from harness.controllers.argo_rollouts.model import AnalysisStep, MetricSpec, RolloutBundle
from harness.controllers.argo_rollouts.success_rate import lower_bound
from harness.errors import InputError
from harness.plan.measures import Predicted
from harness.plan.rollout import plan_rollout, rollout_plan_to_json
from harness.plan.rollout_predict import RolloutOnset, rollout_predicted_measures
from harness.plan.rollout_runs import FaultEffect
from harness.plan.rollout_walk import resolve_metrics
from harness.scenario.model import Scenario
from harness.verdict.fault_effect import FaultExpectation, expected_effect

_UPPER = re.compile(r"^\s*result(?:\s*\[\s*0\s*\])?\s*<=?\s*([0-9]*\.?[0-9]+)\s*$")
_QUANTILE = re.compile(r"histogram_quantile\s*\(\s*([0-9.]+)")


def metric_effects(bundle: RolloutBundle, effect: FaultExpectation | None) -> dict[str, FaultEffect]:
    """Per non-dry-run metric name: what the fault makes of its measurements (absent: not seen)."""
    if effect is None:
        return {}
    seen: dict[str, FaultEffect] = {}
    for metric in _metrics(bundle):
        found = _ratio_effect(metric, effect.server_error_fraction) or _latency_effect(metric, effect)
        if found is not None:
            seen[metric.name] = found
    return seen


def _metrics(bundle: RolloutBundle) -> list[MetricSpec]:
    spec = bundle.rollout
    analyses = [spec.background] if spec.background is not None else []
    analyses += [s.analysis for s in spec.steps if isinstance(s, AnalysisStep)]
    return [m for a in analyses for m, dry in resolve_metrics(a, bundle.templates) if not dry]


def _ratio_effect(metric: MetricSpec, error_share: float) -> FaultEffect | None:
    bound = lower_bound(metric.success_condition)
    if "/" not in metric.provider.query or bound is None or bound > 1 or error_share <= 0:
        return None
    ratio = 1 - error_share
    if ratio >= bound:
        return None
    if error_share >= 1 and not re.search(r"\bor\s+vector\s*\(", metric.provider.query):
        return "error"
    upper = _UPPER.match(metric.failure_condition or "")
    if metric.failure_condition and upper is not None and ratio >= float(upper.group(1)):
        return "inconclusive"
    return "failed"


def _latency_effect(metric: MetricSpec, effect: FaultExpectation) -> FaultEffect | None:
    query = metric.provider.query
    upper = _UPPER.match(metric.success_condition or "")
    if upper is None or effect.added_latency_ms <= 0 or not ("duration" in query or "quantile" in query):
        return None
    quantile = _QUANTILE.search(query)
    share_needed = 1 - float(quantile.group(1)) if quantile else 0.5
    limit_ms = float(upper.group(1)) * (1.0 if "1000" in query else 1000.0)
    if effect.latency_fraction >= share_needed and effect.added_latency_ms > limit_ms:
        return "failed"
    return None


def rollout_plan_for(
    scenario: Scenario, *, time_scale: float = 1.0
) -> tuple[dict[str, Any] | None, Predicted]:
    """(plan as JSON, predicted measures) of an argo-rollouts scenario; (None, {}) when unplannable."""
    bundle = scenario.rollout
    if bundle is None:
        return None, {}
    real_rps = scenario.load.rps if scenario.load.rps is not None else scenario.load.rps_at(0.0)
    rps = max(real_rps / time_scale if time_scale > 0 else real_rps, 0.0)
    expectation = expected_effect(scenario)
    seen = metric_effects(bundle, expectation)
    error_rate = expectation.server_error_fraction if expectation is not None else 0.0
    error_rate = error_rate if error_rate > 0 else 1.0
    first: FaultEffect = next(iter(seen.values()), "failed")
    try:
        planned = plan_rollout(
            bundle,
            rps=rps,
            policy=scenario.policy,
            fault_effect=first,
            fault_error_rate=error_rate,
            seen_by=seen or None,  # no metric sees this fault: plan the guardrail for a generic one
        )
    except InputError:
        return None, {}
    onset = _onset(scenario) if expectation is not None and seen else None
    predicted = rollout_predicted_measures(
        bundle,
        onset,
        rps=rps,
        policy=scenario.policy,
        effect=first,
        fault_error_rate=error_rate,
        seen_by=seen,
        check_delay=planned.assumptions.check_delay if seen else None,
    )
    if expectation is not None and expectation.error_fraction > 0 and not seen:
        predicted.pop("max_failed_requests", None)  # not predictable: no metric sees it, nothing bounds it
    return rollout_plan_to_json(planned), predicted


def _onset(scenario: Scenario) -> RolloutOnset | None:
    """The fault's onset in the walk's terms (as ``harness.plan.predict.scenario_onset`` for Flagger)."""
    if scenario.fault is None or scenario.faults_from_start:
        return "start"
    at = scenario.fault.at
    if at.at_weight is not None:
        return ("weight", at.at_weight)
    if at.phase is not None or at.after_detection is not None:
        return None  # Flagger phases and detection ticks have no Argo counterpart
    return float(at.after_seconds or 0.0)


def rollout_analysis_seconds(scenario: Scenario, cap: float) -> tuple[float, str]:
    """``harness.plan.schedule.analysis_seconds`` for an argo-rollouts scenario: trigger → decision."""
    _, predicted = rollout_plan_for(scenario)
    decision = predicted.get("decision_within")
    outcome = predicted.get("outcome")
    if scenario.expect.outcome == "promoted":
        if outcome == "promoted" and isinstance(decision, float):
            return min(decision, cap), "planner: healthy Rollout update"
        return cap, "timing.max_duration (the planner predicts no promotion)"
    candidates: list[tuple[float, str]] = []
    if outcome == "rolled-back" and isinstance(decision, float):
        candidates.append((decision, "planner: Rollout abort"))
    onset = _onset(scenario)
    abort_within = scenario.expect.abort_within_seconds
    if abort_within is not None and onset == "start":
        candidates.append((abort_within, "expect.abort_within (fault from the start)"))
    elif abort_within is not None and isinstance(onset, float):
        candidates.append((onset + abort_within, "fault onset + expect.abort_within"))
    if not candidates:
        return cap, "timing.max_duration (no abort time predicted)"
    seconds, basis = max(candidates)
    return min(seconds, cap), basis
