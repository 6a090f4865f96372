"""Figures measured from a run's timeline (pure): trigger, fault onset, terminal phase, rollback time,
rates per load bucket, baseline, recovery and rollback cause.

All times are emulated seconds on the run clock. Nothing here judges; ``harness.verdict.judge`` does.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, Phase
from harness.model import NO_VERSION, LoadBucket, Mark, StatusSample

ACTIVE_PHASES = frozenset(
    {Phase.PROGRESSING, Phase.WAITING, Phase.WAITING_PROMOTION, Phase.PROMOTING, Phase.FINALISING}
)


@dataclass(frozen=True)
class Terminal:
    """The run's decision: phase, when Flagger entered it, and the sample that showed it."""

    phase: Phase
    at: float  # condition Promoted lastUpdateTime when present (never lastTransitionTime), else sample time
    sample: StatusSample

    @property
    def outcome(self) -> str:
        return "rolled-back" if self.phase == Phase.FAILED else "promoted"


def first_mark(
    marks: Iterable[Mark], kind: str, detail: str | None = None, after: float | None = None
) -> Mark | None:
    for mark in sorted(marks, key=lambda m: m.at):
        if (
            mark.kind == kind
            and (detail is None or mark.detail == detail)
            and (after is None or mark.at >= after)
        ):
            return mark
    return None


def trigger_time(marks: Iterable[Mark]) -> float | None:
    mark = first_mark(marks, "trigger")
    return None if mark is None else mark.at


def terminal(samples: Sequence[StatusSample], trigger: float) -> Terminal | None:
    """First Succeeded/Failed reached by this run (a stale one from before the trigger is skipped)."""
    seen_active = False
    for sample in sorted(samples, key=lambda s: s.at):
        if sample.at < trigger:
            continue
        phase = sample.status.phase
        if phase in ACTIVE_PHASES:
            seen_active = True
        elif phase in (Phase.SUCCEEDED, Phase.FAILED):
            condition = sample.status.condition
            if condition is not None and condition.reason == phase and condition.last_update_time >= trigger:
                return Terminal(phase, condition.last_update_time, sample)
            if seen_active:
                return Terminal(phase, sample.at, sample)
    return None


def max_canary_weight(samples: Iterable[StatusSample]) -> int | None:
    """Highest canary weight seen, from status and from the router's applied weights."""
    weights = [s.status.canary_weight for s in samples]
    weights += [s.router_weights[1] for s in samples if s.router_weights is not None]
    return max(weights) if weights else None


@dataclass(frozen=True)
class Tally:
    requests: int = 0
    bad: int = 0

    @property
    def rate(self) -> float | None:
        return self.bad / self.requests if self.requests else None


def tally(buckets: Iterable[LoadBucket]) -> Tally:
    requests = bad = 0
    for bucket in buckets:
        requests += bucket.requests
        bad += bucket.bad
    return Tally(requests, bad)


def midpoint(bucket: LoadBucket) -> float:
    return bucket.start + bucket.duration / 2


def within(
    buckets: Iterable[LoadBucket], start: float, end: float, version: str | None = None
) -> list[LoadBucket]:
    """Buckets whose midpoint lies in [start, end), optionally of one version."""
    return [b for b in buckets if start <= midpoint(b) < end and (version is None or b.version == version)]


def by_time(buckets: Iterable[LoadBucket]) -> list[tuple[float, float, Tally]]:
    """(start, duration, tally over all versions and statuses) per time bucket, in time order."""
    groups: dict[float, list[LoadBucket]] = defaultdict(list)
    for bucket in buckets:
        groups[bucket.start].append(bucket)
    return [(start, max(b.duration for b in group), tally(group)) for start, group in sorted(groups.items())]


def baseline_window(marks: Sequence[Mark], trigger: float) -> tuple[float, float]:
    """The warm-up: ``stage baseline`` mark → next stage/trigger mark; else everything before the trigger."""
    start_mark = first_mark(marks, "stage", "baseline")
    if start_mark is None or start_mark.at >= trigger:
        return (float("-inf"), trigger)
    later = [m.at for m in marks if m.at > start_mark.at and m.kind in ("stage", "trigger")]
    return (start_mark.at, min([*later, trigger]))


def recovery_time(buckets: Sequence[LoadBucket], after: float, threshold: float) -> float | None:
    """Seconds from ``after`` until every later time bucket has error rate ≤ threshold; None if never."""
    series = [(start, dur, t) for start, dur, t in by_time(buckets) if start + dur > after and t.requests]
    if not series:
        return None
    recovered_from: float | None = None
    for start, _, bucket_tally in series:
        rate = bucket_tally.rate or 0.0
        if rate > threshold:
            recovered_from = None
        elif recovered_from is None:
            recovered_from = start
    if recovered_from is None:
        return None
    return max(0.0, recovered_from - after)


def weighted_latency(buckets: Iterable[LoadBucket], attribute: str) -> float | None:
    """Request-weighted mean of a per-bucket latency percentile."""
    total = weight = 0.0
    for bucket in buckets:
        total += getattr(bucket, attribute) * bucket.requests
        weight += bucket.requests
    return total / weight if weight else None


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


ROLLBACK_MESSAGES = {
    "failed-checks": ("failed checks threshold reached", "analysis phase error/failed"),  # Flagger, Argo
    "manual-webhook": ("manual webhook invoked",),
    "progress-deadline": ("has timed out progressing",),  # Argo's RolloutAborted with progressDeadlineAbort
}
# Every rollback() posts this (§2.8 step 3); a primary that fails during promotion posts the other (§2.7).
ROLLBACK_DONE = ("Canary failed! Scaling down", "failed, primary not ready")
UNKNOWN_CAUSE = "unknown"


def rollback_cause(events: Iterable[CanaryEvent], start: float, end: float) -> str:
    """Why the controller rolled back, from its events in [start, end] (Flagger §2.7, §2.8; Argo
    Rollouts: the ``RolloutAborted`` message names the analysis or the progress deadline).

    'Rolling back … failed checks threshold reached' or '… manual webhook invoked' name the cause. A
    rollback that posted only 'Canary failed! Scaling down' is the progress deadline (it is silent
    otherwise, issue #1816). Without even that event, the rollback's events were lost or unreadable:
    ``UNKNOWN_CAUSE``, never a guess.
    """
    done = False
    for event in sorted(events, key=lambda e: e.at):
        if start <= event.at <= end:
            for cause, texts in ROLLBACK_MESSAGES.items():
                if any(text in event.message for text in texts) and (
                    cause != "progress-deadline" or event.reason != "Synced"
                ):
                    return cause
            done = done or any(text in event.message for text in ROLLBACK_DONE)
    return "progress-deadline" if done else UNKNOWN_CAUSE


def status_changes(samples: Iterable[StatusSample], after: float) -> list[CanaryStatus]:
    return [s.status for s in sorted(samples, key=lambda s: s.at) if s.at >= after]


def guess_versions(
    load: Sequence[LoadBucket], samples: Sequence[StatusSample]
) -> tuple[str | None, str | None]:
    """(stable, canary) when not given: the most served version before any canary weight, and another one."""
    first_weight = min((s.at for s in samples if s.status.canary_weight > 0), default=float("inf"))
    counts: dict[str, int] = defaultdict(int)
    for bucket in load:
        if bucket.version != NO_VERSION and midpoint(bucket) < first_weight:
            counts[bucket.version] += bucket.requests
    stable = max(counts, key=lambda v: counts[v]) if counts else None
    others = {b.version for b in load if b.version not in (stable, NO_VERSION)}
    return stable, (sorted(others)[0] if others else None)


def window_tally(buckets: Iterable[LoadBucket], start: float, end: float) -> tuple[float, float]:
    """(requests, bad) inside the window (start, end], each bucket counted by the share that overlaps it."""
    requests = bad = 0.0
    for bucket in buckets:
        share = _overlap(bucket.start, bucket.duration, start, end)
        requests += bucket.requests * share
        bad += bucket.bad * share
    return requests, bad


def _overlap(start: float, duration: float, low: float, high: float) -> float:
    """Fraction of [start, start + duration) inside (low, high]."""
    if duration <= 0:
        return 1.0 if low < start <= high else 0.0
    inside = min(start + duration, high) - max(start, low)
    return max(0.0, inside) / duration


def window_counts(
    checks: Iterable[tuple[float, int]], window: float, served: Callable[[float, float], float]
) -> list[tuple[float, int, float]]:
    """(check time, weight, canary requests in [at − window, at)) per check: what each query sees.

    ``checks`` are (check time, weight in effect before it); ``served(start, end)`` counts the canary's
    requests in the window, predicted (the plan's samples table) or measured (the low-sample warnings).
    """
    return [(at, weight, served(at - window, at)) for at, weight in checks]
