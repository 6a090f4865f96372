"""Prometheus metrics on the app's own ``CollectorRegistry`` (never the global one)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from faulty_app.config import BUSINESS_ROUTES, KINDS

__all__ = ["CONTENT_TYPE_LATEST", "AppMetrics"]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class AppMetrics:
    """The app's series; label children are cached so a request costs two dict lookups."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests", "HTTP responses by route, status code and app version.",
            ["route", "code", "version"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "http_request_duration_seconds", "Time to answer, including injected delays.",
            ["route", "version"], buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        validation = Counter(
            "app_validation_failures", "Responses served with a corrupted body (wrong_answer).",
            ["version"], registry=self.registry,
        )  # fmt: skip
        self.validation_failures = validation.labels(version=version)
        self.fault_active = Gauge(
            "app_fault_active",
            "1 while a fault of this kind has an open window.",
            ["kind"],
            registry=self.registry,
        )
        self.cpu_burnt = Gauge(
            "app_cpu_burn_seconds", "CPU seconds burnt by cpu_burn so far.", registry=self.registry
        )
        self.leaked = Gauge("app_leaked_bytes", "Bytes held by memory_leak.", registry=self.registry)
        self._request_children: dict[tuple[str, int], Counter] = {}
        self._duration_children: dict[str, Histogram] = {}
        for route in BUSINESS_ROUTES:  # series exist (at 0) before the first request
            self._count(route, 200)
            self._duration_child(route)
        self.set_active(())

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Record one answered (or abandoned, status 499) request."""
        self._count(route, status).inc()
        self._duration_child(route).observe(seconds)

    def set_active(self, kinds: Iterable[str]) -> None:
        active = frozenset(kinds)
        for kind in KINDS:
            self.fault_active.labels(kind=kind).set(1 if kind in active else 0)

    def render(self, active: Iterable[str], cpu_burnt: float, leaked: int) -> bytes:
        """Refresh the state gauges, then the text exposition format."""
        self.set_active(active)
        self.cpu_burnt.set(cpu_burnt)
        self.leaked.set(leaked)
        return generate_latest(self.registry)

    def _count(self, route: str, status: int) -> Counter:
        child = self._request_children.get((route, status))
        if child is None:
            child = self.requests.labels(route=route, code=str(status), version=self.version)
            self._request_children[(route, status)] = child
        return child

    def _duration_child(self, route: str) -> Histogram:
        child = self._duration_children.get(route)
        if child is None:
            child = self.duration.labels(route=route, version=self.version)
            self._duration_children[route] = child
        return child
