"""Predicted values of the verdict's measures for one fault of an Argo Rollouts run, from the walk (pure).

The Argo counterpart of ``harness.plan.measures.predicted_measures``, with the same measure names and
outcome words (an abort is ``rolled-back``), so ``harness.plan.predict.with_predictions`` can copy them
onto a verdict. T0, the update's start, is the trigger: the Rollout controller starts the update in the
reconcile that sees the new pod template (docs/argo-rollouts-semantics.md §2, step 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.plan.measures import Predicted
from harness.plan.model import DEFAULT_SCRAPE_INTERVAL
from harness.plan.rollout import weight_seconds
from harness.plan.rollout_metrics import deciding_metric, default_check_delay
from harness.plan.rollout_runs import HEALTHY, Fault, FaultEffect
from harness.plan.rollout_walk import Walk, walk
from harness.scenario.policy import DEFAULT_POLICY, Policy
from harness.verdict.path import show_path

RolloutOnset = Literal["start"] | float | tuple[Literal["weight"], int]
_OUTCOME = {"aborted": "rolled-back", "promoted": "promoted", "paused": "paused"}


def rollout_predicted_measures(
    bundle: RolloutBundle,
    onset: RolloutOnset | None,
    *,
    rps: float,
    policy: Policy = DEFAULT_POLICY,
    effect: FaultEffect = "failed",
    fault_error_rate: float = 1.0,
    check_delay: float | None = None,
    readiness_seconds: float = 0.0,
    scrape_interval: float = DEFAULT_SCRAPE_INTERVAL,
    seen_by: Mapping[str, FaultEffect] | None = None,
) -> Predicted:
    """Measures for a fault starting at ``onset`` (None: no fault, the healthy update).

    ``"start"``: the revision is faulty; a float: seconds after the trigger; ``("weight", w)``: right
    after the first ``setWeight`` ≥ w takes effect (never reached: the healthy update). Omitted: what does
    not happen (``abort_within`` without an abort, ``decision_within`` for an update waiting on a pause).
    """
    spec, templates = bundle.rollout, bundle.templates
    delta = check_delay
    if delta is None:
        delta = default_check_delay(deciding_metric(bundle, seen_by), fault_error_rate, scrape_interval)
    healthy = walk(spec, templates, readiness=readiness_seconds)
    onset_at = _onset_seconds(healthy, onset)
    fault = (
        HEALTHY
        if onset_at is None or not math.isfinite(delta)
        else Fault(onset_at + delta, effect, seen_by=seen_by)
    )
    run = healthy if fault is HEALTHY else walk(spec, templates, fault, readiness=readiness_seconds)
    end = run.decided_at if run.outcome in ("aborted", "promoted") else None
    bad = 0.0
    if onset_at is not None:
        until = end if end is not None and run.outcome == "aborted" else math.inf
        bad = fault_error_rate * rps / 100 * weight_seconds(run.writes, onset_at, until)
    out: Predicted = {"max_canary_weight": float(run.max_weight), "max_failed_requests": bad}
    out["weights_walked"] = show_path(_walked(run, len(spec.steps)))
    if run.outcome in _OUTCOME:
        out["outcome"] = _OUTCOME[run.outcome]
    reason = pause_reason(run)
    if reason is not None and run.decided_at is not None:
        out["pause_reason"] = reason
        if onset_at is not None:
            out["pause_within"] = max(0.0, run.decided_at - onset_at)
    if end is not None:
        out["decision_within"] = end
        if rps > 0 and math.isfinite(bad):
            out["max_failed_fraction"] = bad / (rps * max(policy.progress_deadline_seconds, end))
        if run.outcome == "aborted" and onset_at is not None and onset_at <= end:
            out["abort_within"] = end - onset_at
    return out


def pause_reason(run: Walk) -> str | None:
    """The pause condition holding a paused update (§7.1): an indefinite pause step or an Inconclusive run;
    None when it is not held by a pause (an analysis step that never completes stays Progressing)."""
    if run.outcome != "paused":
        return None
    if "Inconclusive" in run.cause:
        return "InconclusiveAnalysisRun"
    if run.cause.startswith("pause {}"):
        return "CanaryPauseStep"
    return None


def _onset_seconds(healthy: Walk, onset: RolloutOnset | None) -> float | None:
    if onset is None:
        return None
    if onset == "start":
        return 0.0
    if isinstance(onset, tuple):
        _, weight = onset
        return next(
            (
                s.end
                for s in healthy.steps
                if s.label.startswith("setWeight") and s.weight >= weight and s.end is not None
            ),
            None,
        )
    return float(onset)


def _walked(run: Walk, steps: int) -> tuple[int, ...]:
    """Distinct canary weights > 0 in write order, without the promotion's 100."""
    out: list[int] = []
    for write in run.writes:
        if write.weight > 0 and write.index < steps and (not out or out[-1] != write.weight):
            out.append(write.weight)
    return tuple(out)
