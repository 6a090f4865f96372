"""Traps a Rollout and its AnalysisTemplates set for themselves, found before running (pure).

Same ``Trap`` type as the Flagger traps (``harness.plan.traps``). Each rule cites
docs/argo-rollouts-semantics.md: §9.1 pitfalls 1–8, §3.5 (limits), §3.6 (dry-run), §5 (startingStep).

**Minimum sample** (the seed's rolloutGate): an Argo condition sees only ``result``, so a ratio query
cannot tell 3 requests from 3000. What is checkable: (a) whether the analysis has a *sample guard*, a
non-dry-run metric whose query is not a ratio (no ``/``) and whose success condition is a lower bound
``result[0] >= N`` with N ≥ 1 (a request count), and (b) how many canary requests the deciding metric's
query window holds at each healthy measurement at the given rps, against the policy's
``min_samples_per_interval``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.controllers.argo_rollouts.model import (
    AnalysisStep,
    MetricSpec,
    PauseStep,
    RolloutAnalysis,
    RolloutBundle,
    SetWeightStep,
)
from harness.controllers.argo_rollouts.success_rate import lower_bound
from harness.durations import format_duration
from harness.plan.model import Severity, Trap
from harness.plan.rollout_model import RolloutAssumptions, RolloutSample
from harness.plan.rollout_walk import Walk, resolve_metrics
from harness.scenario.policy import Policy

_ERROR_RETRY = 10.0


def rollout_traps(
    bundle: RolloutBundle,
    policy: Policy,
    healthy: Walk,
    a: RolloutAssumptions,
    samples: Sequence[RolloutSample],
) -> tuple[Trap, ...]:
    """Every trap, in a stable order."""
    traps: list[Trap] = []
    traps += _structure(bundle, healthy)
    traps += _background(bundle, policy, healthy)
    traps += _metrics(bundle, policy, healthy, a)
    traps += _samples(bundle, policy, a, samples)
    return tuple(traps)


def _analyses(bundle: RolloutBundle) -> list[tuple[str, RolloutAnalysis]]:
    spec = bundle.rollout
    found = [("background analysis", spec.background)] if spec.background is not None else []
    found += [
        (f"step {i} analysis", s.analysis) for i, s in enumerate(spec.steps) if isinstance(s, AnalysisStep)
    ]
    return found


def _structure(bundle: RolloutBundle, healthy: Walk) -> list[Trap]:
    spec, traps = bundle.rollout, []
    if spec.paused:
        traps.append(
            Trap("spec-paused", "error", "spec.paused: true blocks every step (§2.1)", "unset paused")
        )
    analyses = _analyses(bundle)
    deciding = [m for _, an in analyses for m, dry in resolve_metrics(an, bundle.templates) if not dry]
    if not analyses:
        traps.append(
            Trap(
                "no-analysis",
                "error",
                "no background analysis and no analysis step: nothing can abort the update (§3.7)",
                "add strategy.canary.analysis with startingStep 1 (after the first setWeight)",
            )
        )
    elif not deciding:
        traps.append(
            Trap(
                "dry-run-only",
                "error",
                "every metric is dryRun: measured and reported, never deciding a run: nothing aborts (§3.6)",
                "remove the dryRun rule from at least one metric",
            )
        )
    bg = healthy.background
    for index, step in enumerate(spec.steps):
        if not (isinstance(step, PauseStep) and step.duration is None):
            continue
        start = next((s.start for s in healthy.steps if s.index == index), None)
        covered = (
            bg is not None
            and start is not None
            and any(not m.dry_run for m in bg.metrics)
            and bg.started <= start
            and (bg.at is None or bg.at > start)
        )
        if covered:
            traps.append(
                Trap(
                    "pause-indefinite",
                    "warning",
                    f"step {index} pause {{}}: a healthy canary waits for a human (promote) forever; the "
                    "background analysis still guards it",
                    "give the pause a duration, or accept the manual promotion",
                )
            )
        else:
            traps.append(
                Trap(
                    "pause-indefinite-unguarded",
                    "error",
                    f"step {index} pause {{}} with no analysis running: a failing canary keeps its weight "
                    "forever, it never aborts and never promotes (§9.1 pitfall 1)",
                    "give the pause a duration, or run a background analysis (no count) that covers it",
                )
            )
    for label, analysis in analyses:
        if not label.startswith("step"):
            continue
        for metric, dry in resolve_metrics(analysis, bundle.templates):
            if not dry and metric.effective_count() is None and metric.consecutive_success_limit <= 0:
                traps.append(
                    Trap(
                        "analysis-step-never-completes",
                        "error",
                        f"{label}: metric {metric.name!r} has an interval and no count, so the step's run "
                        "never succeeds and a healthy update never promotes (§3.5, §2.1)",
                        f"set count on {metric.name!r} (or move it to the background analysis)",
                    )
                )
    return traps


def blind_trap(opens_at: float, closes_at: float) -> Trap:
    """Faults starting in [opens_at, promotion) cannot be aborted any more (§9.1 pitfall 4)."""
    return Trap(
        "post-promotion-blind",
        "warning",
        f"faults starting from {format_duration(round(opens_at, 3))} to "
        f"{format_duration(round(closes_at, 3))} after T0 are promoted: too few measurements are left "
        "to reach failureLimit",
        "end the steps with a pause at least (failureLimit + 1) × interval long",
    )


def _background(bundle: RolloutBundle, policy: Policy, healthy: Walk) -> list[Trap]:
    spec, traps = bundle.rollout, list[Trap]()
    bg = spec.background
    if bg is None:
        return traps
    starting = bg.starting_step or 0
    first_setweight = next((i for i, s in enumerate(spec.steps) if isinstance(s, SetWeightStep)), None)
    if starting == 0 or (first_setweight is not None and starting <= first_setweight):
        traps.append(
            Trap(
                "background-from-weight-0",
                "warning",
                "the background analysis starts before the first setWeight, with no canary traffic: a ratio "
                "query returns an empty vector (result[0] → Error) or NaN (Failed) (§9.1 pitfall 2)",
                f"set startingStep: {(first_setweight or 0) + 1} (the step after the first setWeight)",
            )
        )
    before = [(i, s.weight) for i, s in enumerate(spec.steps[:starting]) if isinstance(s, SetWeightStep)]
    guarded_before = any(isinstance(s, AnalysisStep) for s in spec.steps[:starting])
    over = [w for _, w in before if w > policy.max_canary_weight]
    if over and not guarded_before:
        traps.append(
            Trap(
                "background-starts-after-max-weight",
                "error",
                f"startingStep {starting}: the weight reaches {max(over)} % (> the policy's "
                f"{policy.max_canary_weight} %) before the background analysis starts (§5, §9.1 pitfall 2)",
                f"start the background analysis by the step passing {policy.max_canary_weight} %",
            )
        )
    run = healthy.background
    promoted = healthy.outcome == "promoted" and healthy.decided_at is not None
    end = healthy.decided_at if promoted and healthy.decided_at is not None else math.inf
    if run is not None and run.at is not None and run.at < end:
        until = (
            f"the update promotes at {format_duration(round(end, 3))}" if promoted else "the update goes on"
        )
        traps.append(
            Trap(
                "background-ends-early",
                "warning",
                f"the background run completes at {format_duration(round(run.at, 3))} (count reached) but "
                f"{until}: later steps are unguarded (§9.1 pitfall 4)",
                "remove count from the background metrics (they then run until promotion)",
            )
        )
    for metric, dry in resolve_metrics(bg, bundle.templates):
        if not dry and metric.success_condition and metric.failure_condition:
            traps.append(
                Trap(
                    "inconclusive-background",
                    "warning",
                    f"background metric {metric.name!r} has both conditions, so it can be Inconclusive; an "
                    "Inconclusive background run pauses the Rollout but does not hold the steps, which can "
                    "promote (§9.1 pitfall 6, issue #3850)",
                    "use only a successCondition (or a failureCondition) on background metrics",
                )
            )
    return traps


def _metrics(bundle: RolloutBundle, policy: Policy, healthy: Walk, a: RolloutAssumptions) -> list[Trap]:
    traps: list[Trap] = []
    limit = policy.abort_within_seconds
    for label, analysis in _analyses(bundle):
        for metric, dry in resolve_metrics(analysis, bundle.templates):
            if dry:
                traps.append(
                    Trap(
                        "dry-run-metric",
                        "info",
                        f"{label}: metric {metric.name!r} is dryRun: it can never abort (§3.6)",
                        "remove its dryRun rule once it is trusted",
                    )
                )
                continue
            traps += _count_traps(label, metric)
            if limit is not None:
                traps += _slow_limit(label, metric, limit, a)
    if not math.isfinite(a.check_delay) and _analyses(bundle):
        traps.append(
            Trap(
                "fault-undetectable",
                "warning",
                f"a fault breaking {a.fault_error_rate:.1%} of requests never takes the deciding metric "
                "below its success bound: no measurement fails, nothing aborts",
                "raise the success bound or add a metric that sees this fault",
            )
        )
    return traps


def _count_traps(label: str, metric: MetricSpec) -> list[Trap]:
    count = metric.count
    if count and metric.failure_limit >= 0 and count <= metric.failure_limit:
        return [
            Trap(
                "count-cannot-fail",
                "error",
                f"{label}: metric {metric.name!r} has count {count} ≤ failureLimit {metric.failure_limit}: "
                "it can never fail, an all-failing canary passes (§9.1 pitfall 3)",
                f"failureLimit ≤ {count - 1} or count ≥ {metric.failure_limit + 1}",
            )
        ]
    if metric.failure_limit < 0:
        return [
            Trap(
                "failure-limit-disabled",
                "warning",
                f"{label}: metric {metric.name!r} has failureLimit -1: failures never fail it (§1.2)",
                "set failureLimit ≥ 0",
            )
        ]
    return []


def _slow_limit(label: str, metric: MetricSpec, limit: float, a: RolloutAssumptions) -> list[Trap]:
    delay = metric.initial_delay or 0.0
    if a.fault_effect == "error":
        best = delay + metric.consecutive_error_limit * _ERROR_RETRY
        formula = (
            f"initialDelay {format_duration(delay)} + consecutiveErrorLimit "
            f"{metric.consecutive_error_limit} × 10 s"
        )
        worst = best + (metric.interval or _ERROR_RETRY)
    else:
        interval = metric.interval or 0.0
        best = delay + metric.failure_limit * interval
        formula = (
            f"initialDelay {format_duration(delay)} + failureLimit {metric.failure_limit} × interval "
            f"{format_duration(interval)}"
        )
        worst = best + interval
    if math.isfinite(a.check_delay):
        best, worst = best + a.check_delay, worst + a.check_delay
    if worst <= limit:
        return []
    severity: Severity = "error" if best > limit else "warning"
    return [
        Trap(
            "failure-limit-too-slow",
            severity,
            f"{label}: metric {metric.name!r}: {formula} + δ: a fault is aborted "
            f"{format_duration(round(best, 3))}–{format_duration(round(worst, 3))} after onset, "
            f"abort_within is {format_duration(limit)} (§9.1 pitfall 5)",
            "lower failureLimit or the interval",
        )
    ]


def _samples(
    bundle: RolloutBundle, policy: Policy, a: RolloutAssumptions, samples: Sequence[RolloutSample]
) -> list[Trap]:
    traps = []
    for label, analysis in _analyses(bundle):
        metrics = [m for m, dry in resolve_metrics(analysis, bundle.templates) if not dry]
        if metrics and not any(_sample_guard(m) for m in metrics):
            traps.append(
                Trap(
                    "no-minimum-sample",
                    "warning",
                    f"{label}: no metric checks the sample size; a ratio over a handful of canary requests "
                    "decides as if it were significant (rolloutGate: minimum sample)",
                    f"add a metric counting canary requests with successCondition: result[0] >= "
                    f"{policy.min_samples_per_interval}",
                )
            )
    low = [s for s in samples if s.low and s.weight > 0]
    if low:
        listed = ", ".join(dict.fromkeys(f"{s.weight} %: {s.samples:.0f}" for s in low))
        window = format_duration(a.window) if a.window is not None else "?"
        traps.append(
            Trap(
                "low-samples",
                "warning",
                f"measurements see fewer than {policy.min_samples_per_interval} canary requests per {window} "
                f"window at {listed} (at {a.rps:g} req/s)",
                "raise the load, a larger first setWeight or a longer query window",
            )
        )
    return traps


def _sample_guard(metric: MetricSpec) -> bool:
    bound = lower_bound(metric.success_condition)
    return "/" not in metric.provider.query and bound is not None and bound >= 1
