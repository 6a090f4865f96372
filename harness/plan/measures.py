"""Predicted values of the verdict's measures for one scenario fault, from a plan (pure)."""

from __future__ import annotations

import math
from typing import Literal

from harness.plan.model import Plan
from harness.plan.timeline import walk, weight_seconds

Onset = Literal["start"] | float | tuple[Literal["weight"], int]


def predicted_measures(plan: Plan, scenario_fault_onset: Onset) -> dict[str, float]:
    """Predicted values of the verdict's measures for a fault starting at ``scenario_fault_onset``.

    ``"start"``: the revision is faulty (onset = trigger); a float: seconds after the trigger; or
    ``("weight", w)``: switched on right after the tick that sets a weight ≥ w. With the detection
    delay unknown, values are the worst over D ∈ [0, I] (I = the supremum) and ``abort_within_best``
    the best. Omitted: what cannot be predicted (``max_users_hurt``) or does not happen
    (``abort_within`` without a rollback, ``decision_within`` without a decision).
    """
    interval, detection = plan.timeline.interval, plan.assumptions.detection_delay
    delays = [detection] if detection is not None else [interval * i / 120 for i in range(121)]
    results = [_measures_for(plan, scenario_fault_onset, d) for d in delays]
    merged: dict[str, float] = {}
    for key in results[0]:
        values = [r[key] for r in results if key in r]
        merged[key] = max(values)
    if "abort_within" in merged:
        merged["abort_within_best"] = min(r["abort_within"] for r in results if "abort_within" in r)
    return merged


def _measures_for(plan: Plan, onset: Onset, detection: float) -> dict[str, float]:
    """Measures for one detection delay D (onsets converted to seconds after the detection tick)."""
    tl, rps = plan.timeline, plan.assumptions.rps
    if onset == "start":
        onset_at, onset_from_trigger = tl.start_at, 0.0
        run = walk(tl, onset_at)
    elif isinstance(onset, tuple):
        index = next((i for i, w in enumerate(tl.weights) if w >= onset[1]), None)
        onset_at = math.inf if index is None else tl.start_at + index * tl.interval
        onset_from_trigger = detection + onset_at
        run = walk(tl) if index is None else walk(tl, onset_at, strict=True)
    else:
        onset_at, onset_from_trigger = float(onset) - detection, float(onset)
        run = walk(tl, onset_at)
    end = math.inf if run.decided_tick is None else run.decided_tick * tl.interval
    bad = tl.error_rate * rps / 100 * weight_seconds(run.segments, onset_at, end)
    out = {"max_canary_weight": float(run.max_weight), "max_failed_requests": bad}
    if math.isfinite(end):
        out["decision_within"] = end + detection
        if rps > 0:
            out["max_failed_fraction"] = bad / (rps * max(plan.assumptions.run_seconds, end + detection))
        if run.outcome == "rolled-back" and onset_at < end:  # a fault after the decision never happens
            out["abort_within"] = end + detection - onset_from_trigger
    return out
