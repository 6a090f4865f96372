"""Canary weight progression (``scheduler.go`` ``maxWeight``/``nextStepWeight``/``runCanary``, spec §2.5)."""

from __future__ import annotations

from harness.controllers.flagger.model import AnalysisSpec

TOTAL_WEIGHT = 100


def max_weight(analysis: AnalysisSpec) -> int:
    """Last ``stepWeights`` element (≤ 100), else ``maxWeight`` when > 0, else 100."""
    if analysis.step_weights:
        return min(TOTAL_WEIGHT, analysis.step_weights[-1])
    if analysis.max_weight > 0:
        return analysis.max_weight
    return TOTAL_WEIGHT


def next_step_weight(analysis: AnalysisSpec, canary_weight: int) -> int:
    """The increment Flagger applies at ``canary_weight`` (may overshoot maxWeight)."""
    steps = analysis.step_weights
    if analysis.step_weight > 0 or not steps:
        return analysis.step_weight
    max_step = TOTAL_WEIGHT - canary_weight
    if max_step == 0:
        return 1  # at 100 any non-zero step moves the canary to promotion
    if canary_weight == 0:
        return min(max_step, steps[0])
    for index in range(len(steps) - 1):
        if steps[index] == canary_weight:
            return min(max_step, steps[index + 1] - canary_weight)
    return max_step


def advanced_weights(analysis: AnalysisSpec, canary_weight: int) -> tuple[int, int]:
    """(primary, canary) after one ``runCanary`` advance from ``canary_weight`` (no mirroring)."""
    step = next_step_weight(analysis, canary_weight)
    primary = max(TOTAL_WEIGHT - canary_weight - step, 0)
    canary = min(canary_weight + step, TOTAL_WEIGHT)
    return primary, canary


def promotion_step(analysis: AnalysisSpec, primary_weight: int, canary_weight: int) -> tuple[int, int]:
    """(primary, canary) after one ``stepWeightPromotion`` shift back to the primary."""
    step = analysis.step_weight_promotion
    return min(primary_weight + step, TOTAL_WEIGHT), max(canary_weight - step, 0)


def weight_schedule(analysis: AnalysisSpec) -> tuple[int, ...]:
    """Canary weights of a healthy run, one per passing tick, until ≥ maxWeight (empty if it stalls)."""
    weights: list[int] = []
    weight, cap = 0, max_weight(analysis)
    while weight < cap:
        if next_step_weight(analysis, weight) <= 0 or len(weights) > TOTAL_WEIGHT:
            return ()
        weight = advanced_weights(analysis, weight)[1]
        weights.append(weight)
    return tuple(weights)


def promotion_schedule(analysis: AnalysisSpec, canary_weight: int) -> tuple[tuple[int, int], ...]:
    """(primary, canary) per Promoting tick with ``stepWeightPromotion`` > 0, until primary is 100."""
    if analysis.step_weight_promotion <= 0 or canary_weight <= 0:
        return ()
    steps = []
    primary, canary = TOTAL_WEIGHT - canary_weight, canary_weight
    while primary < TOTAL_WEIGHT and canary > 0:
        primary, canary = promotion_step(analysis, primary, canary)
        steps.append((primary, canary))
    return tuple(steps)
