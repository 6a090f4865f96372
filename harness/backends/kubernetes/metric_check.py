"""Before the trigger: does every custom metric of the Canary read series that exist for the primary?

A custom query over a metric Prometheus never scraped is empty, or ``vector(0)`` behind an ``or``: the
check passes for no reason and a bad canary is promoted. So, once the primary has served the warm-up,
each metric name a custom query reads (``templateRef`` or inline ``query``) must have series from the
primary: app metrics scraped from its pods (Flagger's bundled Prometheus labels them with the pod labels
and ``kubernetes_namespace``, ``charts/flagger/templates/prometheus.yaml``), Traefik metrics on the
primary's child service (``<ns>-<svc>-primary-<port>@kubernetescrd``), linkerd-proxy metrics on the
primary's proxies (linkerd-viz labels them ``namespace`` and ``deployment``, its chart's ``linkerd-proxy``
job). Names are found in the query text (pure); the counts go through ``observe``'s Prometheus query path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.backends.kubernetes.observe import PromQuery, series_count
from harness.controllers.flagger.model import CanarySpec
from harness.errors import MetricsError

_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool", "offset"}
)
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(?)")


@dataclass(frozen=True)
class CustomQuery:
    """One custom metric of the analysis: where its query comes from, and the text."""

    metric: str
    source: str  # "template <name>" or "inline query"
    query: str


def metric_names(promql: str) -> list[str]:
    """Metric names a PromQL expression reads, in order of appearance (functions, labels, keywords and
    Flagger's ``{{ var }}`` placeholders excluded)."""
    text = re.sub(r"\{\{.*?\}\}", "x", promql)
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', text)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = _GROUPING.sub(" ", text)
    names: list[str] = []
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name in _KEYWORDS or name in names or name in ("inf", "nan", "Inf", "NaN"):
            continue
        names.append(name)
    return names


def custom_queries(spec: CanarySpec, templates: Mapping[str, str]) -> list[CustomQuery]:
    """The analysis's custom metrics with their query text (``templates``: MetricTemplate name → query)."""
    found = []
    for metric in spec.analysis.metrics:
        if metric.template_ref is not None:
            name = metric.template_ref[0]
            if name in templates:
                found.append(CustomQuery(metric.name, f"template {name}", templates[name]))
        elif metric.query:
            found.append(CustomQuery(metric.name, "inline query", metric.query))
    return found


# linkerd-proxy's HTTP series (linkerd2-proxy legacy metrics), as linkerd-viz' Prometheus stores them
_LINKERD_PROXY = re.compile(r"(request_total|response_total|response_latency_ms(_bucket|_sum|_count)?)")


def primary_selector(name: str, *, namespace: str, target: str, service: str) -> str:
    if name.startswith("traefik_"):
        return f'{name}{{service=~"{namespace}-{service}-primary-.+"}}'
    if _LINKERD_PROXY.fullmatch(name):
        return f'{name}{{namespace="{namespace}",deployment="{target}-primary",direction="inbound"}}'
    return f'{name}{{kubernetes_namespace="{namespace}",app="{target}-primary"}}'


def check_primary_series(
    prometheus: PromQuery, spec: CanarySpec, queries: Iterable[CustomQuery]
) -> list[str]:
    """One problem per metric name with no series for the primary (empty when all are there)."""
    problems = []
    for custom in queries:
        for name in metric_names(custom.query):
            selector = primary_selector(
                name, namespace=spec.namespace, target=spec.target_name, service=spec.service_name
            )
            if series_count(prometheus, selector) == 0:
                problems.append(
                    f"metric {custom.metric} ({custom.source}): its query reads {name}, which has no series "
                    f"for the primary ({selector}); the check would see nothing or its vector(0) fallback. "
                    f"Query: {' '.join(custom.query.split())[:300]}"
                )
    return problems


def require_primary_series(prometheus: PromQuery, spec: CanarySpec, queries: Iterable[CustomQuery]) -> None:
    problems = check_primary_series(prometheus, spec, queries)
    if problems:
        raise MetricsError("custom metric preflight failed: " + "; ".join(problems))
