"""The planner's numbers for one Canary and one set of assumptions (pure; no policy, no text).

``evaluate`` resolves the spec into a ``Timeline`` and walks it for a healthy canary, a fault from
the start, a fault switched on at each weight the run reaches, and a fault at a random time; the
``worst_*`` figures are what the policy limits are judged on (and what remediation searches re-run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.queries import MetricTemplate, traffic_window
from harness.plan.model import (
    DEFAULT_DEPLOYMENT_DEADLINE,
    DEFAULT_SCRAPE_INTERVAL,
    CrashLoop,
    Span,
    Timeline,
    Trap,
)
from harness.plan.timeline import (
    BUILTIN,
    RandomOnset,
    Run,
    crash_loop,
    default_check_delay,
    promotion_weights,
    random_onset,
    schedule,
    strategy_of,
    walk,
    weight_seconds,
)
from harness.plan.traps import ALWAYS_FAIL, spec_traps


@dataclass(frozen=True)
class Params:
    """Planning assumptions; see ``harness.plan.planner.plan`` for their meaning and defaults."""

    rps: float
    fault_error_rate: float = 1.0
    check_delay: float | None = None
    detection_delay: float | None = None
    readiness_ticks: int = 0
    promotion_ticks: int = 0
    scrape_interval: float = DEFAULT_SCRAPE_INTERVAL
    deployment_deadline: float = DEFAULT_DEPLOYMENT_DEADLINE
    run_seconds: float = 600.0
    templates: tuple[MetricTemplate, ...] = ()


@dataclass(frozen=True)
class WeightCase:
    weight: int
    onset_at: float  # after P0: the tick that set the weight (the fault starts right after it)
    run: Run


@dataclass(frozen=True)
class Core:
    spec: CanarySpec
    params: Params
    timeline: Timeline
    traps: tuple[Trap, ...]
    detection: Span  # D
    healthy: Run
    nominal: Run  # healthy run with no trap failing the checks (for samples and the blind window)
    from_start: Run
    at_weights: tuple[WeightCase, ...]
    random: RandomOnset
    crash: CrashLoop

    # ---- figures judged against the policy -------------------------------------------------------------
    def start_latency(self) -> Span | None:
        """Trigger → rollback of a canary bad from its first request."""
        if self.from_start.outcome != "rolled-back" or self.from_start.decided_tick is None:
            return None
        return self.detection.shift(self.from_start.decided_tick * self.timeline.interval)

    def worst_abort(self) -> float | None:
        """Worst onset → rollback over every fault case; None when some fault is never rolled back."""
        start = self.start_latency()
        if start is None:
            return None
        worst = start.worst
        for case in self.at_weights:
            if case.run.outcome != "rolled-back" or case.run.decided_tick is None:
                return None
            worst = max(worst, case.run.decided_tick * self.timeline.interval - case.onset_at)
        if self.healthy.outcome == "promoted":
            if self.random.latency is None:
                return None
            worst = max(worst, self.random.latency.worst)
        return worst

    def bad_requests(self, run: Run, onset: float) -> float:
        end = self.decided_at(run)
        exposure = weight_seconds(run.segments, onset, math.inf if end is None else end)
        return self.params.fault_error_rate * self.params.rps / 100 * exposure

    def decided_at(self, run: Run) -> float | None:
        return None if run.decided_tick is None else run.decided_tick * self.timeline.interval

    def worst_bad(self) -> float:
        values = [self.bad_requests(self.from_start, self.timeline.start_at), self.random.worst_bad_requests]
        values += [self.bad_requests(c.run, c.onset_at) for c in self.at_weights]
        return max(values)

    def worst_failed_fraction(self) -> float | None:
        """Worst bad / all requests, over max(run_seconds, trigger → decision) of the case."""
        if self.params.rps <= 0:
            return None
        cases = [(self.from_start, self.timeline.start_at)] + [(c.run, c.onset_at) for c in self.at_weights]
        fractions = []
        for run, onset in cases:
            end = self.decided_at(run)
            seconds = math.inf if end is None else self.detection.worst + end
            fractions.append(
                self.bad_requests(run, onset) / (self.params.rps * max(self.params.run_seconds, seconds))
            )
        if self.random.latency is not None:  # latest rollback of a random onset: A_n + T·I
            tl = self.timeline
            latest = tl.start_at + (len(tl.weights) + tl.threshold) * tl.interval + self.detection.worst
            seconds = max(self.params.run_seconds, latest)
            fractions.append(self.random.worst_bad_requests / (self.params.rps * seconds))
        return max(fractions)

    def worst_decision(self) -> float | None:
        """Worst trigger → Succeeded/Failed over healthy, faulty and crash-looping canaries."""
        runs = [self.healthy, self.from_start, *(c.run for c in self.at_weights)]
        ends = [self.decided_at(run) for run in runs]
        if any(end is None for end in ends):
            return None
        return max([self.crash.rollback_at, *(end for end in ends if end is not None)]) + self.detection.worst

    def reachable_weight(self) -> int:
        return max(self.timeline.weights, default=0)


def evaluate(spec: CanarySpec, params: Params) -> Core:
    """Every run the plan reports, for ``spec`` under ``params``."""
    traps = spec_traps(spec, params.templates)
    timeline = build_timeline(spec, params, always_fail=any(t.code in ALWAYS_FAIL for t in traps))
    interval = timeline.interval
    if params.detection_delay is None:
        detection = Span(0.0, interval)
    else:
        detection = Span(params.detection_delay, params.detection_delay)
    healthy = walk(timeline)
    nominal = walk(replace(timeline, checks_always_fail=False, zero_traffic_fails=False))
    start = timeline.start_at
    return Core(
        spec=spec,
        params=params,
        timeline=timeline,
        traps=traps,
        detection=detection,
        healthy=healthy,
        nominal=nominal,
        from_start=walk(timeline, start),
        at_weights=_weight_cases(timeline, healthy),
        random=random_onset(timeline, healthy),
        crash=crash_loop(timeline, detection),
    )


def _weight_cases(timeline: Timeline, healthy: Run) -> tuple[WeightCase, ...]:
    """One case per distinct weight the healthy run reaches, fault on right after the tick setting it."""
    reached = {w for _, _, w in healthy.segments}
    cases, seen = [], set()
    for index, weight in enumerate(timeline.weights):
        if weight in seen or (weight not in reached and weight != 0) or (weight == 0 and index > 0):
            continue
        seen.add(weight)
        onset = timeline.start_at + index * timeline.interval
        cases.append(WeightCase(weight, onset, walk(timeline, onset, strict=True)))
    return tuple(cases)


def build_timeline(spec: CanarySpec, params: Params, *, always_fail: bool = False) -> Timeline:
    strategy = strategy_of(spec)
    weights = schedule(spec, strategy)
    error_rate = params.fault_error_rate
    delta = params.check_delay
    if delta is None:
        delta = default_check_delay(spec, params.scrape_interval, error_rate)
    return Timeline(
        interval=spec.analysis.interval_seconds,
        threshold=max(1, spec.analysis.threshold),
        strategy=strategy,
        weights=weights,
        promotion_weights=promotion_weights(spec, weights),
        readiness_ticks=params.readiness_ticks,
        promotion_ticks=params.promotion_ticks,
        check_delay=delta,
        checks_always_fail=always_fail,
        zero_traffic_fails=any(m.name in BUILTIN for m in spec.analysis.metrics),
        success_rate_checked=any(m.name == "request-success-rate" for m in spec.analysis.metrics),
        window=traffic_window(spec),
        rps=params.rps,
        error_rate=error_rate,
        deadline=min(float(spec.progress_deadline_seconds), params.deployment_deadline),
    )
