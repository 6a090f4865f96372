"""Flagger's PromQL for Linkerd: the tutorial's MetricTemplates and the builtin query templates (pure).

Which builtins run depends on the provider string (``pkg/metrics/observers/factory.go``, v1.44.0):

- ``linkerd`` (SMI router) → ``LinkerdObserver`` (``linkerd.go``): ``response_total`` /
  ``response_latency_ms_bucket`` with ``direction="inbound"``; the duration query is already in ms.
- ``gatewayapi:*`` (the Linkerd tutorial's ``meshProvider``) and ``kubernetes`` → ``HttpObserver``
  (``http.go``): the **application's** ``http_request_duration_seconds_*`` series selected by
  ``kubernetes_namespace`` / ``kubernetes_pod_name``, duration in seconds (Go multiplies by 1000). On
  Linkerd these are not proxy metrics, which is why the tutorial uses the MetricTemplates below.

Templates keep the Go sources' line structure (tabs); trailing spaces are dropped, which changes nothing
once the Prometheus client collapses whitespace. Rendering is Flagger's job:
``harness.controllers.flagger.linkerd_queries``.
"""

from __future__ import annotations

from dataclasses import dataclass

VIZ_PROMETHEUS = "http://prometheus.linkerd-viz:9090"

# pkg/metrics/observers/linkerd.go (v1.44.0)
LINKERD_SUCCESS_RATE = """
\tsum(
\t\trate(
\t\t\tresponse_total{
\t\t\t\tnamespace="{{ namespace }}",
\t\t\t\tdeployment=~"{{ target }}",
\t\t\t\tclassification!="failure",
\t\t\t\tdirection="inbound"
\t\t\t}[{{ interval }}]
\t\t)
\t)
\t/
\tsum(
\t\trate(
\t\t\tresponse_total{
\t\t\t\tnamespace="{{ namespace }}",
\t\t\t\tdeployment=~"{{ target }}",
\t\t\t\tdirection="inbound"
\t\t\t}[{{ interval }}]
\t\t)
\t)
\t* 100"""

LINKERD_DURATION = """
\thistogram_quantile(
\t\t0.99,
\t\tsum(
\t\t\trate(
\t\t\t\tresponse_latency_ms_bucket{
\t\t\t\t\tnamespace="{{ namespace }}",
\t\t\t\t\tdeployment=~"{{ target }}",
\t\t\t\t\tdirection="inbound"
\t\t\t\t}[{{ interval }}]
\t\t\t)
\t\t) by (le)
\t)"""

# pkg/metrics/observers/http.go (v1.44.0): the app's own metrics
_POD = "{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
HTTP_SUCCESS_RATE = f"""
\tsum(
\t\trate(
\t\t\thttp_request_duration_seconds_count{{
\t\t\t\tkubernetes_namespace="{{{{ namespace }}}}",
\t\t\t\tkubernetes_pod_name=~"{_POD}",
\t\t\t\tstatus!~"5.*"
\t\t\t}}[{{{{ interval }}}}]
\t\t)
\t)
\t/
\tsum(
\t\trate(
\t\t\thttp_request_duration_seconds_count{{
\t\t\t\tkubernetes_namespace="{{{{ namespace }}}}",
\t\t\t\tkubernetes_pod_name=~"{_POD}"
\t\t\t}}[{{{{ interval }}}}]
\t\t)
\t)
\t* 100"""

HTTP_DURATION = f"""
\thistogram_quantile(
\t\t0.99,
\t\tsum(
\t\t\trate(
\t\t\t\thttp_request_duration_seconds_bucket{{
\t\t\t\t\tkubernetes_namespace="{{{{ namespace }}}}",
\t\t\t\t\tkubernetes_pod_name=~"{_POD}"
\t\t\t\t}}[{{{{ interval }}}}]
\t\t\t)
\t\t) by (le)
\t)"""

# The MetricTemplates of the tutorial (docs/gitbook/tutorials/linkerd-progressive-delivery.md)
# and of test/linkerd/test-canary.sh
TEMPLATE_SUCCESS_RATE = """
sum(
  rate(
    response_total{
      namespace="{{ namespace }}",
      deployment=~"{{ target }}",
      classification!="failure",
      direction="{{ variables.direction }}"
    }[{{ interval }}]
  )
)
/
sum(
  rate(
    response_total{
      namespace="{{ namespace }}",
      deployment=~"{{ target }}",
      direction="{{ variables.direction }}"
    }[{{ interval }}]
  )
)
* 100
"""

TEMPLATE_LATENCY = """
histogram_quantile(
    0.99,
    sum(
        rate(
            response_latency_ms_bucket{
                namespace="{{ namespace }}",
                deployment=~"{{ target }}",
                direction="{{ variables.direction }}"
                }[{{ interval }}]
            )
        ) by (le)
    )
"""


@dataclass(frozen=True)
class BuiltinQueries:
    """An observer's two builtin templates; ``duration_to_ms`` scales the duration query's value."""

    observer: str
    success_rate: str
    duration: str
    duration_to_ms: float

    def template(self, metric: str) -> str:
        if metric == "request-success-rate":
            return self.success_rate
        if metric == "request-duration":
            return self.duration
        raise KeyError(f"{metric!r} is not a builtin metric (request-success-rate, request-duration)")


LINKERD_OBSERVER = BuiltinQueries("linkerd", LINKERD_SUCCESS_RATE, LINKERD_DURATION, 1.0)
HTTP_OBSERVER = BuiltinQueries("http", HTTP_SUCCESS_RATE, HTTP_DURATION, 1000.0)


def builtin_queries(provider: str) -> BuiltinQueries:
    """The observer Flagger's factory picks for ``provider`` (only the two this provider can be)."""
    if provider == "linkerd":
        return LINKERD_OBSERVER
    if provider == "kubernetes" or provider.startswith("gatewayapi"):
        return HTTP_OBSERVER
    raise ValueError(f"provider {provider!r} uses neither the Linkerd nor the HTTP observer")
