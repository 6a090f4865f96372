"""Flagger's PromQL: the provider's builtin queries rendered, and the template render path (pure).

``request_success_rate`` / ``request_duration`` return the exact string Flagger sends to Prometheus:
the provider's Go source template (for Traefik ``pkg/metrics/observers/traefik.go``, kept in
``harness.providers.traefik.queries``) rendered, then every whitespace run
collapsed to one space by the Prometheus client's ``trimQuery`` (spec §4.2). The selector uses
``{{ namespace }}-{{ target }}`` — the targetRef name, not service.name (issue #1767).

``render_query`` is Go ``text/template`` with ``missingkey=error`` restricted to what Flagger's model
offers: the functions ``name``, ``namespace``, ``target``, ``service``, ``ingress``, ``route``,
``interval`` and ``variables`` (with ``variables.<key>``). Anything else is a parse error, as in Go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.controllers.flagger.gofmt import parse_go_duration
from harness.controllers.flagger.model import CanarySpec, MetricSpec
from harness.providers.registry import DEFAULT_PROVIDER, provider_named

DEFAULT_METRIC_INTERVAL = "1m"  # Canary.GetMetricInterval(); builtin and inline-query metrics only
BUILTIN_METRICS = ("request-success-rate", "request-duration")


def metric_window(metric: MetricSpec) -> float:
    """The metric's query window in seconds ("1m" when unset, as for builtin and inline metrics)."""
    try:
        return parse_go_duration(metric.interval or DEFAULT_METRIC_INTERVAL)
    except ValueError:
        return 60.0


def traffic_window(spec: CanarySpec) -> float:
    """The shortest window of the builtin metrics (where zero traffic means "no values found")."""
    windows = [metric_window(m) for m in spec.analysis.metrics if m.name in BUILTIN_METRICS]
    return min(windows, default=60.0)


_GO_SPACE = re.compile(r"[\t\n\f\r ]+")  # RE2 \s
_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FUNCTIONS = ("name", "namespace", "target", "service", "ingress", "route", "interval", "variables")


class TemplateError(ValueError):
    """A query template failed to parse or execute; the text follows Go's wording."""


@dataclass(frozen=True)
class MetricTemplate:
    """A ``MetricTemplate`` (``flagger.app/v1beta1``); namespace "" = the Canary's namespace."""

    name: str
    namespace: str
    provider_type: str  # "prometheus", "datadog", …; unknown types fall back to Prometheus in Flagger
    address: str
    query: str

    @property
    def key(self) -> str:
        return f"{self.name}.{self.namespace}"


@dataclass(frozen=True)
class TemplateModel:
    """``MetricTemplateModel``: what a query template can refer to."""

    name: str
    namespace: str
    target: str
    service: str
    ingress: str
    route: str
    interval: str
    variables: Mapping[str, str] = field(default_factory=dict)

    def function(self, ident: str) -> str | Mapping[str, str]:
        return self.variables if ident == "variables" else str(getattr(self, ident))


def model_for(spec: CanarySpec, interval: str, variables: Mapping[str, str] | None = None) -> TemplateModel:
    """``toMetricModel``: service/ingress/route fall back to the target name."""
    return TemplateModel(
        name=spec.name,
        namespace=spec.namespace,
        target=spec.target_name,
        service=spec.service_name or spec.target_name,
        ingress=spec.ingress_ref_name or spec.target_name,
        route=spec.route_ref_name or spec.target_name,
        interval=interval,
        variables=dict(variables or {}),
    )


def collapse_whitespace(query: str) -> str:
    """The Prometheus client's ``trimQuery``: every whitespace run becomes one space."""
    return _GO_SPACE.sub(" ", query)


def _location(text: str, pos: int) -> tuple[int, int]:
    before = text[:pos]
    line = before.count("\n") + 1
    col = pos - (before.rfind("\n") + 1) if "\n" in before else pos
    return line, col


def _evaluate(template: str, start: int, body: str, model: TemplateModel) -> str:
    """One ``{{ … }}`` action: a model function, or ``variables.<key>``."""
    stripped = body.strip()
    offset = start + body.index(stripped) if stripped else start
    line, col = _location(template, offset)
    if stripped.startswith("/*") and stripped.endswith("*/"):
        return ""
    head, _, key = stripped.partition(".")
    if not _IDENT.fullmatch(head or "-"):
        raise TemplateError(
            f"template parsing failed: template: tmpl:{line}: unexpected {stripped!r} in command"
        )
    if head not in _FUNCTIONS:
        raise TemplateError(f'template parsing failed: template: tmpl:{line}: function "{head}" not defined')
    value = model.function(head)
    if not key:
        if isinstance(value, Mapping):
            return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(value.items())) + "]"
        return value
    if head != "variables" or not _IDENT.fullmatch(key):
        raise TemplateError(
            f'template excution failed: template: tmpl:{line}:{col}: executing "tmpl" at <{stripped}>: '
            f"can't evaluate field {key} in type string"
        )
    assert isinstance(value, Mapping)
    line, col = _location(template, offset + len(head))  # Go reports a chain node at its first field
    if key not in value:
        raise TemplateError(
            f'template excution failed: template: tmpl:{line}:{col}: executing "tmpl" at <{stripped}>: '
            f'map has no entry for key "{key}"'
        )
    return str(value[key])


def render_query(template: str, model: TemplateModel) -> str:
    """``observers.RenderQuery``: the template rendered, whitespace kept (the client collapses it).

    Raises ``TemplateError``; parse errors are found before any output, as Go parses first.
    """
    # Go parses the whole template before executing it, so parse errors win over execution errors.
    actions = list(_ACTION.finditer(template))
    for match in actions:
        head = match.group(2).strip().partition(".")[0]
        if head and not head.startswith("/*") and _IDENT.fullmatch(head) and head not in _FUNCTIONS:
            line, _ = _location(template, match.start())
            raise TemplateError(
                f'template parsing failed: template: tmpl:{line}: function "{head}" not defined'
            )
    out: list[str] = []
    pos = 0
    for match in actions:
        literal = template[pos : match.start()]
        if match.group(1):  # "{{-" trims preceding whitespace
            literal = literal.rstrip(" \t\r\n")
        out.append(literal)
        out.append(_evaluate(template, match.start(2), match.group(2), model))
        pos = match.end()
        if match.group(3):  # "-}}" trims following whitespace
            while pos < len(template) and template[pos] in " \t\r\n":
                pos += 1
    out.append(template[pos:])
    return "".join(out)


def render_sent(template: str, model: TemplateModel) -> str:
    """The query as it reaches Prometheus: rendered, then whitespace-collapsed."""
    return collapse_whitespace(render_query(template, model))


def _builtin(metric: str, namespace: str, target: str, window: str, provider: str = DEFAULT_PROVIDER) -> str:
    model = TemplateModel(namespace, namespace, target, target, target, target, window)
    return render_sent(provider_named(provider).builtin_templates[metric], model)


def request_success_rate(namespace: str, target: str, window: str = DEFAULT_METRIC_INTERVAL) -> str:
    """Flagger's Traefik ``request-success-rate`` PromQL, exactly as sent (percent 0–100)."""
    return _builtin("request-success-rate", namespace, target, window)


def request_duration(namespace: str, target: str, window: str = DEFAULT_METRIC_INTERVAL) -> str:
    """Flagger's Traefik ``request-duration`` PromQL, exactly as sent (p99 in milliseconds)."""
    return _builtin("request-duration", namespace, target, window)


def builtin_query(metric: str, spec: CanarySpec, window: str) -> str:
    """The builtin query of ``metric`` for a Canary (namespace + targetRef.name), from its provider."""
    return _builtin(metric, spec.namespace, spec.target_name, window, spec.provider)


def is_prometheus_compatible(provider_type: str) -> bool:
    """Flagger's factory falls back to Prometheus for unknown types; these are real other backends."""
    return provider_type not in {
        "datadog",
        "externalmetrics",
        "cloudwatch",
        "newrelic",
        "graphite",
        "stackdriver",
        "influxdb",
        "dynatrace",
        "keptn",
        "splunk",
    }
