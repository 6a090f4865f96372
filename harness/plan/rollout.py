"""Guardrail planner for an Argo Rollouts canary: predicted abort time and blast radius before running (pure).

``plan_rollout(bundle, rps=…, policy=…)`` walks the Rollout's steps (``rollout_walk``, which cites the
rules of docs/argo-rollouts-semantics.md) for a healthy canary, a fault from the start, a fault starting
right after each ``setWeight``, the worst onset (just after a measurement, so the next one is the first
to see it: a supremum) and a canary that never becomes ready; then the traps (``rollout_traps``) and the
policy's blast limits, as the Flagger planner does (``harness.plan.planner``).

Assumptions (keywords):
- ``rps``: requests/s through the ingress; the canary gets ``weight %`` of them.
- ``fault_effect``: what a measurement that sees the fault becomes (Failed; Error: the query errors, e.g.
  an empty vector or Prometheus down; Inconclusive).
- ``check_delay`` δ: onset → first measurement that sees it. Default **[inferred]**, as for Flagger: two
  scrapes of ``scrape_interval`` plus the window's dilution W·(1 − X)/e, where W is the range of the
  deciding metric's query (``[1m]``), X the bound of a ``result[0] >= X`` success condition and e =
  ``fault_error_rate``; inf when 1 − e ≥ X (the fault cannot fail the condition); two scrapes when the
  query or the condition do not have that shape.
- ``readiness_seconds``: canary pods are available this long after a scale-up (§2.1).
- ``seen_by``: the metrics that see the fault, each with its effect (``rollout_scenario``); None: all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.durations import format_duration
from harness.errors import InputError
from harness.plan.model import DEFAULT_SCRAPE_INTERVAL
from harness.plan.plan_output import plan_json, refusal_reasons
from harness.plan.rollout_limits import limit_checks
from harness.plan.rollout_metrics import deciding_metric, default_check_delay, query_window
from harness.plan.rollout_model import (
    BlindWindow,
    RolloutAssumptions,
    RolloutCase,
    RolloutPlan,
    RolloutSample,
)
from harness.plan.rollout_runs import Fault, FaultEffect
from harness.plan.rollout_traps import blind_trap, rollout_traps
from harness.plan.rollout_walk import Walk, Write, walk
from harness.scenario.policy import DEFAULT_POLICY, Policy


def plan_rollout(
    bundle: RolloutBundle,
    *,
    rps: float,
    policy: Policy = DEFAULT_POLICY,
    fault_effect: FaultEffect = "failed",
    fault_error_rate: float = 1.0,
    check_delay: float | None = None,
    readiness_seconds: float = 0.0,
    scrape_interval: float = DEFAULT_SCRAPE_INTERVAL,
    run_seconds: float | None = None,
    source: str | None = None,
    seen_by: Mapping[str, FaultEffect] | None = None,
) -> RolloutPlan:
    """The plan of ``bundle``'s Rollout under the assumptions in the module docstring."""
    _validate(rps, fault_error_rate, readiness_seconds, check_delay)
    spec, templates = bundle.rollout, bundle.templates
    deciding = deciding_metric(bundle, seen_by)
    window = query_window(deciding) if deciding is not None else None
    delta = (
        check_delay
        if check_delay is not None
        else default_check_delay(deciding, fault_error_rate, scrape_interval)
    )
    assumptions = RolloutAssumptions(
        rps,
        fault_error_rate,
        fault_effect,
        delta,
        readiness_seconds,
        scrape_interval,
        window,
        policy.progress_deadline_seconds if run_seconds is None else run_seconds,
    )
    healthy_walk = walk(spec, templates, readiness=readiness_seconds)
    healthy = _case("healthy", None, healthy_walk, assumptions)
    from_start = _fault_case(
        "from start", 0.0, Fault(delta, fault_effect, seen_by=seen_by), spec, bundle, assumptions
    )
    at_steps = tuple(
        _fault_case(
            f"at weight {s.weight} (step {s.index})",
            s.end,
            Fault(s.end + delta, fault_effect, seen_by=seen_by),
            spec,
            bundle,
            assumptions,
        )
        for s in healthy_walk.steps
        if s.label.startswith("setWeight") and s.end is not None and s.weight > 0
    )
    worst, blind = _worst_onset(healthy_walk, bundle, assumptions, seen_by)
    never = _case("never ready", None, walk(spec, templates, readiness=None), assumptions)
    samples = _samples(healthy_walk, assumptions, policy)
    traps = rollout_traps(bundle, policy, healthy_walk, assumptions, samples)
    if blind is not None:
        traps += (blind_trap(blind.opens_at, blind.closes_at),)
    cases = (healthy, from_start, *at_steps, *(() if worst is None else (worst,)), never)
    limits = limit_checks(bundle, policy, cases, assumptions)
    reasons = refusal_reasons(limits, traps)
    return RolloutPlan(
        rollout=f"{spec.name}.{spec.namespace}",
        source=source or spec.file,
        controller="argo-rollouts",
        steps=healthy_walk.steps,
        weights=tuple(w.weight for w in healthy_walk.writes if 0 <= w.index < len(spec.steps)),
        assumptions=assumptions,
        healthy=healthy,
        from_start=from_start,
        at_steps=at_steps,
        worst_onset=worst,
        never_ready=never,
        blind=blind,
        samples=samples,
        traps=traps,
        limits=limits,
        verdict="NO-GO" if reasons else "GO",
        reasons=reasons,
    )


def _validate(rps: float, error_rate: float, readiness: float, delta: float | None) -> None:
    problems = []
    if not (math.isfinite(rps) and rps >= 0):
        problems.append(f"rps must be a number ≥ 0, got {rps!r}")
    if not 0 < error_rate <= 1:
        problems.append(f"fault_error_rate must be in (0, 1], got {error_rate!r}")
    if not (math.isfinite(readiness) and readiness >= 0):
        problems.append(f"readiness_seconds must be ≥ 0, got {readiness!r}")
    if delta is not None and delta < 0:
        problems.append(f"check_delay must be ≥ 0, got {delta!r}")
    if problems:
        raise InputError("; ".join(problems))


# ---- cases ---------------------------------------------------------------------------------------------
def _fault_case(
    label: str, onset: float, fault: Fault, spec: Any, bundle: RolloutBundle, a: RolloutAssumptions
) -> RolloutCase:
    if not math.isfinite(fault.visible_from or 0.0):
        fault = Fault(None)
    return _case(label, onset, walk(spec, bundle.templates, fault, readiness=a.readiness_seconds), a)


def _case(label: str, onset: float | None, run: Walk, a: RolloutAssumptions) -> RolloutCase:
    aborted = run.outcome == "aborted" and run.decided_at is not None
    latency = None
    if aborted and onset is not None and run.decided_at is not None:
        latency = max(0.0, run.decided_at - onset)
    bad = 0.0 if onset is None else _bad_requests(run, onset, a)
    return RolloutCase(
        label,
        onset,
        run.outcome,
        run.decided_at,
        run.cause,
        latency,
        run.weight_at_decision if aborted else None,
        run.max_weight,
        bad,
    )


def _bad_requests(run: Walk, onset: float, a: RolloutAssumptions) -> float:
    """Canary requests broken from ``onset`` to the abort; unbounded when the fault is never aborted."""
    if run.outcome != "aborted" or run.decided_at is None:
        return math.inf if any(w.weight > 0 for w in run.writes) else 0.0
    return a.fault_error_rate * a.rps / 100 * weight_seconds(run.writes, onset, run.decided_at)


def weight_seconds(writes: Sequence[Write], start: float, end: float) -> float:
    """∫ canary weight dt over [start, end], the weights as written."""
    total = 0.0
    for current, following in zip(writes, (*writes[1:], None), strict=True):
        until = end if following is None else min(end, following.at)
        since = max(start, current.at)
        if until > since:
            total += current.weight * (until - since)
    return total


def _worst_onset(
    healthy: Walk, bundle: RolloutBundle, a: RolloutAssumptions, seen_by: Mapping[str, FaultEffect] | None
) -> tuple[RolloutCase | None, BlindWindow | None]:
    """Onsets just after each measurement of the healthy update (the next measurement sees the fault)."""
    if not math.isfinite(a.check_delay):
        return None, None
    end = healthy.decided_at if healthy.outcome == "promoted" else None
    worst: RolloutCase | None = None
    blind: BlindWindow | None = None
    for measured in healthy.measurements():
        onset = measured - a.check_delay
        if onset < 0 or (end is not None and onset >= end):
            continue
        fault = Fault(measured, a.fault_effect, strict=True, seen_by=seen_by)
        run = walk(bundle.rollout, bundle.templates, fault, readiness=a.readiness_seconds)
        case = _case(f"worst onset (just after {format_duration(round(onset, 3))})", onset, run, a)
        if case.latency is None:
            if end is not None and blind is None:
                blind = BlindWindow(onset, end)
            continue
        if worst is None or (worst.latency is not None and case.latency > worst.latency):
            worst = case
    return worst, blind


def _samples(healthy: Walk, a: RolloutAssumptions, policy: Policy) -> tuple[RolloutSample, ...]:
    """Canary requests inside the query window at each healthy measurement (the 'minimum sample')."""
    if a.window is None:
        return ()
    out = []
    for at in healthy.measurements():
        weight = next((w.weight for w in reversed(healthy.writes) if w.at <= at and w.weight < 100), 0)
        count = a.rps / 100 * weight_seconds(healthy.writes, max(0.0, at - a.window), at)
        out.append(RolloutSample(at, weight, count, count < policy.min_samples_per_interval))
    return tuple(out)


# ---- JSON ----------------------------------------------------------------------------------------------
def rollout_plan_to_json(plan: RolloutPlan) -> dict[str, Any]:
    """The plan as JSON-safe data (non-finite numbers → null, tuples → lists)."""
    return plan_json(plan)
