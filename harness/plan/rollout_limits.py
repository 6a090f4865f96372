"""Policy blast limits against an Argo Rollouts plan's worst cases (pure), as ``limits`` does for Flagger.

Remedies are arithmetic on the deciding metric (docs/argo-rollouts-semantics.md §0 and §9 pitfall 5: an
all-failing canary aborts ``initialDelay + failureLimit × interval`` after the run's first measurement
that sees the fault; a late onset adds up to one interval, δ adds the check delay).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.controllers.argo_rollouts.model import RolloutBundle, SetWeightStep
from harness.durations import format_duration
from harness.plan.model import LimitCheck
from harness.plan.rollout_metrics import deciding_metric
from harness.plan.rollout_model import RolloutAssumptions, RolloutCase
from harness.scenario.policy import Policy


def limit_checks(
    bundle: RolloutBundle, policy: Policy, cases: Sequence[RolloutCase], a: RolloutAssumptions
) -> tuple[LimitCheck, ...]:
    faults = [c for c in cases if c.onset is not None]
    checks = [_weight_check(bundle, policy, cases)]
    if policy.abort_within_seconds is not None:
        checks.append(_abort_check(bundle, faults, policy.abort_within_seconds, a))
    if policy.max_failed_fraction is not None:
        checks.append(_fraction_check(faults, policy.max_failed_fraction, a))
    checks.append(_decision_check(cases, policy.progress_deadline_seconds))
    return tuple(checks)


def _weight_check(bundle: RolloutBundle, policy: Policy, cases: Sequence[RolloutCase]) -> LimitCheck:
    reach, limit = max(c.max_weight for c in cases), policy.max_canary_weight
    remedies: tuple[str, ...] = ()
    if reach > limit:
        over = [
            f"step {i} setWeight {s.weight}"
            for i, s in enumerate(bundle.rollout.steps)
            if isinstance(s, SetWeightStep) and s.weight > limit
        ]
        remedies = (f"lower {', '.join(over)} to ≤ {limit} (the last step's 100 % is the promotion)",)
    note = "highest canary weight before promotion or abort, over every case"
    return LimitCheck("max_canary_weight", reach, limit, "%", reach <= limit, note, remedies)


def _abort_check(
    bundle: RolloutBundle, faults: Sequence[RolloutCase], limit: float, a: RolloutAssumptions
) -> LimitCheck:
    if any(c.latency is None for c in faults if not c.label.startswith("worst onset")):
        worst = None
    else:
        worst = max((c.latency for c in faults if c.latency is not None), default=None)
    passed = worst is not None and worst <= limit
    note = "worst fault onset → abort (from the start, after each setWeight, just after a measurement)"
    if worst is None:
        note = "some fault is never aborted; " + note
    remedies = () if passed else _timing_remedies(bundle, limit, a)
    if worst is None:
        remedies = (*_escape_remedies(bundle, a), *remedies)
    return LimitCheck("abort_within", worst, limit, "s", passed, note, remedies)


def _timing_remedies(bundle: RolloutBundle, limit: float, a: RolloutAssumptions) -> tuple[str, ...]:
    metric = deciding_metric(bundle)
    if metric is None:
        return ("add an analysis (background or a step) that can fail",)
    if not math.isfinite(a.check_delay):
        return ("add a metric that sees this fault",)
    remedies = []
    interval = metric.interval or 0.0
    budget = limit - a.check_delay - (metric.initial_delay or 0.0)
    if a.fault_effect == "error":
        fit = math.floor(budget / 10.0) - 1
        if 0 <= fit < metric.consecutive_error_limit:
            remedies.append(f"consecutiveErrorLimit {metric.consecutive_error_limit} → {fit}")
    elif interval > 0:
        fit = math.floor(budget / interval) - 1  # the onset may miss one interval
        if 0 <= fit < metric.failure_limit:
            remedies.append(f"failureLimit {metric.failure_limit} → {fit} on {metric.name!r}")
        shorter = math.floor(budget / (metric.failure_limit + 1))
        if 0 < shorter < interval:
            remedies.append(
                f"interval {format_duration(interval)} → {format_duration(shorter)} on {metric.name!r}"
            )
    if bundle.rollout.background is not None and bundle.rollout.background.starting_step:
        remedies.append("start the background analysis earlier (startingStep)")
    return tuple(remedies) or ("no single failureLimit / interval change meets this limit",)


def _escape_remedies(bundle: RolloutBundle, a: RolloutAssumptions) -> tuple[str, ...]:
    """A fault after the last setWeight needs failureLimit + 1 measurements before the promotion."""
    metric = deciding_metric(bundle)
    if metric is None or not metric.interval or not math.isfinite(a.check_delay):
        return ()
    needed = a.check_delay + (metric.initial_delay or 0.0) + (metric.failure_limit + 1) * metric.interval
    return (f"end the steps with a pause ≥ {format_duration(math.ceil(needed))} after the last setWeight",)


def _fraction_check(faults: Sequence[RolloutCase], limit: float, a: RolloutAssumptions) -> LimitCheck:
    worst: float | None = 0.0
    for case in faults:
        if not math.isfinite(case.bad_requests):
            worst = None
            break
        span = max(a.run_seconds, case.decided_at or 0.0)
        total = a.rps * span
        fraction = case.bad_requests / total if total > 0 else 0.0
        worst = max(worst or 0.0, fraction)
    passed = worst is not None and worst <= limit
    note = f"worst bad / all requests over max({a.run_seconds:g} s, T0 → decision)"
    return LimitCheck("max_failed_fraction", worst, limit, "", passed, note)


def _decision_check(cases: Sequence[RolloutCase], limit: float) -> LimitCheck:
    ends = [None if c.outcome == "paused" else c.decided_at for c in cases]
    worst = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    passed = worst is not None and worst <= limit
    note = "worst T0 → promoted/aborted/Degraded (healthy, faulty, never ready); a pause never decides"
    return LimitCheck("decision_within", worst, limit, "s", passed, note)
