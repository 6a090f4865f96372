"""A deterministic synthetic Traefik exporter for the metrics tests.

Traffic is a list of ``Flow``s: a constant request rate with one latency and one status code on one
Traefik service label. Every counter is an exact function of the time ``now()`` returns (requests =
rate × elapsed since the flow started or since its counter reset), so a test can compute by hand what
``rate()`` and ``histogram_quantile`` must return. Names and labels are Traefik's (spec §4.3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

BUCKETS = (("0.1", 0.1), ("0.3", 0.3), ("1.2", 1.2), ("5", 5.0))  # Traefik's default buckets
CANARY = "test-podinfo-canary-80@kubernetescrd"
CANARY_2 = "test-podinfo-canary-8080@kubernetescrd"
PRIMARY = "test-podinfo-primary-80@kubernetescrd"


@dataclass(frozen=True)
class Flow:
    """``per_second`` requests answered with ``code`` after ``seconds``, from ``start`` on."""

    service: str
    code: int
    per_second: float
    seconds: float
    start: float = 0.0
    reset_at: float | None = None  # the process restarts: counters drop to zero at this time

    def requests(self, now: float) -> float | None:
        """Requests counted at ``now``; None while the series does not exist yet."""
        if now < self.start:
            return None
        since = self.start if self.reset_at is None or now < self.reset_at else self.reset_at
        return self.per_second * (now - since)


class SyntheticTraefik:
    """A prometheus_client collector of Traefik's service metrics driven by ``Flow``s."""

    def __init__(self, now: Callable[[], float], flows: tuple[Flow, ...] = ()) -> None:
        self._now = now
        self._flows = list(flows)
        self._lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def add(self, *flows: Flow) -> None:
        with self._lock:
            self._flows.extend(flows)

    def collect(self) -> Iterator[Any]:
        now = self._now()  # one instant per scrape: every series of a scrape is consistent
        with self._lock:
            flows = list(self._flows)
        per_series: dict[tuple[str, int], list[tuple[Flow, float]]] = {}
        for flow in flows:
            count = flow.requests(now)
            if count is not None:
                per_series.setdefault((flow.service, flow.code), []).append((flow, count))
        requests = CounterMetricFamily(
            "traefik_service_requests",
            "How many HTTP requests processed on a service.",
            labels=("code", "method", "protocol", "service"),
        )
        durations = HistogramMetricFamily(
            "traefik_service_request_duration_seconds",
            "How long it took to process the request on a service.",
            labels=("code", "method", "protocol", "service"),
        )
        for (service, code), parts in sorted(per_series.items()):
            labels = [str(code), "GET", "http", service]
            total = sum(count for _, count in parts)
            buckets = [
                (le, sum(count for flow, count in parts if flow.seconds <= bound)) for le, bound in BUCKETS
            ]
            latency_sum = sum(count * flow.seconds for flow, count in parts)
            requests.add_metric(labels, total)
            durations.add_metric(labels, [*buckets, ("+Inf", total)], latency_sum)
        yield requests
        yield durations

    def text(self) -> str:
        return generate_latest(self.registry).decode()

    # serving on 127.0.0.1 --------------------------------------------------------------------------

    def serve(self) -> str:
        """Serve ``/metrics`` on a free loopback port; returns ``host:port``."""
        server, thread = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self._server, self._thread = server, thread
        return f"127.0.0.1:{server.server_address[1]}"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
