"""linkerd-proxy's inbound HTTP series for meshed pods, as linkerd-viz' Prometheus stores them (pure).

Names, labels and buckets follow linkerd2-proxy (``linkerd/http/metrics/src/requests/report.rs``,
``linkerd/app/core/src/metrics.rs``, ``classify.rs``, ``linkerd/metrics/src/latency.rs``):

- ``request_total`` (target labels), ``response_latency_ms`` (target labels + ``status_code``),
  ``response_total`` (target labels + ``status_code`` + ``classification``, ``grpc_status``, ``error``);
- inbound target labels: ``direction="inbound"``, ``authority`` (when the request had one),
  ``target_addr``, ``tls``/``client_id``, and the default policy's ``srv_*``, ``route_*``, ``authz_*``;
- classification: status 500–599 is a failure; a request that ends without a response (connection
  refused or reset, timeout) is a failure with an ``error`` label and **no** ``status_code`` label, and
  is not observed in the latency histogram;
- latency in whole milliseconds (truncated), buckets ``LATENCY_BUCKETS_MS`` + ``+Inf``, ``_sum`` in ms.

The proxy itself exports no ``namespace``/``pod``/``deployment``: linkerd-viz' scrape config adds them from
pod metadata (``deployment`` from the ``linkerd.io/proxy-deployment`` pod label). ``InboundTarget`` carries
them so the rendered text is what Flagger's queries see. ``InboundMetrics`` is the mutable recorder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric

Classification = Literal["success", "failure"]
Labels = tuple[tuple[str, str], ...]

# linkerd/metrics/src/latency.rs BOUNDS (ms); rendered as le="1" … le="50000", then le="+Inf".
LATENCY_BUCKETS_MS: tuple[int, ...] = (
    1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500,
    1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000,
)  # fmt: skip
DEFAULT_SERVER = "all-unauthenticated"  # the cluster default policy's name (srv_name / authz_name)
CONNECTION_ERROR = "unclassified"  # classify.rs: a non-h2 error without a response
TIMEOUT_ERROR = "timeout"  # classify.rs: ResponseTimeoutError
_HELP = {
    "request": "Total count of HTTP requests.",
    "response": "Total count of HTTP responses.",
    "response_latency_ms": "Elapsed times between a request's headers being received and its response stream "
    "completing",
}


@dataclass(frozen=True)
class InboundTarget:
    """The inbound side of one meshed pod, plus the labels linkerd-viz adds when it scrapes the pod."""

    namespace: str
    deployment: str  # "<target>" for canary pods, "<target>-primary" for primary pods
    pod: str
    target_addr: str  # "ip:port" the proxy forwards to (the app's port)
    client_id: str = ""  # mTLS identity of the caller; "" = meshed caller without identity
    tls: Literal["true", "disabled"] = "true"
    server: str = DEFAULT_SERVER

    @property
    def port(self) -> str:
        return self.target_addr.rsplit(":", 1)[-1]

    def labels(self, authority: str | None = None, *, compact: bool = False) -> Labels:
        """Proxy labels in the proxy's order, then viz' ``namespace``, ``pod``, ``deployment``.

        ``compact`` drops the labels that are constant under the default policy (``tls``, ``client_id``,
        ``srv_*``, ``route_*``, ``authz_*``): no Flagger query reads them, and they triple the parse cost
        of every scrape for the embedded evaluator.
        """
        tls: Labels = (
            (("tls", "true"), ("client_id", self.client_id)) if self.tls == "true" else (("tls", "disabled"),)
        )
        policy: Labels = (
            ("srv_group", ""), ("srv_kind", "default"), ("srv_name", self.server), ("srv_port", self.port),
            ("route_group", ""), ("route_kind", "default"), ("route_name", "default"),
            ("authz_group", ""), ("authz_kind", "default"), ("authz_name", self.server),
        )  # fmt: skip
        head: Labels = (("direction", "inbound"),) + ((("authority", authority),) if authority else ())
        viz: Labels = (("namespace", self.namespace), ("pod", self.pod), ("deployment", self.deployment))
        if compact:
            return (*head, ("target_addr", self.target_addr), *viz)
        return (*head, ("target_addr", self.target_addr), *tls, *policy, *viz)


def classify(status: int | None, error: str | None = None) -> tuple[Classification, str]:
    """(classification, error label) of one outcome as the proxy's default HTTP classifier sees it."""
    if status is None:
        return "failure", error or CONNECTION_ERROR
    return ("failure" if 500 <= status <= 599 else "success"), ""


def latency_ms(seconds: float) -> int:
    """The proxy's whole-millisecond observation (``Ms`` → ``u64`` truncates)."""
    return max(0, int(seconds * 1000))


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    total_ms: int = 0

    def observe(self, ms: int) -> None:
        index = next(
            (i for i, bound in enumerate(LATENCY_BUCKETS_MS) if ms <= bound), len(LATENCY_BUCKETS_MS)
        )
        self.buckets[index] += 1
        self.total_ms += ms


class InboundMetrics:
    """Counts inbound responses per pod; ``render`` is the exposition text (thread-safe).

    ``compact=True`` renders ``InboundTarget.labels(compact=True)``: the same queries, a third of the text.
    """

    def __init__(self, *, compact: bool = False) -> None:
        self.compact = compact
        self._lock = threading.Lock()
        self._requests: dict[Labels, int] = {}
        self._responses: dict[Labels, int] = {}
        self._latency: dict[Labels, _Histogram] = {}

    def record(
        self,
        target: InboundTarget,
        status: int | None,
        latency_seconds: float,
        *,
        error: str | None = None,
        authority: str | None = None,
    ) -> None:
        """One finished request: ``status`` None means it ended without a response (``error`` says how)."""
        base = target.labels(authority, compact=self.compact)
        classification, error_label = classify(status, error)
        status_labels: Labels = () if status is None else (("status_code", str(status)),)
        class_labels: Labels = (
            ("classification", classification),
            ("grpc_status", ""),
            ("error", error_label),
        )
        with self._lock:
            self._requests[base] = self._requests.get(base, 0) + 1
            key = base + status_labels + class_labels
            self._responses[key] = self._responses.get(key, 0) + 1
            if status is not None:
                self._latency.setdefault(base + status_labels, _Histogram()).observe(
                    latency_ms(latency_seconds)
                )

    def record_unanswered(self, target: InboundTarget, *, authority: str | None = None) -> None:
        """A request whose caller went away before the response head: ``request_total`` only.

        The proxy's ``ResponseFuture`` records the class when it resolves (response or error); dropped
        before that, no ``response_total`` and no latency (``linkerd/http/metrics/src/requests/service.rs``).
        """
        base = target.labels(authority, compact=self.compact)
        with self._lock:
            self._requests[base] = self._requests.get(base, 0) + 1

    def render(self) -> str:
        """The series in the Prometheus text format (prometheus_client's writer)."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return generate_latest(registry).decode("utf-8")

    def collect(self) -> Iterator[Metric]:
        """prometheus_client's collector protocol: register this object in any registry."""
        yield from self._families()

    def _families(self) -> tuple[Metric, ...]:
        requests = Metric("request", _HELP["request"], "counter")
        responses = Metric("response", _HELP["response"], "counter")
        latency = Metric("response_latency_ms", _HELP["response_latency_ms"], "histogram")
        with self._lock:
            for labels, count in sorted(self._requests.items()):
                requests.add_sample("request_total", dict(labels), float(count))
            for labels, histogram in sorted(self._latency.items()):
                _add_histogram(latency, dict(labels), histogram)
            for labels, count in sorted(self._responses.items()):
                responses.add_sample("response_total", dict(labels), float(count))
        return requests, latency, responses


def _add_histogram(family: Metric, labels: dict[str, str], histogram: _Histogram) -> None:
    cumulative = 0
    bounds = [str(b) for b in LATENCY_BUCKETS_MS] + ["+Inf"]
    for bound, count in zip(bounds, histogram.buckets, strict=True):
        cumulative += count
        family.add_sample("response_latency_ms_bucket", {**labels, "le": bound}, float(cumulative))
    family.add_sample("response_latency_ms_count", labels, float(cumulative))
    family.add_sample("response_latency_ms_sum", labels, float(histogram.total_ms))
