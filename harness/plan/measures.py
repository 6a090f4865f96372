"""Predicted values of the verdict's measures for one scenario fault, from a plan (pure)."""

from __future__ import annotations

import math
from typing import Literal

from harness.plan.model import Plan, Timeline
from harness.plan.timeline import Run, walk, weight_seconds
from harness.verdict.path import show_path

PhaseName = Literal["Progressing", "Promoting", "Finalising"]
Onset = (
    Literal["start"]
    | float
    | tuple[Literal["weight"], int]
    | tuple[Literal["detection"], float]
    | tuple[Literal["phase"], PhaseName]
)
Predicted = dict[str, float | str]


def predicted_measures(
    plan: Plan, scenario_fault_onset: Onset, *, visible: bool = True, bad_fraction: float | None = None
) -> Predicted:
    """Predicted values of the verdict's measures for a fault starting at ``scenario_fault_onset``.

    ``"start"``: the revision is faulty (onset = trigger); a float: seconds after the trigger;
    ``("weight", w)``: switched on right after the tick that sets a weight ≥ w; ``("detection", s)``: s
    seconds after the detection tick; ``("phase", p)``: right after the tick that enters phase p.
    ``visible``: False when no check can see this fault (``harness.plan.gates``): the canary walks the
    healthy schedule. ``bad_fraction``: share of canary requests the fault breaks (default: the plan's).
    With the detection delay unknown, values are the worst over D ∈ [0, I] (I = the supremum) and
    ``abort_within_best`` the best. Omitted: what cannot be predicted (``max_users_hurt``) or does not
    happen (``abort_within`` without a rollback, ``decision_within`` without a decision).
    """
    interval, detection = plan.timeline.interval, plan.assumptions.detection_delay
    delays = [detection] if detection is not None else [interval * i / 120 for i in range(121)]
    bad = plan.timeline.error_rate if bad_fraction is None else bad_fraction
    results = [_measures_for(plan, scenario_fault_onset, d, visible, bad) for d in delays]
    merged: Predicted = {}
    for key, first in results[0].items():
        values = [r[key] for r in results if key in r]
        merged[key] = first if isinstance(first, str) else max(float(v) for v in values)
    if "abort_within" in merged:
        merged["abort_within_best"] = min(float(r["abort_within"]) for r in results if "abort_within" in r)
    return merged


def _measures_for(plan: Plan, onset: Onset, detection: float, visible: bool, bad_share: float) -> Predicted:
    """Measures for one detection delay D (onsets converted to seconds after the detection tick)."""
    tl, rps = plan.timeline, plan.assumptions.rps
    onset_at, onset_from_trigger, run = _run_for(tl, onset, detection)
    if not visible:
        run = walk(tl)
    end = math.inf if run.decided_tick is None else run.decided_tick * tl.interval
    bad = bad_share * rps / 100 * weight_seconds(run.segments, onset_at, end)
    out: Predicted = {"max_canary_weight": float(run.max_weight), "max_failed_requests": bad}
    out["weights_walked"] = show_path(walked(run))
    out["failed_checks_path"] = show_path(tuple(range(run.failed_checks + 1)))
    if run.first_failing_tick is not None:
        out["first_failed_check_within"] = (
            run.first_failing_tick * tl.interval + detection - onset_from_trigger
        )
    if run.outcome != "undecided":
        out["outcome"] = run.outcome
    if math.isfinite(end):
        out["decision_within"] = end + detection
        if rps > 0:
            out["max_failed_fraction"] = bad / (rps * max(plan.assumptions.run_seconds, end + detection))
        if run.outcome == "rolled-back" and onset_at < end:  # a fault after the decision never happens
            out["abort_within"] = end + detection - onset_from_trigger
    return out


def _run_for(tl: Timeline, onset: Onset, detection: float) -> tuple[float, float, Run]:
    """(onset after P0, onset after the trigger, the walk with that fault)."""
    if onset == "start":
        return tl.start_at, 0.0, walk(tl, tl.start_at)
    if isinstance(onset, tuple) and onset[0] == "weight":
        index = next((i for i, w in enumerate(tl.weights) if w >= onset[1]), None)
        onset_at = math.inf if index is None else tl.start_at + index * tl.interval
        return onset_at, detection + onset_at, walk(tl) if index is None else walk(tl, onset_at, strict=True)
    if isinstance(onset, tuple) and onset[0] == "detection":
        onset_at = float(onset[1])
        return onset_at, detection + onset_at, walk(tl, onset_at)
    if isinstance(onset, tuple) and onset[0] == "phase":
        onset_at = phase_entered_at(tl, onset[1])
        strict = math.isfinite(onset_at)
        return onset_at, detection + onset_at, walk(tl, onset_at, strict=True) if strict else walk(tl)
    assert isinstance(onset, float | int)
    return float(onset) - detection, float(onset), walk(tl, float(onset) - detection)


def phase_entered_at(tl: Timeline, phase: PhaseName) -> float:
    """Seconds after P0 of the tick that enters ``phase`` in a healthy run (inf: never)."""
    if phase == "Progressing":
        return 0.0
    healthy = walk(tl)
    if healthy.promote_tick is None:
        return math.inf
    if phase == "Promoting":
        return healthy.promote_tick * tl.interval
    if healthy.outcome != "promoted" or healthy.decided_tick is None:
        return math.inf
    return (healthy.decided_tick - 1) * tl.interval  # Finalising: the tick before Succeeded


def walked(run: Run) -> tuple[int, ...]:
    """The distinct canary weights > 0 of a walk, in order."""
    weights: list[int] = []
    for _, _, weight in run.segments:
        if weight > 0 and (not weights or weights[-1] != weight):
            weights.append(weight)
    return tuple(weights)
