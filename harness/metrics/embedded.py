"""Embedded stand-in for Prometheus: scrapes an exposition text on the emulated grid and evaluates
Flagger's two builtin Traefik queries (spec §4.2) plus ``vector(N)``, with Prometheus 2.x semantics.

Recognised shapes (whitespace anywhere outside string literals is ignored; any selector, matchers and
window; the trailing ``* k`` is optional):

- ``sum(rate(SEL[w])) / sum(rate(SEL[w])) * k``                       (request-success-rate)
- ``histogram_quantile(q, sum(rate(SEL[w])) by (le)) * k``             (request-duration; also
  ``sum by (le) (rate(…))``)
- ``vector(N)``                                                         (Flagger's ``IsOnline``)

Reproduced: closed range windows ``[t − w, t]`` (Prometheus 2.x), ``rate()`` as ``extrapolatedRate``
(≥ 2 samples, counter resets, extrapolation to the window edges only within 1.1× the mean sample
spacing, zero floor for counters), label matchers ``= != =~ !~`` with fully anchored regexes,
``sum`` of an empty vector being empty, IEEE division (0/0 = NaN), ``histogram_quantile`` as
``bucketQuantile``. Empty vector or NaN → ``NoValuesFound``. Any other PromQL (a custom MetricTemplate)
raises ``MetricsError``: it needs a real Prometheus server.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.clock import Clock
from harness.errors import MetricsError, NoValuesFound
from harness.metrics.scrape import (
    STRING_LITERAL,
    Labels,
    Sample,
    SampleStore,
    Selector,
    label_value,
    parse_exposition,
    parse_prom_duration,
    parse_selector,
)

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SEL = rf"(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{{(?:{STRING_LITERAL}|[^{{}}\"'`])*\}})?"


def _rate(tag: str) -> str:
    return rf"rate\((?P<sel{tag}>{_SEL})\[(?P<w{tag}>[^\]]+)\]\)"


_TIMES = rf"(?:\*(?P<k>{_NUM}))?"
_RATIO = re.compile(rf"sum\({_rate('1')}\)/sum\({_rate('2')}\){_TIMES}")
_QUANTILE = re.compile(
    rf"histogram_quantile\((?P<q>{_NUM}),(?:sum\({_rate('1')}\)by\(le\)|sumby\(le\)\({_rate('2')}\))\)"
    rf"{_TIMES}"
)
_VECTOR = re.compile(rf"vector\((?P<n>{_NUM})\)")
_CODE_AND_STRINGS = re.compile(rf"({STRING_LITERAL})|\s+", re.DOTALL)


def compact(promql: str) -> str:
    """The query without whitespace outside string literals."""
    return _CODE_AND_STRINGS.sub(lambda m: m.group(1) or "", promql)


# Prometheus' functions -----------------------------------------------------------------------------


def extrapolated_rate(points: Sequence[Sample], start: float, end: float) -> float | None:
    """``rate()`` over the closed window ``[start, end]`` (``extrapolatedRate`` in promql/functions.go).

    ``points`` are the window's samples in time order; None (no output element) below two samples.
    """
    if len(points) < 2:
        return None
    first, last = points[0], points[-1]
    result = last.value - first.value
    previous = first.value
    for point in points[1:]:  # a counter reset: the value before the drop was lost, add it back
        if point.value < previous:
            result += previous
        previous = point.value
    to_start = first.at - start
    to_end = end - last.at
    sampled = last.at - first.at
    average_gap = sampled / (len(points) - 1)
    if result > 0 and first.value >= 0:
        # Counters cannot go below zero: do not extrapolate past the series' zero point.
        to_start = min(to_start, sampled * (first.value / result))
    threshold = average_gap * 1.1
    extrapolated = sampled
    extrapolated += to_start if to_start < threshold else average_gap / 2
    extrapolated += to_end if to_end < threshold else average_gap / 2
    return result * (extrapolated / sampled) / (end - start)


def bucket_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """``bucketQuantile`` (promql/quantile.go) over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:  # coalesceBuckets: same bound (e.g. "5" and "5.0") adds up
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if not ordered or not math.isinf(ordered[-1][0]):
        return math.nan
    monotonic: list[tuple[float, float]] = []
    highest = -math.inf
    for bound, count in ordered:  # ensureMonotonic: precision noise can make counts decrease
        highest = max(highest, count)
        monotonic.append((bound, highest))
    if len(monotonic) < 2:
        return math.nan
    observations = monotonic[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    # sort.Search over all but the +Inf bucket; "not found" means the +Inf bucket.
    index = next((i for i, (_, count) in enumerate(monotonic[:-1]) if count >= rank), len(monotonic) - 1)
    if index == len(monotonic) - 1:
        return monotonic[-2][0]  # the quantile is in the +Inf bucket: highest finite bound
    if index == 0 and monotonic[0][0] <= 0:
        return monotonic[0][0]
    bucket_start, bucket_end, count = 0.0, monotonic[index][0], monotonic[index][1]
    if index > 0:
        bucket_start = monotonic[index - 1][0]
        count -= monotonic[index - 1][1]
        rank -= monotonic[index - 1][1]
    return bucket_start + (bucket_end - bucket_start) * (rank / count)


def divide(numerator: float, denominator: float) -> float:
    """IEEE 754 division as in Go (x/0 = ±Inf, 0/0 = NaN)."""
    if denominator != 0:
        return numerator / denominator
    if numerator == 0 or math.isnan(numerator):
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def parse_bound(text: str) -> float | None:
    """The ``le`` label as Go's ``strconv.ParseFloat`` reads it; None when it does not parse."""
    if "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


# The provider ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RateTerm:
    selector: Selector
    window: float  # emulated seconds


class EmbeddedPrometheus:
    """A ``MetricsProvider`` that scrapes ``scrape()`` itself and answers the builtin Traefik queries."""

    def __init__(
        self,
        scrape: Callable[[], str],
        *,
        clock: Clock,
        scrape_interval_seconds: float = 5.0,
        retention_seconds: float = 3600.0,
    ) -> None:
        if scrape_interval_seconds <= 0:
            raise ValueError(f"scrape_interval_seconds must be > 0, got {scrape_interval_seconds!r}")
        self._scrape = scrape
        self._clock = clock
        self.scrape_interval_seconds = scrape_interval_seconds
        self.store = SampleStore(retention_seconds)
        self.scrapes = 0
        self.scrape_errors = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # scraping ------------------------------------------------------------------------------------

    def scrape_once(self) -> bool:
        """One scrape stamped with its start time; a failure leaves a gap, as in Prometheus."""
        at = self._clock.now()
        try:
            samples = parse_exposition(self._scrape())
        except Exception as exc:  # any failure of the scrape callable is a failed scrape
            self.scrape_errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        self.store.add(at, samples)
        self.scrapes += 1
        return True

    def start(self) -> EmbeddedPrometheus:
        """Scrape in a daemon thread on the emulated grid (missed slots are skipped, not caught up)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="embedded-prometheus", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _loop(self) -> None:
        origin = self._clock.now()
        interval = self.scrape_interval_seconds
        while not self._stop.is_set():
            self.scrape_once()
            elapsed = self._clock.now() - origin
            next_slot = origin + (math.floor(elapsed / interval) + 1) * interval
            delay = max(0.0, next_slot - self._clock.now())
            if self._stop.wait(delay / self._clock.scale):
                return

    # MetricsProvider -----------------------------------------------------------------------------

    def is_online(self) -> bool:
        """Flagger's check: ``vector(1)`` returns 1."""
        return self.query("vector(1)") == 1.0

    def query(self, promql: str) -> float:
        """Evaluate at ``clock.now()``; ``NoValuesFound`` on empty/NaN, ``MetricsError`` otherwise."""
        return self.evaluate(promql, self._clock.now())

    def evaluate(self, promql: str, at: float) -> float:
        """Evaluate a recognised query at emulated time ``at``."""
        text = compact(promql)
        if match := _VECTOR.fullmatch(text):
            return _result(float(match["n"]))
        if match := _RATIO.fullmatch(text):
            numerator = self._sum_rates(self._term(match["sel1"], match["w1"]), at)
            denominator = self._sum_rates(self._term(match["sel2"], match["w2"]), at)
            if numerator is None or denominator is None:  # one-to-one match with an empty side
                raise NoValuesFound()
            return _result(divide(numerator, denominator) * _factor(match["k"]))
        if match := _QUANTILE.fullmatch(text):
            tag = "1" if match["sel1"] is not None else "2"  # sum(...) by (le) | sum by (le) (...)
            term = self._term(match[f"sel{tag}"], match[f"w{tag}"])
            value = self._quantile(float(match["q"]), term, at)
            return _result(value * _factor(match["k"]))
        raise MetricsError(
            "custom PromQL needs a real Prometheus server (install Debian's 'prometheus'): "
            f"{' '.join(promql.split())[:300]}"
        )

    def _term(self, selector_text: str, window_text: str) -> _RateTerm:
        try:
            window = parse_prom_duration(window_text)
        except ValueError as exc:
            raise MetricsError(f"bad range duration {window_text!r}: {exc}") from exc
        if window <= 0:
            raise MetricsError(f"bad range duration {window_text!r}: must be > 0")
        return _RateTerm(parse_selector(selector_text), window)

    def _rates(self, term: _RateTerm, at: float) -> dict[Labels, float]:
        """``rate(SEL[w])`` at ``at``: one element per matching series with ≥ 2 samples in the window."""
        start = at - term.window
        matching = [labels for labels in self.store.series_labels() if term.selector.matches(labels)]
        rates: dict[Labels, float] = {}
        for labels, points in self.store.window(start, at, matching).items():
            rate = extrapolated_rate(points, start, at)
            if rate is not None:
                rates[labels] = rate
        return rates

    def _sum_rates(self, term: _RateTerm, at: float) -> float | None:
        """``sum(rate(…))``; None is the empty vector."""
        rates = self._rates(term, at)
        return sum(rates.values()) if rates else None

    def _quantile(self, q: float, term: _RateTerm, at: float) -> float:
        by_le: dict[str, float] = {}
        for labels, rate in self._rates(term, at).items():  # sum by (le)
            le = label_value(labels, "le")
            by_le[le] = by_le.get(le, 0.0) + rate
        buckets = [(bound, rate) for le, rate in by_le.items() if (bound := parse_bound(le)) is not None]
        if not buckets:
            raise NoValuesFound()
        return bucket_quantile(q, buckets)


def _factor(text: str | None) -> float:
    return 1.0 if text is None else float(text)


def _result(value: float) -> float:
    if math.isnan(value):
        raise NoValuesFound(nan=True)
    return value
