"""Does a scenario's fault cross the Canary's checks? The planner's model of one fault (pure).

``gate_checks(spec, effect)`` predicts, for each metric of ``analysis.metrics``, the value a check
would read over a window wholly inside the fault, and whether that value is outside the metric's
threshold (flagger-semantics §2.6 range semantics, §3.2, §4.2):

- request-success-rate = 100 · (1 − 5xx share): only 5xx count, so a wrong body or a client that gives
  up (Traefik's 499) is invisible to it;
- request-duration = Traefik's p99 from its buckets 0.1/0.3/1.2/5 s (``histogram_quantile``'s linear
  interpolation inside the bucket that holds the slow requests; the healthy rest is < 100 ms);
- any other metric (a template or an inline query) cannot be modelled here: ``crosses`` is None and it
  is assumed to see any user-visible fault.

``visible_share`` is the share of canary requests the crossing checks see (the planner's
``fault_error_rate`` for δ and exposure), or None when no check can see the fault: then the canary is
predicted to be promoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.controllers.flagger.model import CanarySpec, MetricSpec
from harness.verdict.fault_effect import FaultExpectation

TRAEFIK_BUCKETS = (0.1, 0.3, 1.2, 5.0)  # seconds, Traefik's default duration buckets (§3.2)
QUANTILE = 0.99


@dataclass(frozen=True)
class GateCheck:
    """One metric's predicted value inside the fault against its bounds."""

    metric: str
    value: float | None  # None: not modelled
    minimum: float | None
    maximum: float | None
    crosses: bool | None  # None: not modelled (assumed to see a visible fault)
    share: float  # canary requests this check sees as bad (for the timing model)


def gate_checks(spec: CanarySpec, effect: FaultExpectation) -> tuple[GateCheck, ...]:
    return tuple(_check(metric, effect) for metric in spec.analysis.metrics)


def visible_share(spec: CanarySpec, effect: FaultExpectation | None) -> float | None:
    """Share of canary requests the checks that cross see; None when no check can see the fault."""
    if effect is None:
        return None
    if effect.blocks_readiness:
        return 1.0  # never ready: the crash-loop path, not a metric (kept as the planner's default)
    if not effect.observable:
        return None
    shares = [c.share for c in gate_checks(spec, effect) if c.crosses is not False]
    shares = [s for s in shares if s > 0]
    return min(1.0, max(shares)) if shares else None


def _check(metric: MetricSpec, effect: FaultExpectation) -> GateCheck:
    low, high = _bounds(metric)
    if metric.name == "request-success-rate" and not metric.query and metric.template_ref is None:
        value = 100.0 * (1.0 - effect.server_error_fraction)
        return GateCheck(
            metric.name, value, low, high, _outside(value, low, high), effect.server_error_fraction
        )
    if metric.name == "request-duration" and not metric.query and metric.template_ref is None:
        value = traefik_p99_ms(effect.added_latency_ms, effect.latency_fraction)
        return GateCheck(metric.name, value, low, high, _outside(value, low, high), effect.latency_fraction)
    share = max(effect.error_fraction, effect.latency_fraction) if effect.observable else 0.0
    return GateCheck(metric.name, None, low, high, None, share)


def _bounds(metric: MetricSpec) -> tuple[float | None, float | None]:
    if metric.threshold_range is not None:
        return metric.threshold_range.min, metric.threshold_range.max
    if metric.threshold is None:
        return None, None
    if metric.name == "request-success-rate":
        return metric.threshold, None  # the deprecated threshold is a minimum here, a maximum elsewhere
    return None, metric.threshold


def _outside(value: float, low: float | None, high: float | None) -> bool:
    """Flagger's range: bounds are inclusive (a value equal to a bound passes)."""
    return (low is not None and value < low) or (high is not None and value > high)


def traefik_p99_ms(added_ms: float, fraction: float) -> float:
    """p99 that ``histogram_quantile`` reports when ``fraction`` of requests take ``added_ms`` (rest fast)."""
    slow = min(max(fraction, 0.0), 1.0)
    seconds = added_ms / 1000.0
    if slow <= 1.0 - QUANTILE or seconds <= TRAEFIK_BUCKETS[0]:
        return 99.0  # the rank falls in the first bucket: reported just under 100 ms (§3.2)
    if seconds > TRAEFIK_BUCKETS[-1]:
        return TRAEFIK_BUCKETS[-1] * 1000.0  # the +Inf bucket reports the highest finite bound
    lower = max(b for b in (0.0, *TRAEFIK_BUCKETS) if b < seconds)
    upper = min(b for b in TRAEFIK_BUCKETS if b >= seconds)
    position = (QUANTILE - (1.0 - slow)) / slow
    return 1000.0 * (lower + (upper - lower) * position)
