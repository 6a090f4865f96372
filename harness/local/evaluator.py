"""Embedded stand-in for Prometheus: scrapes the router's ``/metrics`` on the emulated scrape grid and
evaluates Flagger's two builtin Traefik queries (spec §4.2) with Prometheus 2.x semantics.

Reproduced exactly: range selectors ``[t − w, t]`` (closed, as in Prometheus 2.x), ``rate()`` with
Prometheus' extrapolation (``extrapolatedRate``: ≥ 2 samples, counter resets, extrapolation to the window
edges only within 1.1× the mean sample spacing, zero floor), fully anchored ``=~``/``!~`` matchers,
``sum`` / ``sum by (le)``, ``histogram_quantile`` (``bucketQuantile``), and empty/NaN → "no values found".
Any other PromQL (a custom MetricTemplate) needs a real Prometheus server and raises ``MetricsError``.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from harness.clock import Clock
from harness.errors import MetricsError, NoValuesFound

BUCKET_METRIC = "traefik_service_request_duration_seconds_bucket"
_WS = re.compile(r"\s+")
_SUCCESS = re.compile(
    r'^sum\( rate\( traefik_service_request_duration_seconds_bucket\{ service=~"(?P<svc>[^"]+)", '
    r'code!~"5\.\.", le="\+Inf" \}\[(?P<w>[0-9a-z.]+)\] \) \) / sum\( rate\( '
    r'traefik_service_request_duration_seconds_bucket\{ service=~"(?P=svc)", le="\+Inf" \}'
    r"\[(?P=w)\] \) \) \* 100$"
)
_DURATION = re.compile(
    r"^histogram_quantile\( (?P<q>[0-9.]+), sum\( rate\( traefik_service_request_duration_seconds_bucket"
    r'\{ service=~"(?P<svc>[^"]+)" \}\[(?P<w>[0-9a-z.]+)\] \) \) by \(le\) \) \* 1000$'
)
_VECTOR = re.compile(r"^vector\( ?(?P<n>[0-9.]+) ?\)$")
# Prometheus 2.x range durations (``model.ParseDuration``): integer units in this order, not Go's syntax.
_PROM_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)

Labels = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Sample:
    at: float
    value: float


class SampleStore:
    """Scraped samples per series of the bucket metric, trimmed to a retention window."""

    def __init__(self, retention: float) -> None:
        self._series: dict[Labels, list[Sample]] = {}
        self._retention = retention
        self._lock = threading.Lock()

    def add(self, at: float, samples: Iterable[tuple[Labels, float]]) -> None:
        """Append one scrape; like the TSDB, a sample not later than its series' last one is dropped."""
        with self._lock:
            for labels, value in samples:
                points = self._series.setdefault(labels, [])
                if not points or at > points[-1].at:
                    points.append(Sample(at, value))
            horizon = at - self._retention
            for key, points in self._series.items():
                if points and points[0].at < horizon:
                    self._series[key] = [p for p in points if p.at >= horizon]

    def window(self, start: float, end: float) -> dict[Labels, list[Sample]]:
        with self._lock:
            return {
                labels: [p for p in points if start <= p.at <= end] for labels, points in self._series.items()
            }


def extrapolated_rate(points: list[Sample], start: float, end: float) -> float | None:
    """Prometheus 2.x ``rate()`` over ``[start, end]``; None when fewer than two samples."""
    if len(points) < 2:
        return None
    result = points[-1].value - points[0].value
    previous = points[0].value
    for point in points[1:]:  # counter resets: add back what was lost
        if point.value < previous:
            result += previous
        previous = point.value
    first, last = points[0], points[-1]
    to_start, to_end = first.at - start, end - last.at
    sampled = last.at - first.at
    if sampled <= 0:
        return None
    average_gap = sampled / (len(points) - 1)
    if result > 0 and first.value >= 0:
        to_zero = sampled * (first.value / result)
        to_start = min(to_start, to_zero)
    threshold = average_gap * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average_gap / 2
    interval += to_end if to_end < threshold else average_gap / 2
    return result * (interval / sampled) / (end - start)


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' ``bucketQuantile`` over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:  # coalesce buckets with the same bound
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if not ordered or not math.isinf(ordered[-1][0]):
        return math.nan
    monotonic: list[tuple[float, float]] = []
    highest = -math.inf
    for bound, count in ordered:  # ensureMonotonic
        highest = max(highest, count)
        monotonic.append((bound, highest))
    if len(monotonic) < 2:
        return math.nan
    observations = monotonic[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    index = next(i for i, (_, count) in enumerate(monotonic) if count >= rank)
    if index == len(monotonic) - 1:
        return monotonic[-2][0]
    if index == 0 and monotonic[0][0] <= 0:
        return monotonic[0][0]
    start, end, count = 0.0, monotonic[index][0], monotonic[index][1]
    if index > 0:
        start = monotonic[index - 1][0]
        count -= monotonic[index - 1][1]
        rank -= monotonic[index - 1][1]
    return start + (end - start) * (rank / count)


class EmbeddedPrometheus:
    """A ``MetricsProvider`` that scrapes on its own and answers the builtin Traefik queries."""

    def __init__(
        self,
        scrape: Callable[[], str],
        *,
        clock: Clock,
        scrape_interval: float = 5.0,
        retention: float = 3600.0,
    ) -> None:
        self._scrape = scrape
        self._clock = clock
        self.scrape_interval = scrape_interval
        self.store = SampleStore(retention)
        self.scrape_errors = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # scraping ------------------------------------------------------------------------------------

    def scrape_once(self) -> None:
        at = self._clock.now()
        try:
            text = self._scrape()
        except Exception as exc:  # a failed scrape leaves a gap, as in Prometheus
            self.scrape_errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return
        self.store.add(at, parse_bucket_samples(text))

    def start(self) -> EmbeddedPrometheus:
        self._thread = threading.Thread(target=self._loop, name="embedded-prometheus", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _loop(self) -> None:
        start = self._clock.now()
        index = 0
        while not self._stop.is_set():
            self.scrape_once()
            index += 1
            delay = start + index * self.scrape_interval - self._clock.now()
            if delay > 0 and self._stop.wait(delay / self._clock.scale):
                return

    # MetricsProvider -----------------------------------------------------------------------------

    def is_online(self) -> bool:
        return True

    def query(self, promql: str) -> float:
        text = _WS.sub(" ", promql).strip()
        now = self._clock.now()
        if match := _VECTOR.match(text):
            return float(match["n"])
        if match := _SUCCESS.match(text):
            window = _window(match["w"])
            good = self._sum_rates(now, window, match["svc"], lambda labels: not _is_5xx(labels))
            total = self._sum_rates(now, window, match["svc"], lambda labels: True)
            if good is None or total is None:
                raise NoValuesFound()
            return _finite(good / total * 100 if total else math.nan)
        if match := _DURATION.match(text):
            value = self._quantile(now, _window(match["w"]), match["svc"], float(match["q"]))
            return _finite(value * 1000)
        raise MetricsError(
            f"custom PromQL needs a real Prometheus server (install Debian's 'prometheus'): {text[:200]}"
        )

    def _sum_rates(
        self, now: float, window: float, service_regex: str, keep: Callable[[Labels], bool]
    ) -> float | None:
        """``sum(rate(bucket{service=~R, …, le="+Inf"}[w]))``; None is the empty vector."""
        service = re.compile(service_regex)
        rates = [
            rate
            for labels, points in self.store.window(now - window, now).items()
            if _label(labels, "le") == "+Inf"
            and service.fullmatch(_label(labels, "service"))
            and keep(labels)
            if (rate := extrapolated_rate(points, now - window, now)) is not None
        ]
        return sum(rates) if rates else None

    def _quantile(self, now: float, window: float, service_regex: str, q: float) -> float:
        service = re.compile(service_regex)
        by_le: dict[float, float] = {}
        for labels, points in self.store.window(now - window, now).items():
            if not service.fullmatch(_label(labels, "service")):
                continue
            rate = extrapolated_rate(points, now - window, now)
            if rate is not None:
                bound = float(_label(labels, "le"))
                by_le[bound] = by_le.get(bound, 0.0) + rate
        if not by_le:
            raise NoValuesFound()
        return bucket_quantile(q, sorted(by_le.items()))


def parse_bucket_samples(text: str) -> list[tuple[Labels, float]]:
    """The bucket series of Traefik's request-duration histogram from an exposition text."""
    found: list[tuple[Labels, float]] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == BUCKET_METRIC:
                found.append((frozenset(sample.labels.items()), float(sample.value)))
    return found


def _label(labels: Labels, name: str) -> str:
    return next((value for key, value in labels if key == name), "")


def _is_5xx(labels: Labels) -> bool:
    return re.fullmatch(r"5..", _label(labels, "code")) is not None


def _window(text: str) -> float:
    """A range duration as Prometheus parses it (``1m``, ``1h30m``, ``2d``; ``1.5m`` is a parse error)."""
    match = _PROM_DURATION.fullmatch(text)
    if not text or match is None:
        raise MetricsError(f'bad range duration {text!r}: not a valid duration string: "{text}"')
    return float(sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n))


def _finite(value: float) -> float:
    if math.isnan(value):
        raise NoValuesFound()
    return value
