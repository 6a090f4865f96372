"""Flagger's Prometheus provider as an HTTP client, plus the server gateway re-exported.

``PrometheusQueryClient`` behaves like ``pkg/metrics/providers/prometheus.go`` (spec §5.3): instant query
``GET /api/v1/query`` without ``time``, whitespace runs collapsed to one space, HTTP ≥ 400 → error,
matrix → "query returned multiple values", over a vector the last value wins, empty or NaN →
``NoValuesFound``, +Inf is a number.

Time scaling. With ``clock.scale != 1`` Prometheus scrapes on a sped-up grid, so the client rewrites
every range selector (``[1m]``, and both parts of a subquery ``[5m:30s]``) and every ``offset`` of the
verbatim query into real milliseconds (``[1m]`` → ``[1000ms]`` at scale 60) before sending it. The
journal keeps Flagger's string; ``render_sent`` / ``last_sent_query`` give what went over the wire.
Known limit: ``rate()`` and friends return per-*real*-second values; Flagger's builtin queries are ratios
and quantiles, so the factor cancels, but a custom template comparing a raw rate to a threshold sees it
multiplied by the scale. Durations inside string literals are never touched.

Timeout: Flagger's 5 s is a network timeout; on a scaled clock it shrinks to ``5 / scale`` real seconds,
with a floor of 0.25 s so a loaded CI machine does not turn into spurious query errors.
"""

from __future__ import annotations

import json
import math
import re
from types import TracebackType
from typing import Any, Self

import httpx

from harness.clock import Clock
from harness.errors import MetricsError, NoValuesFound
from harness.metrics.scrape import STRING_LITERAL, parse_prom_duration
from harness.metrics.server import PrometheusServer, prometheus_available

__all__ = [
    "MIN_TIMEOUT_SECONDS",
    "PrometheusQueryClient",
    "PrometheusServer",
    "decode_query_response",
    "parse_prom_duration",
    "prometheus_available",
    "render_sent",
    "scale_promql",
]

MIN_TIMEOUT_SECONDS = 0.25
ONLINE_QUERY = "vector(1)"

_WS = re.compile(r"\s+")
_LITERAL = re.compile(STRING_LITERAL, re.DOTALL)
_RANGE = re.compile(r"\[\s*([0-9a-z]+)\s*(?::\s*([0-9a-z]*)\s*)?\]")
_OFFSET = re.compile(r"\boffset(\s+)(-?)([0-9a-z]+)")


def _real_ms(text: str, scale: float) -> str:
    """``text`` (emulated) as whole real milliseconds; unparsable text is kept for Prometheus to reject."""
    try:
        seconds = parse_prom_duration(text)
    except ValueError:
        return text
    if seconds == 0:
        return text
    return f"{max(1, round(seconds / scale * 1000))}ms"


def _scale_code(code: str, scale: float) -> str:
    """Rewrite range, subquery and offset durations in PromQL code that holds no string literal."""

    def range_(match: re.Match[str]) -> str:
        head = _real_ms(match[1], scale)
        if match[2] is None:
            return f"[{head}]"
        return f"[{head}:{_real_ms(match[2], scale) if match[2] else ''}]"

    def offset(match: re.Match[str]) -> str:
        return f"offset{match[1]}{match[2]}{_real_ms(match[3], scale)}"

    return _OFFSET.sub(offset, _RANGE.sub(range_, code))


def scale_promql(promql: str, scale: float) -> str:
    """The query with its durations converted for a clock ``scale`` times faster than real time."""
    if scale == 1:
        return promql
    pieces: list[str] = []
    position = 0
    for literal in _LITERAL.finditer(promql):
        pieces.append(_scale_code(promql[position : literal.start()], scale))
        pieces.append(literal.group(0))
        position = literal.end()
    pieces.append(_scale_code(promql[position:], scale))
    return "".join(pieces)


def render_sent(promql: str, scale: float = 1.0) -> str:
    """Exactly what the client sends: Flagger's ``trimQuery`` (whitespace runs → one space), then scaling."""
    return scale_promql(_WS.sub(" ", promql), scale)


def decode_query_response(body: bytes) -> float:
    """The value Flagger reads from a ``/api/v1/query`` response body (status < 400)."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise MetricsError(f"error unmarshaling result: {exc}, '{_short(body)}'") from exc
    result = _result_list(document, body)
    value: float | None = None
    for entry in result:
        if not isinstance(entry, dict):
            raise MetricsError(f"error unmarshaling result: entry is not an object, '{_short(body)}'")
        if "values" in entry:
            raise MetricsError("query returned multiple values")
        sample = entry.get("value")
        if not isinstance(sample, list) or len(sample) < 2:
            raise MetricsError(f"query returned no value pair: '{_short(body)}'")
        if isinstance(sample[1], str):  # Flagger skips non-string values and fails on unparsable ones
            value = _parse_float(sample[1])
    if value is None:
        raise NoValuesFound()
    if math.isnan(value):
        raise NoValuesFound(nan=True)
    return value


class PrometheusQueryClient:
    """A ``MetricsProvider`` talking to a Prometheus HTTP API the way Flagger does."""

    def __init__(self, base_url: str, *, clock: Clock, timeout_seconds: float = 5.0) -> None:
        self._url = base_url.rstrip("/") + "/api/v1/query"
        self.scale = clock.scale
        self.timeout_seconds = max(MIN_TIMEOUT_SECONDS, timeout_seconds / clock.scale)
        self._http = httpx.Client(timeout=self.timeout_seconds, trust_env=False)
        self.last_sent_query: str | None = None

    def render_sent(self, promql: str) -> str:
        """The query string this client would put on the wire for Flagger's ``promql``."""
        return render_sent(promql, self.scale)

    def is_online(self) -> bool:
        """Flagger's ``IsOnline``: ``vector(1)`` must return exactly 1."""
        try:
            return self.query(ONLINE_QUERY) == 1.0
        except MetricsError:
            return False

    def query(self, promql: str) -> float:
        sent = self.render_sent(promql)
        self.last_sent_query = sent
        try:
            response = self._http.get(self._url, params={"query": sent})
        except httpx.TimeoutException as exc:
            raise MetricsError(f"request failed: timeout after {self.timeout_seconds:g}s: {exc}") from exc
        except httpx.HTTPError as exc:
            raise MetricsError(f"request failed: {exc}") from exc
        if response.status_code >= 400:
            raise MetricsError(f"error response: Status {response.status_code} {_short(response.content)}")
        return decode_query_response(response.content)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _result_list(document: Any, body: bytes) -> list[Any]:
    """``data.result`` as Go's decoder would see it: missing/null → empty; not a list → decode error."""
    data = document.get("data") if isinstance(document, dict) else None
    result = data.get("result") if isinstance(data, dict) else None
    if result is None:
        return []
    if not isinstance(result, list) or (result and not isinstance(result[0], dict)):
        # A scalar/string result is [ts, "v"]: Go cannot decode it into []struct (spec §5.3).
        raise MetricsError(f"error unmarshaling result: result is not a vector, '{_short(body)}'")
    return result


def _parse_float(text: str) -> float:
    """Go's ``strconv.ParseFloat`` for what Prometheus emits (``1.5``, ``NaN``, ``+Inf``, ``-Inf``)."""
    if "_" in text:  # Python accepts digit separators, Go does not
        raise MetricsError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    try:
        return float(text)
    except ValueError as exc:
        raise MetricsError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from exc


def _short(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode(errors="replace")
