"""Policy blast limits against a plan's worst cases, and the smallest spec change meeting each (pure).

Each remedy search re-evaluates the Canary with one field changed and keeps the change closest to
the current value: threshold down to the largest k that meets the limit, interval down to the largest
whole number of seconds ≥ 10 s (a value the CRD pattern ``^[0-9]+(m|s)`` accepts), stepWeight or
maxWeight to values that neither overshoot nor exceed the limit, progressDeadlineSeconds down.
Threshold and deadline searches bisect (the figures are monotone in them); interval and weight
searches scan from the current value down.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.weights import max_weight
from harness.durations import format_duration
from harness.plan.core import Core, evaluate
from harness.plan.model import LimitCheck
from harness.scenario.flagger_canary import MIN_INTERVAL_SECONDS
from harness.scenario.policy import Policy

Figure = Callable[[Core], float | None]


def limit_checks(core: Core, policy: Policy) -> tuple[LimitCheck, ...]:
    checks = [_weight_check(core, policy)]
    if policy.abort_within_seconds is not None:
        checks.append(_abort_check(core, policy.abort_within_seconds))
    if policy.max_failed_fraction is not None:
        checks.append(_fraction_check(core, policy.max_failed_fraction))
    max_failed = getattr(policy, "max_failed_requests", None)  # not a Policy field yet; used if added
    if isinstance(max_failed, int | float):
        checks.append(_failed_requests_check(core, float(max_failed)))
    checks.append(_decision_check(core, policy.progress_deadline_seconds))
    return tuple(checks)


# ---- the limits ------------------------------------------------------------------------------------------
def _weight_check(core: Core, policy: Policy) -> LimitCheck:
    reach, limit = core.reachable_weight(), policy.max_canary_weight
    remedies = () if reach <= limit else _weight_remedies(core.spec, limit)
    note = "highest canary weight a run sets (overshoot and A/B/B-G on Traefik included)"
    return LimitCheck("max_canary_weight", reach, limit, "%", reach <= limit, note, remedies)


def _abort_check(core: Core, limit: float) -> LimitCheck:
    worst = core.worst_abort()
    passed = worst is not None and worst <= limit
    note = "worst fault onset → rollback (from the start, at each weight, at a random time)"
    if worst is None:
        note = "some fault is never rolled back; " + note
    remedies = () if passed else _timing_remedies(core, Core.worst_abort, limit, deadline=False)
    return LimitCheck("abort_within", worst, limit, "s", passed, note, remedies)


def _fraction_check(core: Core, limit: float) -> LimitCheck:
    worst = core.worst_failed_fraction()
    passed = worst is not None and worst <= limit
    note = f"worst bad / all requests over max({core.params.run_seconds:g} s, trigger → decision)"
    remedies: tuple[str, ...] = ()
    if not passed:
        remedies = _timing_remedies(core, Core.worst_failed_fraction, limit, deadline=False)
        remedies += _step_remedies(core, Core.worst_failed_fraction, limit, smaller=True)
    return LimitCheck("max_failed_fraction", worst, limit, "", passed, note, remedies)


def _failed_requests_check(core: Core, limit: float) -> LimitCheck:
    worst = core.worst_bad()
    passed = math.isfinite(worst) and worst <= limit
    figure: Figure = Core.worst_bad
    remedies: tuple[str, ...] = ()
    if not passed:
        remedies = _timing_remedies(core, figure, limit, deadline=False)
        remedies += _step_remedies(core, figure, limit, smaller=True)
    note = "worst canary requests broken by the fault before the decision"
    return LimitCheck("max_failed_requests", worst, limit, "requests", passed, note, remedies)


def _decision_check(core: Core, limit: float) -> LimitCheck:
    worst = core.worst_decision()
    passed = worst is not None and worst <= limit
    note = "worst trigger → Succeeded/Failed (healthy, faulty, never ready)"
    if worst is None:
        note = "some run never decides; " + note
    remedies: tuple[str, ...] = ()
    if not passed:
        remedies = _timing_remedies(core, Core.worst_decision, limit, deadline=True)
        remedies += _step_remedies(core, Core.worst_decision, limit, smaller=False)
    return LimitCheck("decision_within", worst, limit, "s", passed, note, remedies)


# ---- remedy searches ---------------------------------------------------------------------------------------
def _meets(figure: Figure, limit: float) -> Callable[[Core], bool]:
    def check(core: Core) -> bool:
        value = figure(core)
        return value is not None and value <= limit

    return check


def _timing_remedies(core: Core, figure: Figure, limit: float, *, deadline: bool) -> tuple[str, ...]:
    spec, meets = core.spec, _meets(figure, limit)
    remedies = []
    threshold = spec.analysis.threshold
    best = _largest(1, threshold - 1, lambda k: meets(_eval(core, with_threshold(spec, k))))
    if best is not None:
        remedies.append(f"threshold {threshold} → {best}")
    interval = spec.analysis.interval_seconds
    top = math.ceil(interval) - 1
    # Not monotone: below δ a fault at the last weight escapes to promotion, so scan down from the top.
    seconds = next(
        (
            s
            for s in range(top, int(MIN_INTERVAL_SECONDS) - 1, -1)
            if meets(_eval(core, with_interval(spec, s)))
        ),
        None,
    )
    if seconds is not None:
        remedies.append(f"interval {format_duration(interval)} → {interval_text(seconds)}")
    if deadline:
        pds = spec.progress_deadline_seconds
        floor = math.ceil(core.params.readiness_ticks * interval)  # a slow-but-healthy canary must survive it
        found = _largest(
            floor, pds - 1, lambda d: meets(_eval(core, replace(spec, progress_deadline_seconds=d)))
        )
        if found is not None:
            remedies.append(f"progressDeadlineSeconds {pds} → {found}")
    if not remedies:
        remedies.append("no single threshold, interval or deadline change meets this limit")
    return tuple(remedies)


def _step_remedies(core: Core, figure: Figure, limit: float, *, smaller: bool) -> tuple[str, ...]:
    """Linear canary steps: a lower maxWeight (``smaller``, keeping stepWeight) or a larger stepWeight
    dividing maxWeight (fewer steps), the closest one meeting the limit."""
    spec, meets = core.spec, _meets(figure, limit)
    analysis = spec.analysis
    if core.timeline.strategy != "canary" or analysis.step_weights or analysis.step_weight <= 0:
        return ()
    cap, step = max_weight(analysis), analysis.step_weight
    if smaller:
        for lower in range((cap - 1) // step * step, 0, -step):
            if meets(_eval(core, replace(spec, analysis=replace(analysis, max_weight=lower)))):
                return (f"maxWeight {cap} → {lower} (keeps stepWeight {step})",)
        return ()
    for candidate in range(step + 1, cap + 1):
        if cap % candidate == 0 and meets(_eval(core, with_step(spec, candidate))):
            return (f"stepWeight {step} → {candidate} (divides maxWeight {cap})",)
    return ()


def _weight_remedies(spec: CanarySpec, limit: int) -> tuple[str, ...]:
    analysis = spec.analysis
    if analysis.iterations > 0:
        return ("use the canary strategy with maxWeight ≤ " + str(limit),)
    if analysis.step_weights:
        kept = [w for w in analysis.step_weights if w < limit] + [limit]
        return (f"stepWeights {list(analysis.step_weights)} → {kept}",)
    step, cap = analysis.step_weight, max_weight(analysis)
    remedies = []
    if step > 0 and (limit // step) * step > 0:
        remedies.append(f"maxWeight {cap} → {(limit // step) * step} (keeps stepWeight {step})")
    if step > 0:
        divisor = max(d for d in range(1, min(step, limit) + 1) if limit % d == 0)
        if divisor == step and remedies:
            pass  # the maxWeight change above already keeps this step
        elif cap == limit:
            remedies.append(f"stepWeight {step} → {divisor} (divides maxWeight {cap})")
        else:
            remedies.append(f"maxWeight {cap} → {limit} with stepWeight {step} → {divisor}")
    return tuple(remedies)


def _largest(low: int, high: int, ok: Callable[[int], bool]) -> int | None:
    """Largest x in [low, high] with ok(x), for ok true below some bound (bisection)."""
    if high < low or not ok(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _eval(core: Core, spec: CanarySpec) -> Core:
    return evaluate(spec, core.params)


# ---- spec variants --------------------------------------------------------------------------------------
def with_threshold(spec: CanarySpec, threshold: int) -> CanarySpec:
    return replace(spec, analysis=replace(spec.analysis, threshold=threshold))


def with_interval(spec: CanarySpec, seconds: int) -> CanarySpec:
    analysis = replace(spec.analysis, interval_seconds=float(seconds), interval_raw=interval_text(seconds))
    return replace(spec, analysis=analysis)


def with_step(spec: CanarySpec, step: int) -> CanarySpec:
    return replace(spec, analysis=replace(spec.analysis, step_weight=step))


def interval_text(seconds: int) -> str:
    """A Flagger-valid interval: whole minutes as ``Nm``, else ``Ns``."""
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
