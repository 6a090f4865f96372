"""Low-sample warnings: checks whose metric window held fewer canary requests than the policy wants (pure).

Flagger's query at a check sees the canary's requests of the metric's window (``interval`` of the
metric, 1m by default), not of the analysis interval. Each check is counted the way the plan counts
its predicted samples table (``harness.verdict.measure.window_counts``), over the canary workload's
requests (``harness.verdict.attribution``). Check times come from the recorded metric checks, else from the
interval grid that starts at the first status with canary weight.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.controllers.flagger.model import MetricResult
from harness.durations import format_duration
from harness.model import LoadBucket, StatusSample
from harness.verdict.attribution import canary_load
from harness.verdict.measure import guess_versions, window_counts, window_tally


def low_sample_checks(
    load: Sequence[LoadBucket],
    samples: Sequence[StatusSample],
    checks: Sequence[MetricResult],
    *,
    interval: float,
    window: float,
    minimum: int,
    canary_version: str | None = None,
    trigger: float | None = None,
    origin: float = 0.0,
) -> list[str]:
    """One warning per analysis check whose metric window held < ``minimum`` canary requests.

    Times are labelled relative to ``origin`` (the trigger, as on the report's charts).
    """
    if minimum <= 0 or window <= 0:
        return []
    version = canary_version or guess_versions(load, samples)[1]
    if version is None:
        return []
    served = canary_load(load, samples, version, trigger=trigger)
    counts = window_counts(
        _check_times(samples, checks, interval, trigger),
        window,
        lambda start, end: round(window_tally(served, start, end)[0]),
    )
    return [
        f"check at {_clock(at - origin)} after the trigger (canary weight {weight}%): "
        f"{count:.0f} canary requests in its {format_duration(window)} metric window "
        f"< {minimum} minimum — no sample, no signal"
        for at, weight, count in counts
        if count < minimum
    ]


def _check_times(
    samples: Sequence[StatusSample], checks: Sequence[MetricResult], interval: float, trigger: float | None
) -> list[tuple[float, int]]:
    """(check time, canary weight in effect before it): recorded checks, else the interval grid."""
    ordered = sorted(samples, key=lambda s: s.at)
    times = sorted({c.at for c in checks if trigger is None or c.at >= trigger})
    if not times:
        weighted = [s.at for s in ordered if s.status.canary_weight > 0]
        if not weighted or interval <= 0:
            return []
        first, last = weighted[0], weighted[-1]
        times = [first + k * interval for k in range(1, int((last - first) // interval) + 1)]
    return [(at, _weight_before(ordered, at)) for at in times]


def _weight_before(ordered: Sequence[StatusSample], at: float) -> int:
    weight = 0
    for sample in ordered:
        if sample.at >= at:
            break
        weight = sample.router_weights[1] if sample.router_weights else sample.status.canary_weight
    return weight


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    minutes, secs = divmod(round(abs(seconds)), 60)
    return f"{sign}{minutes}:{secs:02d}"
