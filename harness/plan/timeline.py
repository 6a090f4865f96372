"""Flagger's tick model as the planner uses it (pure; flagger-semantics §2.2, §2.5, §2.9, §3).

``walk`` steps the grid after the detection tick P0 with the few rules that decide timing:
P0 scales the canary up; ``readiness_ticks`` ticks wait for it; the start tick S sets the first weight
(no metrics); each later tick first rolls back once ``failedChecks ≥ threshold``, else runs the
checks: a failure counts and holds the weight, a pass advances the weight or, after the last weight,
promotes. Promoting waits ``promotion_ticks`` for the primary, shifts traffic back (one tick, or one
per ``stepWeightPromotion`` step), and the tick after Finalising is Succeeded.

A check fails when the fault is visible (``t ≥ onset + δ``), when a trap makes every check fail, or
when builtin metrics see no canary request in their window ("no values found", §9.1: no weight, or
fewer than one expected request at ``rps``). A canary whose
every request fails from its first one has no non-5xx series at all, so request-success-rate's
numerator is empty and every check after the onset is "no values found" whatever δ is (§4.2, §9.1).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.queries import BUILTIN_METRICS, metric_window
from harness.controllers.flagger.weights import promotion_schedule, weight_schedule
from harness.plan.model import CrashLoop, Outcome, Span, Strategy, Timeline

BUILTIN = BUILTIN_METRICS
MIN_EXPECTED_REQUESTS = 1.0  # fewer expected canary requests in a window: "no values found" (§9.1)
Segment = tuple[float, float, int]  # (from, to, canary weight %), seconds after P0


@dataclass(frozen=True)
class Run:
    """One walk of the grid; ticks are grid indices after P0."""

    outcome: Outcome
    decided_tick: int | None
    promote_tick: int | None
    first_failing_tick: int | None
    weight_at_decision: int  # weight in effect on the deciding tick (before a rollback resets it)
    segments: tuple[Segment, ...]
    failed_checks: int = 0  # failedChecks when the run was decided

    def requests(self, rps: float, start: float = -math.inf, end: float = math.inf) -> float:
        """Canary requests served in [start, end)."""
        return rps / 100 * weight_seconds(self.segments, start, end)

    @property
    def max_weight(self) -> int:
        return max((w for _, _, w in self.segments), default=0)


@dataclass
class _Track:
    """The canary weight over time while walking."""

    segments: list[Segment] = field(default_factory=list)
    weight: int = 0
    since: float = 0.0

    def set(self, at: float, weight: int) -> None:
        if weight == self.weight:
            return
        if self.weight > 0 and at > self.since:
            self.segments.append((self.since, at, self.weight))
        self.weight, self.since = weight, at

    def closed(self, end: float) -> tuple[Segment, ...]:
        tail = [(self.since, end, self.weight)] if self.weight > 0 and end > self.since else []
        return tuple(self.segments + tail)


def weight_seconds(segments: tuple[Segment, ...], start: float, end: float) -> float:
    """∫ weight dt over [start, end) (weight in percent)."""
    return sum(w * max(0.0, min(b, end) - max(a, start)) for a, b, w in segments)


def walk(tl: Timeline, onset: float | None = None, *, strict: bool = False) -> Run:
    """Run the grid with a fault from ``onset`` (seconds after P0; None = healthy).

    ``strict``: the fault is switched on right after a tick at ``onset``, so that tick cannot see it.
    """
    interval, track = tl.interval, _Track()
    start_tick = 1 + tl.readiness_ticks
    if tl.strategy == "skip-analysis":
        return Run("promoted", start_tick, start_tick, None, 0, ())
    if tl.strategy in ("suspended", "mirror", "stalled") or not tl.weights:
        return Run("undecided", None, None, None, 0, ())
    track.set(start_tick * interval, tl.weights[0])
    failed = passes = 0
    first_failing: int | None = None
    tick = start_tick
    while True:  # each tick counts a failure or a pass: ≤ len(weights) + threshold + 1 rounds
        tick += 1
        at = tick * interval
        if failed >= tl.threshold:
            weight = track.weight
            track.set(at, 0)
            return Run("rolled-back", tick, None, first_failing, weight, track.closed(at), failed)
        if _check_fails(tl, track, at, onset, strict):
            failed += 1
            first_failing = tick if first_failing is None else first_failing
            continue
        passes += 1
        if passes < len(tl.weights):
            track.set(at, tl.weights[passes])
            continue
        break
    promote_tick, weight = tick, track.weight
    if not tl.promotion_weights:  # stepWeightPromotion with the canary at 0: stuck Promoting (PR #1692)
        return Run("undecided", None, promote_tick, first_failing, weight, track.closed(math.inf), failed)
    tick += tl.promotion_ticks
    for promotion_weight in tl.promotion_weights:
        tick += 1
        track.set(tick * interval, promotion_weight)
    tick += 1
    return Run("promoted", tick, promote_tick, first_failing, weight, track.closed(tick * interval), failed)


def _check_fails(tl: Timeline, track: _Track, at: float, onset: float | None, strict: bool) -> bool:
    if tl.checks_always_fail:
        return True
    visible = onset is not None and math.isfinite(tl.check_delay) and at >= onset + tl.check_delay
    if visible and (not strict or at > (onset or 0.0)):
        return True
    if _no_success_series(tl, track, at, onset):
        return True
    if not tl.zero_traffic_fails:
        return False
    if tl.rps <= 0 or not _traffic_since(track, at - tl.window, at):
        return True
    return tl.rps / 100 * weight_seconds(track.closed(at), at - tl.window, at) < MIN_EXPECTED_REQUESTS


def _no_success_series(tl: Timeline, track: _Track, at: float, onset: float | None) -> bool:
    """All-5xx canary that never served a healthy request: success rate has no values (§4.2)."""
    if onset is None or tl.error_rate < 1 or not tl.success_rate_checked or at <= onset:
        return False
    return not _traffic_since(track, -math.inf, onset)


def _traffic_since(track: _Track, start: float, end: float) -> bool:
    """Did the canary get any weight during [start, end)? (Segments are in time order.)"""
    if track.weight > 0 and track.since < end:
        return True
    for a, b, _ in reversed(track.segments):
        if b <= start:
            return False
        if a < end:
            return True
    return False


# ---- a fault at a uniformly random time during the analysis ------------------------------------------
@dataclass(frozen=True)
class RandomOnset:
    latency: Span | None
    mean_latency: float | None
    weight_at_abort: int | None  # worst
    mean_canary_requests: float
    worst_bad_requests: float
    mean_bad_requests: float
    escape_share: float


def random_onset(tl: Timeline, healthy: Run) -> RandomOnset:
    """Onset uniform over [S, A_n] of a healthy run; first failing tick A_j = first tick ≥ onset + δ.

    Latency = A_j + T·I − onset ∈ [T·I + δ, (T+1)·I + δ); onsets after A_n − δ escape (promotion).
    Means are exact integrals over the onset.
    """
    interval, delta = tl.interval, tl.check_delay
    start, count = tl.start_at, len(tl.weights)
    end = start + count * interval
    if healthy.outcome != "promoted" or count == 0 or not math.isfinite(delta):
        return RandomOnset(None, None, None, 0.0, 0.0, 0.0, 1.0 if healthy.outcome == "promoted" else 0.0)
    exposure = _Exposure(tl, healthy)
    lows, highs, worst_bad, weights = [], [], 0.0, []
    for j in range(1, count + 1):
        tick_at = start + j * interval
        low = max(start, tick_at - interval - delta) if j > 1 else start
        high = min(end, tick_at - delta)
        if high < low:
            continue
        lows.append(tick_at - high + tl.threshold * interval)
        highs.append(tick_at - low + tl.threshold * interval)
        worst_bad = max(worst_bad, exposure.bad(low, j))
        weights.append(tl.weights[j - 1])
    # Exact means: between these breaks the first failing tick and the weight at the onset are constant,
    # so latency and exposure are linear in the onset and their mean is their value at the midpoint.
    breaks = {start, end, *(t for a, b, _ in healthy.segments for t in (a, b))}
    breaks |= {start + j * interval - delta for j in range(1, count + 1)}
    points = sorted(t for t in breaks if start <= t <= end)
    detected = latency_sum = canary_sum = bad_sum = 0.0
    for low, high in pairwise(points):
        middle, length = (low + high) / 2, high - low
        j = _first_tick(tl, middle)
        if length <= 0 or j > count:
            continue
        detected += length
        latency_sum += length * (start + j * interval + tl.threshold * interval - middle)
        canary_sum += length * exposure.canary(j)
        bad_sum += length * exposure.bad(middle, j)
    escape = 1 - detected / (end - start)
    if detected <= 0:
        return RandomOnset(None, None, None, 0.0, 0.0, 0.0, escape)
    return RandomOnset(
        latency=Span(min(lows), max(highs)),
        mean_latency=latency_sum / detected,
        weight_at_abort=max(weights),
        mean_canary_requests=canary_sum / detected,
        worst_bad_requests=worst_bad,
        mean_bad_requests=bad_sum / detected,
        escape_share=escape,
    )


def _first_tick(tl: Timeline, onset: float) -> int:
    """Index j ≥ 1 of the first analysis tick A_j = S + j·I with A_j ≥ onset + δ."""
    return max(1, math.ceil((onset + tl.check_delay - tl.start_at) / tl.interval - 1e-9))


class _Exposure:
    """Canary weight-seconds of a fault first seen at A_j: the healthy schedule up to A_j, then T·I at w_j."""

    def __init__(self, tl: Timeline, healthy: Run) -> None:
        self._tl = tl
        self._starts = [a for a, _, _ in healthy.segments]
        self._segments = healthy.segments
        self._before = [0.0]
        for a, b, w in healthy.segments:
            self._before.append(self._before[-1] + w * (b - a))

    def _cumulative(self, at: float) -> float:
        """∫ weight from −∞ to ``at`` (segments are sorted and disjoint)."""
        index = bisect_right(self._starts, at)
        if index == 0:
            return 0.0
        a, b, w = self._segments[index - 1]
        return self._before[index - 1] + w * (min(at, b) - a)

    def _frozen(self, onset: float, j: int) -> float:
        tl = self._tl
        tick_at = tl.start_at + j * tl.interval
        return (
            self._cumulative(tick_at)
            - self._cumulative(onset)
            + tl.weights[j - 1] * tl.threshold * tl.interval
        )

    def canary(self, j: int) -> float:
        return self._tl.rps / 100 * self._frozen(self._tl.start_at, j)

    def bad(self, onset: float, j: int) -> float:
        return self._tl.error_rate * self._tl.rps / 100 * self._frozen(onset, j)


# ---- crash loop, detection delay, spec → timeline -----------------------------------------------------
def crash_loop(tl: Timeline, detection: Span) -> CrashLoop:
    """Never-ready canary: rollback on the first tick k with k·I > deadline (strict, §2.7)."""
    tick = math.floor(tl.deadline / tl.interval) + 1
    at = tick * tl.interval
    return CrashLoop(tl.deadline, tick, at, detection.shift(at))


def success_rate_minimum(spec: CanarySpec) -> tuple[float | None, float]:
    """(minimum %, window) of the builtin request-success-rate check; minimum None when absent."""
    for metric in spec.analysis.metrics:
        if metric.name == "request-success-rate":
            bounds = metric.threshold_range
            minimum = bounds.min if bounds is not None else metric.threshold
            return minimum, metric_window(metric)
    return None, 60.0


def default_check_delay(spec: CanarySpec, scrape_interval: float, error_rate: float) -> float:
    """δ [inferred, §3.2]: two scrapes for a new 5xx series, plus the window's dilution.

    With error share e after the onset and success-rate minimum m %, the window of W seconds fails
    once the faulty part x satisfies e·x/W > 1 − m/100, so x = W·(1 − m/100)/e. A fault that can never
    push the success rate below m (e ≤ 1 − m/100) is invisible to it: inf, unless other metrics or
    rollout webhooks could see it (then only the scrape delay is assumed).
    """
    analysis = spec.analysis
    if not analysis.metrics and not any(h.type == "rollout" for h in analysis.webhooks):
        return math.inf
    base = 2 * scrape_interval
    minimum, window = success_rate_minimum(spec)
    if minimum is None or minimum <= 0:
        return base
    allowed = 1 - minimum / 100
    if error_rate > allowed:
        return base + window * allowed / error_rate
    others = [m for m in analysis.metrics if m.name not in BUILTIN]
    return base if others else math.inf


def strategy_of(spec: CanarySpec) -> Strategy:
    analysis = spec.analysis
    if spec.suspend:
        return "suspended"
    if spec.skip_analysis:
        return "skip-analysis"
    if analysis.iterations > 0:
        return "ab-testing" if analysis.match else "blue-green"
    if analysis.mirror:
        return "mirror"  # the Traefik router never reports mirroring: weight 0 forever (§2.11)
    return "canary" if weight_schedule(analysis) else "stalled"


def schedule(spec: CanarySpec, strategy: Strategy) -> tuple[int, ...]:
    """Weights set by the start tick and each passing analysis tick (§2.5, §2.11 on Traefik)."""
    iterations = spec.analysis.iterations
    if strategy == "canary":
        return weight_schedule(spec.analysis)
    if strategy == "ab-testing":
        return (100,) * iterations  # the match is ignored: every iteration routes 0/100
    if strategy == "blue-green":
        return (0,) * iterations + (100,)  # iterations at weight 0, then "Routing all traffic to canary"
    return ()


def promotion_weights(spec: CanarySpec, weights: tuple[int, ...]) -> tuple[int, ...]:
    """Canary weight after each Promoting shift; () when Promoting would be stuck."""
    if spec.analysis.step_weight_promotion <= 0:
        return (0,)
    last = weights[-1] if weights else 0
    return tuple(canary for _, canary in promotion_schedule(spec.analysis, last))
