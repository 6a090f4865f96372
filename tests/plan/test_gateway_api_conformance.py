"""The builtin-metric trap on gatewayapi:* vs the controller fed Linkerd's own series (plan vs emulation).

The controller renders Flagger's HttpObserver query for a builtin metric and asks an embedded Prometheus
holding what linkerd-viz' Prometheus holds: linkerd-proxy's inbound ``response_total`` /
``response_latency_ms_bucket`` of the primary and canary pods (``harness.providers.linkerd.metrics``),
plus the app's own ``http_request_duration_seconds_count`` without the ``kubernetes_pod_name`` label.
Traffic follows the router's weights, 100 req/s, scraped every 5 s of the FakeClock.
"""

from __future__ import annotations

from harness.clock import FakeClock
from harness.controllers.flagger.queries import MetricTemplate
from harness.metrics.embedded import EmbeddedPrometheus
from harness.metrics.scrape import parse_exposition
from harness.plan.planner import plan
from harness.providers.linkerd.metrics import InboundMetrics, InboundTarget
from harness.providers.linkerd.queries import TEMPLATE_SUCCESS_RATE
from harness.testing.ports import FakeRouter

from ..flagger.rig import canary
from .emulate import emulate
from .test_traps import GATEWAY_SERVICE, SUCCESS_RATE_TEMPLATE
from .test_worked_examples import LENIENT

RPS, SCRAPE = 100, 5.0
PODS = {
    "primary": InboundTarget("test", "podinfo-primary", "podinfo-primary-7c9d-x1", "10.0.0.1:9898"),
    "canary": InboundTarget("test", "podinfo", "podinfo-5f6b-y2", "10.0.0.2:9898"),
}
APP_SERIES = "http_request_duration_seconds_count"  # the app's own, as scraped without Kubernetes labels
ANALYSIS = {"interval": "30s", "threshold": 2, "webhooks": []}


class LinkerdVizPrometheus:
    """A ``MetricsProvider``: healthy mesh traffic up to ``clock.now()``, then the embedded evaluator."""

    def __init__(self, clock: FakeClock, router: FakeRouter) -> None:
        self.clock, self.router = clock, router
        self.mesh = InboundMetrics(compact=True)
        self.app_requests = 0
        self.prometheus = EmbeddedPrometheus(lambda: "", clock=clock)
        self.scraped_until = clock.now()

    def _canary_weight(self, at: float) -> int:
        return next((c for when, _, c in reversed(self.router.history) if when <= at), 0)

    def _catch_up(self) -> None:
        while self.scraped_until + SCRAPE <= self.clock.now():
            self.scraped_until += SCRAPE
            requests = int(RPS * SCRAPE)
            to_canary = round(requests * self._canary_weight(self.scraped_until) / 100)
            for side, count in (("canary", to_canary), ("primary", requests - to_canary)):
                for _ in range(count):
                    self.mesh.record(PODS[side], 200, 0.012)
            self.app_requests += requests
            app = f'{APP_SERIES}{{instance="10.0.0.2:9898",status="200"}} {self.app_requests}\n'
            self.prometheus.store.add(self.scraped_until, parse_exposition(self.mesh.render() + app))

    def is_online(self) -> bool:
        return self.query("vector(1)") == 1.0

    def query(self, promql: str) -> float:
        self._catch_up()
        return self.prometheus.evaluate(promql, self.clock.now())


def linkerd_canary(metrics):
    return canary(ANALYSIS | {"metrics": metrics}, provider="gatewayapi:v1beta1", service=GATEWAY_SERVICE)


BUILTIN = {"name": "request-success-rate", "interval": "1m", "thresholdRange": {"min": 99}}
TUTORIAL = MetricTemplate("success-rate", "test", "prometheus", "", TEMPLATE_SUCCESS_RATE)


class TestBuiltinOnGatewayApi:
    def test_a_healthy_canary_is_rolled_back_where_the_plan_says(self):
        """The HttpObserver query finds no values on the first analysis tick and every tick after:
        rolled back at the first weight after threshold checks, on the tick the plan predicts."""
        spec = linkerd_canary([BUILTIN])
        predicted = plan(spec, rps=RPS, policy=LENIENT)
        assert "builtin-metric-on-gateway-api" in {t.code for t in predicted.traps}
        observed = emulate(spec, metrics_provider=LinkerdVizPrometheus)
        assert observed.outcome == predicted.healthy.outcome == "rolled-back"
        assert observed.decided_tick == predicted.healthy.decided_tick
        assert observed.weight_at_abort == predicted.weights[0] == 10
        checks = [c for r in observed.records for c in r.checks]
        assert checks
        assert all(not c.passed and "no values" in (c.error or "") for c in checks)
        assert all("http_request_duration_seconds_count" in c.query for c in checks)

    def test_the_tutorial_template_over_response_total_promotes_as_planned(self):
        """The trap's remedy on the same traffic: every check passes, promoted on the predicted tick."""
        spec = linkerd_canary([SUCCESS_RATE_TEMPLATE])
        predicted = plan(spec, rps=RPS, policy=LENIENT, templates=[TUTORIAL])
        assert not [t for t in predicted.traps if t.severity == "error"]
        observed = emulate(spec, metrics_provider=LinkerdVizPrometheus, templates=[TUTORIAL])
        assert observed.outcome == predicted.healthy.outcome == "promoted"
        assert (observed.promote_tick, observed.decided_tick) == (
            predicted.healthy.promote_tick,
            predicted.healthy.decided_tick,
        )
        checks = [c for r in observed.records for c in r.checks]
        assert checks
        assert all(c.passed and c.value == 100.0 for c in checks)
