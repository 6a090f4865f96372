"""Scraped samples for the embedded evaluator: exposition text → series → a time-indexed store, and
PromQL vector selectors (label matchers) and durations to pick from it.

Like Prometheus, a sample is stamped with the time its scrape *started* (emulated seconds), a series is
identified by its full label set including ``__name__``, out-of-order or duplicate timestamps are
dropped, and a failed scrape simply leaves a gap (range functions ignore Prometheus' staleness markers,
so a gap and a staleness marker are the same thing for ``rate()``).
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from harness.errors import MetricsError

NAME_LABEL = "__name__"
STRING_LITERAL = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'
_MATCHER = re.compile(
    rf"(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)(?P<op>=~|!~|!=|=)(?P<value>{STRING_LITERAL})(?:,|$)"
)
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# Prometheus' model.ParseDuration: integer components in this order only, e.g. 1h30m, 500ms, 2d.
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_UNIT_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
Labels = frozenset[tuple[str, str]]  # the full label set, __name__ included


@dataclass(frozen=True)
class Sample:
    at: float  # emulated seconds
    value: float


@dataclass(frozen=True)
class ScrapedSample:
    labels: Labels
    value: float


def labels_of(name: str, labels: Mapping[str, str]) -> Labels:
    """The label set of a series named ``name``; empty label values are dropped, as in Prometheus."""
    return frozenset({(NAME_LABEL, name), *((k, v) for k, v in labels.items() if v != "")})


def label_value(labels: Labels, name: str) -> str:
    """A label's value, "" when absent (PromQL treats absent and empty alike)."""
    return next((value for key, value in labels if key == name), "")


def parse_exposition(text: str) -> list[ScrapedSample]:
    """Every sample of a Prometheus text exposition; ``MetricsError`` when it does not parse."""
    try:
        return [
            ScrapedSample(labels_of(sample.name, sample.labels), float(sample.value))
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]
    except (ValueError, TypeError, IndexError) as exc:
        raise MetricsError(f"cannot parse the scraped exposition text: {exc}") from exc


class _Series:
    """One series' samples in time order (parallel lists, so windows are found by bisection)."""

    __slots__ = ("times", "values")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.values: list[float] = []

    def append(self, at: float, value: float) -> None:
        if self.times and at <= self.times[-1]:
            return  # Prometheus rejects out-of-order and duplicate-timestamp samples
        self.times.append(at)
        self.values.append(value)

    def trim_before(self, horizon: float) -> None:
        cut = bisect.bisect_left(self.times, horizon)
        if cut:
            del self.times[:cut], self.values[:cut]

    def between(self, start: float, end: float) -> list[Sample]:
        """Samples with ``start <= at <= end`` (Prometheus 2.x range selectors are closed)."""
        low = bisect.bisect_left(self.times, start)
        high = bisect.bisect_right(self.times, end)
        return [
            Sample(at, value) for at, value in zip(self.times[low:high], self.values[low:high], strict=True)
        ]


class SampleStore:
    """All scraped series, trimmed to ``retention_seconds`` behind the newest scrape; thread-safe."""

    def __init__(self, retention_seconds: float) -> None:
        self.retention_seconds = retention_seconds
        self._series: dict[Labels, _Series] = {}
        self._lock = threading.Lock()

    def add(self, at: float, samples: Iterable[ScrapedSample]) -> None:
        with self._lock:
            for sample in samples:
                self._series.setdefault(sample.labels, _Series()).append(at, sample.value)
            horizon = at - self.retention_seconds
            for series in self._series.values():
                series.trim_before(horizon)
            for labels in [labels for labels, series in self._series.items() if not series.times]:
                del self._series[labels]

    def series_labels(self) -> list[Labels]:
        with self._lock:
            return list(self._series)

    def window(self, start: float, end: float, labels: Iterable[Labels]) -> dict[Labels, list[Sample]]:
        """The samples in ``[start, end]`` of each of ``labels`` that has any."""
        with self._lock:
            found = {key: self._series[key].between(start, end) for key in labels if key in self._series}
        return {key: points for key, points in found.items() if points}


# Selecting series -----------------------------------------------------------------------------------


def parse_prom_duration(text: str) -> float:
    """Seconds of a PromQL duration (``1m``, ``1h30m``, ``250ms``); ``ValueError`` when invalid."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"not a valid duration string: {text!r}")
    return sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n)


def unquote(literal: str) -> str:
    """A PromQL string literal's value (Go ``strconv.Unquote`` rules; backticks are raw)."""
    body = literal[1:-1]
    if literal[0] == "`":
        return body

    def escape(match: re.Match[str]) -> str:
        code = match.group(0)[1:]
        if code in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[code]
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        if code[0].isdigit() and len(code) == 3:
            return chr(int(code, 8))
        if code in ("\\", "'", '"'):
            return code
        raise MetricsError(f"parse error: unknown escape sequence in {literal}")

    return _ESCAPE.sub(escape, body)


@dataclass(frozen=True)
class Matcher:
    """One label matcher; regexes are fully anchored, an absent label has the value ""."""

    name: str
    op: str  # "=", "!=", "=~", "!~"
    value: str

    def matches(self, labels: Labels) -> bool:
        actual = label_value(labels, self.name)
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _regex(self.value).fullmatch(actual) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class Selector:
    """An instant vector selector ``name{matchers}``."""

    matchers: tuple[Matcher, ...]

    def matches(self, labels: Labels) -> bool:
        return all(matcher.matches(labels) for matcher in self.matchers)


def parse_selector(text: str) -> Selector:
    """``metric{a="x",b=~"y"}`` (whitespace already removed) into matchers; ``MetricsError`` if invalid."""
    name, _, braces = text.partition("{")
    matchers = [Matcher(NAME_LABEL, "=", name)] if name else []
    body = braces[:-1] if braces else ""
    position = 0
    while position < len(body):
        match = _MATCHER.match(body, position)
        if match is None:
            raise MetricsError(f"parse error: unexpected label matcher syntax in {text!r}")
        matchers.append(Matcher(match["name"], match["op"], unquote(match["value"])))
        position = match.end()
    if not any(m.op in ("=", "=~") and not _regex_or_equal_matches_empty(m) for m in matchers):
        raise MetricsError(
            f"parse error: vector selector must contain at least one non-empty matcher: {text}"
        )
    return Selector(tuple(matchers))


def _regex_or_equal_matches_empty(matcher: Matcher) -> bool:
    return matcher.value == "" if matcher.op == "=" else _regex(matcher.value).fullmatch("") is not None


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise MetricsError(f"parse error: invalid regular expression {pattern!r}: {exc}") from exc
