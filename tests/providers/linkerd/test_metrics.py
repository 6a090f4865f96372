"""linkerd-proxy's inbound series as rendered by the stand-in, and Flagger's Linkerd queries over them."""

from __future__ import annotations

from typing import ClassVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.clock import FakeClock
from harness.controllers.flagger.linkerd_queries import builtin_query, template_query, tutorial_templates
from harness.errors import NoValuesFound
from harness.metrics.embedded import EmbeddedPrometheus
from harness.providers.linkerd.metrics import (
    LATENCY_BUCKETS_MS,
    InboundMetrics,
    InboundTarget,
    classify,
    latency_ms,
)
from harness.providers.linkerd.plugin import LINKERD_GATEWAY_API
from harness.scenario.flagger_canary import parse_canary
from tests.cohort_fixtures import canary_document

CANARY_POD = InboundTarget(
    "test", "podinfo", "podinfo-7d9f-x1", "127.0.0.1:9898", client_id="loadgen.test.sa"
)
PRIMARY_POD = InboundTarget("test", "podinfo-primary", "podinfo-primary-5c4b-y2", "127.0.0.1:9899")

SUCCESS_RATE_TEMPLATE = {
    "name": "success-rate",
    "templateRef": {"name": "success-rate", "namespace": "test"},
    "thresholdRange": {"min": 99},
    "interval": "1m",
    "templateVariables": {"direction": "inbound"},
}
CANARY = canary_document(
    {"interval": "30s", "threshold": 5, "maxWeight": 50, "stepWeight": 5, "metrics": [SUCCESS_RATE_TEMPLATE]},
    port=9898,
    deadline=None,
)


def families(metrics: InboundMetrics) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(metrics.render())}


class TestClassification:
    @pytest.mark.parametrize(
        ("status", "error", "expected"),
        [(200, None, ("success", "")), (404, None, ("success", "")), (499, None, ("success", "")),
         (500, None, ("failure", "")), (599, None, ("failure", "")),
         (None, None, ("failure", "unclassified")), (None, "timeout", ("failure", "timeout"))],
    )  # fmt: skip
    def test_default_http_classifier(self, status, error, expected) -> None:
        """5xx and requests without a response are failures; 4xx are successes."""
        assert classify(status, error) == expected

    def test_latency_is_truncated_to_whole_milliseconds(self) -> None:
        """0.9 ms counts as 0, 1.99 ms as 1 (the proxy's Ms → u64)."""
        assert [latency_ms(s) for s in (0.0009, 0.00199, 0.25, 60.0)] == [0, 1, 250, 60000]


class TestExposition:
    def test_series_names_and_types(self) -> None:
        """request_total, response_total and response_latency_ms_{bucket,count,sum}, parsed back."""
        metrics = InboundMetrics()
        metrics.record(CANARY_POD, 200, 0.012)
        parsed = {f.name: f.type for f in text_string_to_metric_families(metrics.render())}
        assert parsed == {"request": "counter", "response": "counter", "response_latency_ms": "histogram"}

    def test_response_labels_as_viz_stores_them(self) -> None:
        """direction=inbound, status_code, classification, the default policy and viz' pod labels."""
        metrics = InboundMetrics()
        metrics.record(CANARY_POD, 503, 0.004, authority="podinfo.test.svc.cluster.local:9898")
        (sample,) = families(metrics)["response"]
        assert sample.name == "response_total"
        assert sample.value == 1
        assert sample.labels == {
            "direction": "inbound", "authority": "podinfo.test.svc.cluster.local:9898",
            "target_addr": "127.0.0.1:9898", "tls": "true", "client_id": "loadgen.test.sa",
            "srv_group": "", "srv_kind": "default", "srv_name": "all-unauthenticated", "srv_port": "9898",
            "route_group": "", "route_kind": "default", "route_name": "default",
            "authz_group": "", "authz_kind": "default", "authz_name": "all-unauthenticated",
            "namespace": "test", "pod": "podinfo-7d9f-x1", "deployment": "podinfo",
            "status_code": "503", "classification": "failure", "grpc_status": "", "error": "",
        }  # fmt: skip

    def test_connection_error_has_no_status_code_and_no_latency(self) -> None:
        """A refused connection: failure with error=unclassified, no status_code, not in the histogram."""
        metrics = InboundMetrics()
        metrics.record(CANARY_POD, 200, 0.002)
        metrics.record(CANARY_POD, None, 1.0)
        got = families(metrics)
        errors = [s for s in got["response"] if s.labels["classification"] == "failure"]
        assert len(errors) == 1
        assert "status_code" not in errors[0].labels
        assert errors[0].labels["error"] == "unclassified"
        count = [s for s in got["response_latency_ms"] if s.name == "response_latency_ms_count"]
        assert [s.value for s in count] == [1]
        assert [s.value for s in got["request"]] == [2]

    def test_a_caller_that_went_away_counts_as_a_request_only(self) -> None:
        """Dropped before the response head (client timeout on a hung pod): request_total, nothing else."""
        metrics = InboundMetrics(compact=True)
        metrics.record(CANARY_POD, 200, 0.002)
        metrics.record_unanswered(CANARY_POD)
        got = families(metrics)
        assert [s.value for s in got["request"]] == [2]
        assert [s.value for s in got["response"]] == [1]
        count = [s for s in got["response_latency_ms"] if s.name == "response_latency_ms_count"]
        assert [s.value for s in count] == [1]

    def test_buckets_are_linkerds(self) -> None:
        """le 1 … 50000 then +Inf; 2.5 ms lands in le=3 (truncated to 2 ms: le=2), sum in ms."""
        metrics = InboundMetrics()
        metrics.record(CANARY_POD, 200, 0.0025)
        metrics.record(CANARY_POD, 200, 70.0)
        samples = families(metrics)["response_latency_ms"]
        buckets = {s.labels["le"]: s.value for s in samples if s.name == "response_latency_ms_bucket"}
        assert list(buckets) == [*(str(b) for b in LATENCY_BUCKETS_MS), "+Inf"]
        assert (buckets["1"], buckets["2"], buckets["50000"], buckets["+Inf"]) == (0, 1, 1, 2)
        (total,) = [s.value for s in samples if s.name == "response_latency_ms_sum"]
        assert total == 2 + 70000


def scrape_flows(
    flows: list[tuple[InboundTarget, int | None, float, int]], seconds: int = 60, *, compact: bool = False
):
    """An embedded Prometheus scraping every 5 s while ``flows`` ran (target, status, latency, per 5 s)."""
    clock, metrics = FakeClock(), InboundMetrics(compact=compact)
    prometheus = EmbeddedPrometheus(metrics.render, clock=clock, scrape_interval_seconds=5.0)
    for _ in range(seconds // 5 + 1):
        prometheus.scrape_once()
        for target, status, latency, count in flows:
            for _ in range(count):
                metrics.record(target, status, latency)
        clock.advance(5.0)
    return prometheus


class TestQueriesOverTheSeries:
    FLOWS: ClassVar = [
        (CANARY_POD, 200, 0.012, 40), (CANARY_POD, 200, 0.250, 8), (CANARY_POD, 500, 0.005, 2),
        (CANARY_POD, None, 1.0, 1), (PRIMARY_POD, 500, 0.9, 50),
    ]  # fmt: skip

    def test_builtin_success_rate_counts_connection_errors_and_ignores_the_primary(self) -> None:
        """48 good of 51 canary answers (2 × 500, 1 refused); the primary's 500s are not selected."""
        prometheus = scrape_flows(self.FLOWS)
        value = prometheus.evaluate(builtin_query("linkerd", "request-success-rate", "test", "podinfo"), 60)
        assert value == pytest.approx(48 / 51 * 100)

    def test_builtin_p99_interpolates_in_the_300_ms_bucket(self) -> None:
        """50 observed (the refused one is not): rank 49.5 lies 7.5/8 into (200, 300] → 293.75 ms."""
        prometheus = scrape_flows(self.FLOWS)
        value = prometheus.evaluate(builtin_query("linkerd", "request-duration", "test", "podinfo"), 60)
        assert value == pytest.approx(293.75)

    def test_tutorial_template_renders_to_the_same_number(self) -> None:
        """The success-rate MetricTemplate with direction=inbound equals the builtin."""
        spec = parse_canary(CANARY, "canary.yaml")
        (metric,) = spec.analysis.metrics
        template, _ = tutorial_templates("test")
        promql = template_query(template, spec, metric.interval or "1m", dict(metric.template_variables))
        assert 'direction="inbound"' in promql
        assert promql.strip() == builtin_query("linkerd", "request-success-rate", "test", "podinfo").strip()
        assert scrape_flows(self.FLOWS).evaluate(promql, 60) == pytest.approx(48 / 51 * 100)

    def test_compact_labels_give_the_same_answers(self) -> None:
        """Dropping the constant policy/TLS labels changes no query result."""
        prometheus = scrape_flows(self.FLOWS, compact=True)
        success = builtin_query("linkerd", "request-success-rate", "test", "podinfo")
        assert prometheus.evaluate(success, 60) == pytest.approx(48 / 51 * 100)
        assert prometheus.evaluate(builtin_query("linkerd", "request-duration", "test", "podinfo"), 60) == (
            pytest.approx(293.75)
        )
        text = InboundMetrics(compact=True)
        text.record(CANARY_POD, 200, 0.01)
        assert "srv_name" not in text.render()
        assert 'direction="inbound"' in text.render()

    def test_no_canary_traffic_is_no_values(self) -> None:
        """Only primary traffic: the canary query finds nothing (Flagger's "no values found")."""
        prometheus = scrape_flows([(PRIMARY_POD, 200, 0.01, 10)])
        with pytest.raises(NoValuesFound):
            prometheus.evaluate(builtin_query("linkerd", "request-success-rate", "test", "podinfo"), 60)

    def test_gatewayapi_builtins_query_the_apps_metrics(self) -> None:
        """On gatewayapi:* the builtin names select http_request_duration_seconds, not Linkerd's series."""
        promql = builtin_query("gatewayapi:v1beta1", "request-success-rate", "test", "podinfo")
        assert "http_request_duration_seconds_count" in promql
        assert "response_total" not in promql
        with pytest.raises(NoValuesFound):
            scrape_flows(self.FLOWS).evaluate(promql, 60)


class TestPlugin:
    def test_plugin_uses_flaggers_gatewayapi_builtins_and_the_deployment_label(self) -> None:
        """gatewayapi:v1beta1 runs the HTTP observer's builtins; the stand-in labels series by deployment."""
        assert LINKERD_GATEWAY_API.routes_by_match
        assert (
            "http_request_duration_seconds_count"
            in LINKERD_GATEWAY_API.builtin_templates["request-success-rate"]
        )
        assert LINKERD_GATEWAY_API.service_label("test", "podinfo", "canary", 80) == CANARY_POD.deployment
        assert LINKERD_GATEWAY_API.service_label("test", "podinfo", "primary", 80) == PRIMARY_POD.deployment
