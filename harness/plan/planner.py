"""Guardrail planner: predicted abort time and blast radius of a Flagger Canary, before running (pure).

``plan(canary, rps=…, policy=…)`` applies Flagger's timing model (flagger-semantics §3) to the spec:
a healthy run, a fault from the start, at each weight and at a random time, a canary that never
becomes ready, samples per check, traps in the spec, and GO / NO-GO against the policy's blast limits
with the smallest threshold / interval / step change that would meet each failed limit.

Assumptions (keywords of ``plan``):
- ``rps``: requests/s through the ingress, constant; the canary gets ``weight %`` of them.
- ``detection_delay`` D: trigger → detection tick; None = unknown, trigger-relative spans cover
  D ∈ [0, I) and their ``worst`` is the supremum D → I.
- ``check_delay`` δ: fault onset → first check that can see it. Default [inferred, §3.2]: two scrapes
  of ``scrape_interval`` (a new 5xx series needs two samples) plus the window's dilution
  W·(1 − min/100)/e for a fault breaking e = ``fault_error_rate`` of the requests (10.6 s for the
  bundled Prometheus, W = 1m, min 99 %, e = 1); inf when the fault cannot fail the success rate.
- ``readiness_ticks`` r / ``promotion_ticks`` p: ticks waiting for the canary / the primary rollout.
- ``deployment_deadline``: the target Deployment's own progressDeadlineSeconds (Kubernetes: 600 s).
- ``run_seconds``: denominator of the failed-request fraction (default: the policy's experiment
  length, ``progress_deadline_seconds``), at least the case's trigger → decision time.
- ``load``: the scenario's load profile; with it the cohort traps of ``harness.plan.cohort_traps``
  (a captured cohort too small for the minimum sample at ``rps``) are added. The iterations-vs-deadline
  trap needs only the policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.queries import MetricTemplate
from harness.controllers.flagger.weights import max_weight
from harness.durations import format_duration
from harness.errors import InputError
from harness.plan.cohort_traps import cohort_sample_traps, deadline_traps
from harness.plan.core import Core, Params, evaluate
from harness.plan.limits import limit_checks
from harness.plan.measures import Onset, predicted_measures
from harness.plan.model import (
    DEFAULT_DEPLOYMENT_DEADLINE,
    DEFAULT_SCRAPE_INTERVAL,
    Assumptions,
    BlindWindow,
    FaultCase,
    Healthy,
    Plan,
    SampleCheck,
    Span,
    Trap,
)
from harness.plan.plan_output import plan_json, refusal_reasons
from harness.plan.timeline import Run, success_rate_minimum, weight_seconds
from harness.scenario.model import LoadProfile
from harness.scenario.policy import DEFAULT_POLICY, Policy
from harness.verdict.measure import window_counts

__all__ = ["Onset", "Plan", "plan", "plan_to_json", "predicted_measures"]


def plan(
    canary: CanarySpec,
    *,
    rps: float,
    policy: Policy = DEFAULT_POLICY,
    readiness_ticks: int = 0,
    detection_delay: float | None = None,
    fault_error_rate: float = 1.0,
    check_delay: float | None = None,
    promotion_ticks: int = 0,
    scrape_interval: float = DEFAULT_SCRAPE_INTERVAL,
    deployment_deadline: float = DEFAULT_DEPLOYMENT_DEADLINE,
    run_seconds: float | None = None,
    templates: Sequence[MetricTemplate] = (),
    load: LoadProfile | None = None,
) -> Plan:
    """The plan of ``canary`` under the assumptions in the module docstring."""
    _validate(rps, fault_error_rate, readiness_ticks, promotion_ticks, detection_delay, check_delay)
    params = Params(
        rps=rps,
        fault_error_rate=fault_error_rate,
        check_delay=check_delay,
        detection_delay=detection_delay,
        readiness_ticks=readiness_ticks,
        promotion_ticks=promotion_ticks,
        scrape_interval=scrape_interval,
        deployment_deadline=deployment_deadline,
        run_seconds=policy.progress_deadline_seconds if run_seconds is None else run_seconds,
        templates=tuple(templates),
    )
    core = evaluate(canary, params)
    samples = _samples(core, policy)
    traps = core.traps + _computed_traps(core, policy, samples) + deadline_traps(canary, policy)
    if load is not None:  # the cohorts' share of the load, at the plan's (emulated) rps
        traps += cohort_sample_traps(canary, load, policy, rps=rps)
    limits = limit_checks(core, policy)
    reasons = refusal_reasons(limits, traps)
    tl = core.timeline
    return Plan(
        canary=canary.ref,
        source=canary.source,
        strategy=tl.strategy,
        interval=tl.interval,
        threshold=tl.threshold,
        weights=tl.weights,
        max_weight=max_weight(canary.analysis),
        reachable_weight=core.reachable_weight(),
        timeline=tl,
        assumptions=Assumptions(
            rps=rps,
            fault_error_rate=fault_error_rate,
            check_delay=tl.check_delay,
            detection_delay=detection_delay,
            readiness_ticks=readiness_ticks,
            promotion_ticks=promotion_ticks,
            scrape_interval=scrape_interval,
            window=tl.window,
            deployment_deadline=deployment_deadline,
            run_seconds=params.run_seconds,
        ),
        healthy=_healthy(core),
        from_start=_from_start(core),
        at_weights=tuple(_at_weight(core, c.weight, c.onset_at, c.run) for c in core.at_weights),
        random=_random(core),
        blind=_blind(core),
        crash_loop=core.crash,
        samples=samples,
        traps=traps,
        limits=limits,
        verdict="NO-GO" if reasons else "GO",
        reasons=reasons,
    )


def _validate(
    rps: float,
    error_rate: float,
    readiness: int,
    promotion: int,
    detection: float | None,
    delta: float | None,
) -> None:
    problems = []
    if not (math.isfinite(rps) and rps >= 0):
        problems.append(f"rps must be a number ≥ 0, got {rps!r}")
    if not 0 < error_rate <= 1:
        problems.append(f"fault_error_rate must be in (0, 1], got {error_rate!r}")
    if readiness < 0 or promotion < 0:
        problems.append("readiness_ticks and promotion_ticks must be ≥ 0")
    if detection is not None and detection < 0:
        problems.append(f"detection_delay must be ≥ 0, got {detection!r}")
    if delta is not None and delta < 0:
        problems.append(f"check_delay must be ≥ 0, got {delta!r}")
    if problems:
        raise InputError("; ".join(problems))


# ---- plan sections ----------------------------------------------------------------------------------------
def _at(core: Core, tick: int | None) -> float | None:
    return None if tick is None else tick * core.timeline.interval


def _healthy(core: Core) -> Healthy:
    run = core.healthy
    decided = core.decided_at(run)
    return Healthy(
        outcome=run.outcome,
        promote_tick=run.promote_tick,
        promote_at=_at(core, run.promote_tick),
        decided_tick=run.decided_tick,
        decided_at=decided,
        duration=None if decided is None else core.detection.shift(decided),
        max_weight=run.max_weight,
        canary_requests=run.requests(core.params.rps),
    )


def _case(core: Core, run: Run, label: str, onset: str, onset_at: float, latency: Span | None) -> FaultCase:
    decided = core.decided_at(run)
    rolled_back = run.outcome == "rolled-back"
    return FaultCase(
        label=label,
        onset=onset,
        outcome=run.outcome,
        first_failing_at=_at(core, run.first_failing_tick),
        rollback_tick=run.decided_tick if rolled_back else None,
        rollback_at=decided if rolled_back else None,
        latency=latency if rolled_back else None,
        weight_at_abort=run.weight_at_decision if rolled_back else None,
        canary_requests=run.requests(core.params.rps),
        bad_requests=core.bad_requests(run, onset_at),
        decision=None if decided is None else core.detection.shift(decided),
    )


def _from_start(core: Core) -> FaultCase:
    return _case(
        core,
        core.from_start,
        "from start",
        "in the revision (onset = trigger)",
        core.timeline.start_at,
        core.start_latency(),
    )


def _at_weight(core: Core, weight: int, onset_at: float, run: Run) -> FaultCase:
    decided = core.decided_at(run)
    latency = None if decided is None else Span(decided - onset_at, decided - onset_at)
    onset = f"right after the tick that set {weight} % ({format_duration(onset_at)} after detection)"
    return replace(_case(core, run, f"at weight {weight}", onset, onset_at, latency), at_weight=weight)


def _random(core: Core) -> FaultCase:
    rnd, healthy = core.random, core.healthy
    outcome = "rolled-back" if rnd.latency is not None else healthy.outcome
    return FaultCase(
        label="random time",
        onset="uniform over the analysis (start tick → promotion tick)",
        outcome=outcome,
        first_failing_at=None,
        rollback_tick=None,
        rollback_at=None,
        latency=rnd.latency,
        weight_at_abort=rnd.weight_at_abort,
        canary_requests=rnd.mean_canary_requests,
        bad_requests=rnd.worst_bad_requests,
        mean_latency=rnd.mean_latency,
        mean_bad_requests=rnd.mean_bad_requests,
        escape_share=rnd.escape_share,
    )


def _blind(core: Core) -> BlindWindow | None:
    run, tl = core.healthy, core.timeline
    if tl.strategy not in ("canary", "ab-testing", "blue-green") or run.outcome != "promoted":
        return None
    if run.promote_tick is None or run.decided_tick is None:
        return None
    promote_at = run.promote_tick * tl.interval
    opens = promote_at - tl.check_delay if math.isfinite(tl.check_delay) else tl.start_at
    closes = (run.decided_tick - 1) * tl.interval  # Finalising: the canary's last traffic
    bad = tl.error_rate * tl.rps / 100 * weight_seconds(run.segments, max(opens, tl.start_at), closes)
    return BlindWindow(max(opens, tl.start_at), closes, bad)


def _samples(core: Core, policy: Policy) -> tuple[SampleCheck, ...]:
    tl, run = core.timeline, core.nominal
    ticks = [(tl.start_at + j * tl.interval, weight) for j, weight in enumerate(tl.weights, start=1)]
    counts = window_counts(
        ticks, tl.window, lambda start, end: tl.rps / 100 * weight_seconds(run.segments, start, end)
    )
    minimum = policy.min_samples_per_interval
    return tuple(SampleCheck(weight, at, count, count < minimum) for at, weight, count in counts)


def _computed_traps(core: Core, policy: Policy, samples: Sequence[SampleCheck]) -> tuple[Trap, ...]:
    traps = []
    tl = core.timeline
    limit = policy.abort_within_seconds
    if limit is not None and math.isfinite(tl.check_delay):
        traps += _threshold_trap(core, limit)
    low = [s for s in samples if s.low]
    if low:
        seen = [s.samples for s in low if s.samples > 0]
        needed = tl.rps * policy.min_samples_per_interval / min(seen) if seen else math.inf
        load = f"≥ {math.ceil(needed)} req/s" if math.isfinite(needed) else "canary traffic at every check"
        listed = ", ".join(dict.fromkeys(f"{s.weight} %: {s.samples:.0f}" for s in low))
        traps.append(
            Trap(
                "low-samples",
                "warning",
                f"checks see fewer than {policy.min_samples_per_interval} canary requests per "
                f"{format_duration(tl.window)} window at {listed} (at {tl.rps:g} req/s)",
                f"raise the load ({load}), a larger first weight or a longer window",
            )
        )
    if not math.isfinite(tl.check_delay) and core.spec.analysis.metrics:
        minimum, _ = success_rate_minimum(core.spec)
        traps.append(
            Trap(
                "fault-undetectable",
                "warning",
                f"a fault breaking {tl.error_rate:.1%} of requests never takes the success rate below "
                f"{minimum} %: no check fails, nothing rolls back",
                "raise request-success-rate's minimum or add a metric that sees this fault",
            )
        )
    blind = _blind(core)
    if blind is not None:
        traps.append(
            Trap(
                "post-promotion-blind",
                "info",
                f"faults starting from {format_duration(blind.opens_at)} to "
                f"{format_duration(blind.closes_at)} after detection (promotion tick − δ → Finalising) "
                "can no longer roll back; worst "
                f"{blind.bad_requests:.0f} bad canary requests",
                "gate promotion with a confirm-promotion webhook or keep post-rollout checks",
            )
        )
    return tuple(traps)


def _threshold_trap(core: Core, limit: float) -> list[Trap]:
    tl = core.timeline
    best = tl.threshold * tl.interval + tl.check_delay
    worst = best + tl.interval
    if worst <= limit:
        return []
    fit = math.floor((limit - tl.check_delay) / tl.interval) - 1
    remedy = f"threshold ≤ {fit}" if fit >= 1 else "a shorter interval"
    severity: Literal["warning", "error"] = "error" if best > limit else "warning"
    return [
        Trap(
            "threshold-too-high",
            severity,
            f"threshold {tl.threshold} × interval {format_duration(tl.interval)} + δ: a fault is rolled "
            f"back {format_duration(best)}–{format_duration(worst)} after onset, abort_within is "
            f"{format_duration(limit)}",
            remedy,
        )
    ]


# ---- JSON ------------------------------------------------------------------------------------------------
def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-safe data (non-finite numbers → null, tuples → lists)."""
    return plan_json(plan)
