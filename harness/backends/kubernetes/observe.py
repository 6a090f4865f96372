"""Evidence from a real cluster: Flagger events from the event receiver, and Prometheus queries.

Prometheus is reached either with httpx at a URL (e.g. a ``kubectl port-forward``) or through the API
server's service proxy; both return the same ``/api/v1/query`` JSON, evaluated like Flagger does
(instant query; last series wins; empty or NaN → "no values found", semantics spec §5.3).
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import httpx

from harness.backends.kubernetes.api import ClusterApi
from harness.controllers.flagger.model import CanaryEvent, Phase
from harness.errors import ClusterError, MetricsError, NoValuesFound

PROMETHEUS_TIMEOUT_SECONDS = 5.0  # Flagger's query timeout


class PromQuery(Protocol):
    def query(self, promql: str) -> Mapping[str, Any]:
        """The ``data`` member of a successful ``/api/v1/query`` response."""
        ...


class HttpxPrometheus:
    """Prometheus HTTP API over httpx (a URL reachable from the harness host)."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(
            base_url=url.rstrip("/"), timeout=PROMETHEUS_TIMEOUT_SECONDS, transport=transport
        )

    def query(self, promql: str) -> Mapping[str, Any]:
        try:
            response = self._client.get("/api/v1/query", params={"query": promql})
        except httpx.HTTPError as exc:
            raise MetricsError(f"Prometheus query failed: {exc}") from exc
        return _data(response.status_code, response.text)

    def close(self) -> None:
        self._client.close()


class ProxyPrometheus:
    """Prometheus HTTP API through the API server's service proxy (no port-forward needed)."""

    def __init__(self, api: ClusterApi, namespace: str, service: str, port: int) -> None:
        self._api, self._namespace, self._service, self._port = api, namespace, service, port

    def query(self, promql: str) -> Mapping[str, Any]:
        try:
            text = self._api.service_proxy_get(
                self._namespace, self._service, self._port, "api/v1/query", {"query": promql}
            )
        except ClusterError as exc:
            raise MetricsError(f"Prometheus query failed: {exc}") from exc
        return _data(200, text)


def probe_http(url: str, *, host: str | None = None, timeout: float = 3.0) -> int:
    """The HTTP status ``url`` answers with (any answer counts); ``ClusterError`` when nothing answers."""
    try:
        response = httpx.get(url, headers={"Host": host} if host else None, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ClusterError(f"no HTTP answer from {url}: {exc}") from exc
    return response.status_code


def _data(status: int, text: str) -> Mapping[str, Any]:
    if status >= 400:
        raise MetricsError(f"Prometheus query failed: error response: Status {status}: {text[:300]}")
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise MetricsError(f"Prometheus query failed: unreadable response: {text[:200]!r}") from exc
    if payload.get("status") != "success":
        raise MetricsError(f"Prometheus query failed: {payload.get('error', payload)}")
    return dict(payload.get("data", {}))


def single_value(data: Mapping[str, Any]) -> float:
    """Flagger's reading of an instant-query result: last parseable value wins; empty/NaN → no values."""
    if data.get("resultType") != "vector":
        raise MetricsError(f"Prometheus query failed: expected a vector, got {data.get('resultType')!r}")
    value = math.nan
    for series in data.get("result", []):
        try:
            value = float(series["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    if math.isnan(value):
        raise NoValuesFound()
    return value


def series_count(prom: PromQuery, selector: str) -> int:
    """How many series match ``selector`` (0 when none)."""
    try:
        return int(single_value(prom.query(f"count({selector})")))
    except NoValuesFound:
        return 0


def builtin_queries(namespace: str, target: str, window: str) -> dict[str, str]:
    """Flagger's Traefik builtin queries, rendered by ``harness.controllers.flagger.queries`` (imported
    lazily)."""
    module: Any = importlib.import_module("harness.controllers.flagger.queries")
    return {
        "request-success-rate": module.request_success_rate(namespace, target, window),
        "request-duration": module.request_duration(namespace, target, window),
    }


# -- events --------------------------------------------------------------------------------------------
def parse_events(
    text: str, *, namespace: str, name: str, origin: datetime, scale: float = 1.0
) -> tuple[list[CanaryEvent], int]:
    """Events of one Canary from the receiver's ``GET /events`` body; also returns the total count."""
    try:
        payloads = json.loads(text)
    except ValueError as exc:
        raise ClusterError(f"event receiver returned unreadable JSON: {text[:200]!r}") from exc
    if not isinstance(payloads, list):
        raise ClusterError(f"event receiver returned {type(payloads).__name__}, expected a list")
    events = [
        event
        for payload in payloads
        if isinstance(payload, dict) and payload.get("namespace") == namespace and payload.get("name") == name
        if (event := to_event(payload, origin, scale)) is not None
    ]
    return events, len(payloads)


def to_event(payload: Mapping[str, Any], origin: datetime, scale: float = 1.0) -> CanaryEvent | None:
    """One Flagger event-webhook payload → ``CanaryEvent`` (None when it carries no message); its time
    is run-clock seconds: real seconds since ``origin`` times the run's time scale."""
    metadata = payload.get("metadata") or {}
    message = metadata.get("eventMessage")
    if not message:
        return None
    kind: Literal["Normal", "Warning"] = "Warning" if metadata.get("eventType") == "Warning" else "Normal"
    try:
        epoch = int(metadata.get("timestamp", "0")) / 1000
    except (TypeError, ValueError):
        epoch = 0.0
    at = (datetime.fromtimestamp(epoch, UTC) - origin).total_seconds() * scale
    try:
        phase = Phase(payload.get("phase", ""))
    except ValueError:
        phase = Phase.NONE
    return CanaryEvent(at=at, type=kind, message=str(message), phase=phase)


def flagger_provider(args: Sequence[str]) -> str | None:
    """The ``-mesh-provider`` value from Flagger's container args (``-mesh-provider=traefik`` or split)."""
    for index, arg in enumerate(args):
        stripped = arg.lstrip("-")
        if stripped.startswith("mesh-provider="):
            return stripped.split("=", 1)[1]
        if stripped == "mesh-provider" and index + 1 < len(args):
            return args[index + 1]
    return None
