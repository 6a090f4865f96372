"""Custom metric preflight: the metric names a query reads, and their series for the primary."""

from __future__ import annotations

import dataclasses

import pytest

from harness.backends.kubernetes.manifests import find, render_kustomization
from harness.backends.kubernetes.metric_check import metric_names
from harness.controllers.flagger.model import MetricSpec, ThresholdRange
from harness.errors import MetricsError
from tests.kube.conftest import NAMESPACE, REPO

BUSINESS = 'sum(increase(app_validation_failures_total{version="1.1.0"}[1m])) or vector(0)'
VALIDATION = f'app_validation_failures_total{{kubernetes_namespace="{NAMESPACE}",app="faulty-app-primary"}}'
TRAEFIK_PRIMARY = f'{{service=~"{NAMESPACE}-faulty-app-primary-.+"}}'


def shipped_template(name: str) -> str:
    return str(find(render_kustomization(REPO / "cluster" / "app"), "MetricTemplate", name)["spec"]["query"])


class TestMetricNames:
    def test_inline_business_query(self):
        """Functions, label matchers, ranges and the vector(0) fallback are not metric names."""
        assert metric_names(BUSINESS) == ["app_validation_failures_total"]

    def test_shipped_templates(self):
        """Flagger placeholders and `by (le)` groupings are skipped; each series name appears once."""
        assert metric_names(shipped_template("error-rate-vs-primary")) == ["traefik_service_requests_total"]
        assert metric_names(shipped_template("latency-p95-vs-primary")) == [
            "traefik_service_request_duration_seconds_bucket"
        ]

    def test_bare_and_binary(self):
        """Bare names on both sides of an operator, and `offset`/`bool` keywords."""
        assert metric_names("foo_total / bar_total offset 5m > bool 1") == ["foo_total", "bar_total"]


def business_spec(spec):
    metrics = (
        *spec.analysis.metrics,
        MetricSpec("validation-failures", "1m", ThresholdRange(max=0), query=BUSINESS),
        MetricSpec(
            "error-rate-vs-primary", "1m", ThresholdRange(max=2), template_ref=("error-rate-vs-primary", None)
        ),
    )
    return dataclasses.replace(spec, analysis=dataclasses.replace(spec.analysis, metrics=metrics))


class TestBeforeTrigger:
    def test_unscraped_app_metric_stops_the_trigger(self, make_backend, cluster, spec, stable, bad):
        """No app_validation_failures_total from the primary: MetricsError naming metric and query."""
        cluster.prometheus_values[f"count(traefik_service_requests_total{TRAEFIK_PRIMARY})"] = 3.0
        backend = make_backend()
        backend.deploy(business_spec(spec), stable)
        with pytest.raises(
            MetricsError, match=r"validation-failures \(inline query\).*app_validation_failures_total"
        ) as caught:
            backend.trigger(bad)
        assert "vector(0)" in str(caught.value)
        assert "error-rate-vs-primary" not in str(caught.value)  # its Traefik series are there
        assert cluster.patches == []

    def test_missing_template_series_names_the_template(self, make_backend, cluster, spec, stable, bad):
        """No Traefik series for the primary: the template metric is named with its template."""
        cluster.prometheus_values[f"count({VALIDATION})"] = 1.0
        backend = make_backend()
        backend.deploy(business_spec(spec), stable)
        with pytest.raises(MetricsError, match=r"error-rate-vs-primary \(template error-rate-vs-primary\)"):
            backend.trigger(bad)

    def test_all_series_present_triggers(self, make_backend, cluster, spec, stable, bad):
        """With every metric scraped for the primary the revision is rolled out."""
        cluster.prometheus_values[f"count({VALIDATION})"] = 1.0
        cluster.prometheus_values[f"count(traefik_service_requests_total{TRAEFIK_PRIMARY})"] = 3.0
        backend = make_backend()
        backend.deploy(business_spec(spec), stable)
        backend.trigger(bad)
        assert len(cluster.patches) == 1


class TestScrapeAnnotations:
    def test_app_pods_are_scraped(self):
        """Flagger's Prometheus scrapes pods by prometheus.io/* annotations: the app's /metrics on 8080."""
        deployment = find(render_kustomization(REPO / "cluster" / "app"), "Deployment", "faulty-app")
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == "8080"
        assert annotations["prometheus.io/path"] == "/metrics"


class TestLinkerdTemplates:
    """linkerd-viz' Prometheus labels proxy series `namespace` and `deployment`, not the pod labels that
    Flagger's bundled Prometheus copies: the pre-trigger check must look where the series are."""

    def test_the_tutorial_templates_read_proxy_series_of_the_primary(self):
        from harness.backends.kubernetes.cluster_provider import LINKERD_MANIFESTS
        from harness.backends.kubernetes.metric_check import primary_selector

        objects = render_kustomization(LINKERD_MANIFESTS)
        queries = [str(m["spec"]["query"]) for m in objects if m["kind"] == "MetricTemplate"]
        names = sorted({n for q in queries for n in metric_names(q)})
        assert names == ["response_latency_ms_bucket", "response_total"]
        for name in names:
            selector = primary_selector(name, namespace=NAMESPACE, target="faulty-app", service="faulty-app")
            assert selector == (
                f'{name}{{namespace="{NAMESPACE}",deployment="faulty-app-primary",direction="inbound"}}'
            )

    def test_a_linkerd_run_triggers_when_the_primary_proxies_are_scraped(
        self, make_backend, cluster, stable, bad
    ):
        from tests.kube.test_linkerd_backend import linkerd_cluster, linkerd_spec, on_linkerd

        linkerd_cluster(cluster)
        backend = on_linkerd(make_backend, check_custom_metrics=True)
        spec = dataclasses.replace(
            linkerd_spec(),
            analysis=dataclasses.replace(
                linkerd_spec().analysis,
                metrics=(
                    MetricSpec(
                        "success-rate", "1m", ThresholdRange(min=99), template_ref=("success-rate", None)
                    ),
                ),
            ),
        )
        backend.deploy(spec, stable)
        with pytest.raises(MetricsError, match="response_total, which has no series for the primary"):
            backend.trigger(bad)
        primary = f'{{namespace="{NAMESPACE}",deployment="faulty-app-primary",direction="inbound"}}'
        cluster.prometheus_values[f"count(response_total{primary})"] = 2.0
        backend.trigger(bad)
