"""What a run on a cluster observes besides the controller's status: events, metric checks, router weights.

``ClusterEvidence`` belongs to one run namespace. Flagger events come from the run's event receiver (its
index makes every read resumable: an unreadable receiver is a recorded gap, never a loss); once per analysis
interval while Progressing the builtin checks are re-run against Flagger's Prometheus with the applied
(time-scaled) windows (Traefik only: on Linkerd the checks are MetricTemplates). The router's weights are
read by ``router_weights.RouterWeights``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from harness.backends.kubernetes.api import ClusterApi
from harness.backends.kubernetes.manifests import APP_NAME, EVENT_RECEIVER, EVENT_RECEIVER_PORT
from harness.backends.kubernetes.observe import PromQuery, builtin_queries, parse_events, single_value
from harness.clock import Clock
from harness.controllers.flagger.model import CanaryEvent, CanarySpec, CanaryStatus, MetricResult, Phase
from harness.errors import ClusterError, MetricsError


@dataclass
class ClusterEvidence:
    """Reads one run namespace's events, builtin metric checks and router weights."""

    api: ClusterApi
    prometheus: PromQuery
    clock: Clock
    namespace: str
    diagnostics: MutableMapping[str, str]
    evidence_windows: dict[str, str] = field(default_factory=dict)  # metric name → applied interval
    events_seen: int = 0
    events_gap: str | None = None  # set while the event receiver cannot be read; cleared by a good read
    last_check_at: float | None = None
    builtin_evidence: bool = True  # re-run the builtin (Traefik) checks

    def new_events(self) -> list[CanaryEvent]:
        try:
            text = self.api.service_proxy_get(
                self.namespace,
                EVENT_RECEIVER,
                EVENT_RECEIVER_PORT,
                "events",
                {"since": str(self.events_seen)},
            )
            events, count = parse_events(
                text,
                namespace=self.namespace,
                name=APP_NAME,
                origin=self.clock.wall(0.0),
                scale=self.clock.scale,
            )
        except ClusterError as exc:
            # The receiver keeps every event: the next good read from the same index loses nothing.
            self.diagnostics["event-receiver-error"] = str(exc)
            if self.events_gap is None:
                self.events_gap = (
                    f"Flagger events unreadable since t={self.clock.now():.0f}s "
                    f"(event receiver {self.namespace}/{EVENT_RECEIVER}): {exc}"
                )
            return []
        self.events_gap = None
        self.events_seen += count
        return events

    def metric_evidence(
        self, spec: CanarySpec | None, status: CanaryStatus | None
    ) -> tuple[tuple[MetricResult, ...], tuple[Mapping[str, Any], ...]]:
        now = self.clock.now()
        if not self.builtin_evidence or spec is None or status is None or status.phase != Phase.PROGRESSING:
            return (), ()
        if self.last_check_at is not None and now - self.last_check_at < spec.analysis.interval_seconds:
            return (), ()
        self.last_check_at = now
        results, raw = [], []
        for metric in spec.analysis.metrics:
            # the applied (time-scaled) interval of this metric; Flagger's builtin default window is 1m
            window = self.evidence_windows.get(metric.name) or metric.interval or "1m"
            try:
                queries = builtin_queries(spec.namespace, spec.target_name, window)
            except (ImportError, AttributeError) as exc:
                self.diagnostics["metric-evidence"] = (
                    f"harness.controllers.flagger.queries unavailable: {exc}"
                )
                return (), ()
            if metric.name in queries:
                promql = queries[metric.name]
                result, data = self._check(metric.name, promql, metric.threshold_range, now)
                results.append(result)
                raw.append(
                    {"metric": metric.name, "query": promql, "window": window, "at": now, "data": data}
                )
        return tuple(results), tuple(raw)

    def _check(self, name: str, promql: str, bounds: Any, now: float) -> tuple[MetricResult, Any]:
        try:
            data = self.prometheus.query(promql)
            value = single_value(data)
        except MetricsError as exc:
            return MetricResult(now, name, promql, None, False, str(exc)), None
        if name == "request-duration":
            value = float(int(value))  # Flagger truncates to whole milliseconds
        low, high = (bounds.min, bounds.max) if bounds is not None else (None, None)
        passed = (low is None or value >= low) and (high is None or value <= high)
        return MetricResult(now, name, promql, value, passed), dict(data)


def wait_for_receiver(
    api: ClusterApi, clock: Clock, namespace: str, budget_seconds: float, on_timeout: Callable[[], None]
) -> None:
    """Poll until the receiver's Deployment is ready and its Service answers /healthz (bounded)."""
    deadline = clock.now() + budget_seconds
    last = "not checked yet"
    while True:
        deployment = api.get_deployment(namespace, EVENT_RECEIVER)
        if deployment is None:
            last = "deployment not found"
        elif not deployment.ready:
            last = deployment.summary()
        else:
            try:
                api.service_proxy_get(namespace, EVENT_RECEIVER, EVENT_RECEIVER_PORT, "healthz")
                return
            except ClusterError as exc:
                last = f"deployment ready, service not answering: {exc}"
        if clock.now() >= deadline:
            on_timeout()
            raise ClusterError(
                f"event receiver {namespace}/{EVENT_RECEIVER} not ready within {budget_seconds:g}s: {last}"
            )
        clock.sleep(min(2.0, deadline - clock.now()))
