"""One analysis tick's checks: ``runAnalysis`` = rollout hooks → builtin/inline metrics → templates.

Follows ``pkg/controller/scheduler_metrics.go`` (v1.44, spec §2.6, §5): the first failure ends the
tick's analysis; every check is recorded as a ``MetricResult`` with the verbatim PromQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from harness.controllers.flagger import events as msg
from harness.controllers.flagger import hooks
from harness.controllers.flagger.gofmt import millis_duration_ns
from harness.controllers.flagger.model import MetricResult, MetricSpec
from harness.controllers.flagger.ports import MetricsProvider
from harness.controllers.flagger.queries import (
    DEFAULT_METRIC_INTERVAL,
    MetricTemplate,
    TemplateError,
    builtin_query,
    is_prometheus_compatible,
    model_for,
    render_sent,
)
from harness.errors import MetricsError, NoValuesFound
from harness.providers.registry import provider_named

BUILTIN = ("request-success-rate", "request-duration")


class AnalysisHost(hooks.HookHost, Protocol):
    @property
    def metrics(self) -> MetricsProvider: ...

    @property
    def templates(self) -> Mapping[tuple[str, str], MetricTemplate]: ...

    def record(self, result: MetricResult) -> None: ...

    def now(self) -> float: ...


def run_analysis(host: AnalysisHost) -> bool:
    """``runAnalysis``: True when every rollout hook and metric check passed."""
    return hooks.rollout(host) and _builtin_and_inline(host) and _template_metrics(host)


def _query(host: AnalysisHost, metric: str, promql: str) -> float:
    """Run one query; record the failure (and re-raise) or return the value."""
    try:
        return host.metrics.query(promql)
    except MetricsError as exc:
        host.record(MetricResult(host.now(), metric, promql, None, False, str(exc)))
        raise


def _builtin_and_inline(host: AnalysisHost) -> bool:
    spec = host.spec
    for metric in spec.analysis.metrics:
        interval = metric.interval or DEFAULT_METRIC_INTERVAL
        if metric.name == "request-success-rate" and not _success_rate(host, metric, interval):
            return False
        if metric.name == "request-duration" and not _duration(host, metric, interval):
            return False
        if metric.query and not _inline(host, metric, interval):
            return False
    return True


# Events name the metricsProvider: the Canary's provider (Deployment targets: no ":service" suffix).
def _success_rate(host: AnalysisHost, metric: MetricSpec, interval: str) -> bool:
    spec = host.spec
    promql = builtin_query(metric.name, spec, interval)
    try:
        value = _query(host, metric.name, promql)
    except NoValuesFound as exc:
        host.emit(
            "Warning", msg.no_values_builtin(spec, spec.provider, metric.name, f"running query failed: {exc}")
        )
        return False
    except MetricsError as exc:
        host.emit("Warning", msg.prometheus_failed(f"running query failed: {exc}"))
        return False
    failure: str | None = None
    bounds = metric.threshold_range
    if bounds is not None:
        if bounds.min is not None and value < bounds.min:
            failure = msg.success_rate_below(spec, value, bounds.min)
        elif bounds.max is not None and value > bounds.max:
            failure = msg.success_rate_above(spec, value, bounds.max)
    elif (metric.threshold or 0.0) > value:  # deprecated threshold is a minimum here
        failure = msg.success_rate_below(spec, value, metric.threshold or 0.0)
    return _judge(host, metric.name, promql, value, failure)


def _duration(host: AnalysisHost, metric: MetricSpec, interval: str) -> bool:
    spec = host.spec
    promql = builtin_query(metric.name, spec, interval)
    try:
        value = _query(host, metric.name, promql)
    except NoValuesFound:
        host.emit("Warning", msg.no_values_builtin(spec, spec.provider, metric.name, None))
        return False
    except MetricsError as exc:
        host.emit("Warning", msg.prometheus_failed(f"running query failed: {exc}"))
        return False
    # the observer's Duration: Traefik's value is ms, the HttpObserver's (gatewayapi:*) seconds × 1000
    measured = millis_duration_ns(value * provider_named(spec.provider).duration_to_ms)
    failure: str | None = None
    bounds = metric.threshold_range
    if bounds is not None:
        if bounds.min is not None and measured < millis_duration_ns(bounds.min):
            failure = msg.duration_below(spec, measured, millis_duration_ns(bounds.min))
        elif bounds.max is not None and measured > millis_duration_ns(bounds.max):
            failure = msg.duration_above(spec, measured, millis_duration_ns(bounds.max))
    elif measured > millis_duration_ns(metric.threshold or 0.0):
        failure = msg.duration_above(spec, measured, millis_duration_ns(metric.threshold or 0.0))
    return _judge(host, metric.name, promql, value, failure)


def _custom_failure(host: AnalysisHost, metric: MetricSpec, value: float) -> str | None:
    spec, bounds = host.spec, metric.threshold_range
    if bounds is not None:
        if bounds.min is not None and value < bounds.min:
            return msg.custom_below(spec, metric.name, value, bounds.min)
        if bounds.max is not None and value > bounds.max:
            return msg.custom_above(spec, metric.name, value, bounds.max)
        return None
    if value > (metric.threshold or 0.0):  # deprecated threshold is a maximum here
        return msg.custom_above(spec, metric.name, value, metric.threshold or 0.0)
    return None


def _inline(host: AnalysisHost, metric: MetricSpec, interval: str) -> bool:
    model = model_for(host.spec, interval, dict(metric.template_variables))
    try:
        promql = render_sent(metric.query or "", model)
    except TemplateError:
        promql = ""  # [src] Flagger ignores the render error here and runs the empty query
    try:
        value = _query(host, metric.name, promql)
    except NoValuesFound:
        host.emit("Warning", msg.no_values_inline(metric.name))
        return False
    except MetricsError as exc:
        host.emit("Warning", msg.prometheus_failed_for(metric.name, str(exc)))
        return False
    return _judge(host, metric.name, promql, value, _custom_failure(host, metric, value))


def _template_metrics(host: AnalysisHost) -> bool:
    spec = host.spec
    for metric in spec.analysis.metrics:
        if metric.template_ref is not None:
            if not _template_metric(host, metric, metric.template_ref):
                return False
        elif metric.name not in BUILTIN and not metric.query:
            host.emit("Warning", msg.no_usable_query())
            host.record(MetricResult(host.now(), metric.name, "", None, False, msg.no_usable_query()))
            return False
    return True


def _fail(host: AnalysisHost, metric: str, text: str, promql: str = "") -> bool:
    host.emit("Warning", text)
    host.record(MetricResult(host.now(), metric, promql, None, False, text))
    return False


def _template_metric(host: AnalysisHost, metric: MetricSpec, ref: tuple[str, str | None]) -> bool:
    spec = host.spec
    name, ref_namespace = ref
    namespace = ref_namespace if ref_namespace and ref_namespace != spec.namespace else spec.namespace
    template = host.templates.get((name, namespace))
    if template is None:
        not_found = f'metrictemplate.flagger.app "{name}" not found'
        return _fail(host, metric.name, msg.template_error(name, namespace, not_found))
    if not is_prometheus_compatible(template.provider_type):
        reason = "provider type not supported by the emulation (Prometheus-compatible templates only)"
        return _fail(
            host, metric.name, msg.template_provider_error(name, namespace, template.provider_type, reason)
        )
    # §5.4: template metrics get the raw interval; without one {{ interval }} renders "" [inferred].
    model = model_for(spec, metric.interval or "", dict(metric.template_variables))
    try:
        promql = render_sent(template.query, model)
    except TemplateError as exc:
        return _fail(host, metric.name, msg.template_render_error(name, namespace, str(exc)))
    try:
        value = _query(host, metric.name, promql)
    except NoValuesFound as exc:
        host.emit("Warning", msg.no_values_template(metric.name, str(exc)))
        return False
    except MetricsError as exc:
        host.emit("Warning", msg.metric_query_failed(metric.name, str(exc)))
        return False
    return _judge(host, metric.name, promql, value, _custom_failure(host, metric, value))


def _judge(host: AnalysisHost, metric: str, promql: str, value: float, failure: str | None) -> bool:
    host.record(MetricResult(host.now(), metric, promql, value, failure is None, None))
    if failure is not None:
        host.emit("Warning", failure)
        return False
    return True


# ---- step 4: checkMetricProviderAvailability (phase ""/Initializing only; events, never blocks) --------
def check_providers(host: AnalysisHost) -> None:
    for metric in host.spec.analysis.metrics:
        if metric.name in BUILTIN:
            error = _online_error(host)
            if error is not None:
                host.emit("Warning", msg.providers_error(f"prometheus not avaiable: {error}"))
                return
            continue
        if metric.template_ref is not None:
            error = _template_online_error(host, *metric.template_ref)
            if error is not None:
                host.emit("Warning", msg.providers_error(error))
                return
    host.emit("Normal", msg.providers_available())


def _online_error(host: AnalysisHost) -> str | None:
    try:
        online = host.metrics.is_online()
    except MetricsError as exc:
        return f"running query failed: {exc}"
    return None if online else "value is not 1 for query: vector(1)"


def _template_online_error(host: AnalysisHost, name: str, ref_namespace: str | None) -> str | None:
    namespace = ref_namespace or host.spec.namespace
    template = host.templates.get((name, namespace))
    if template is None:
        return f'metric template {name}.{namespace} error: metrictemplate.flagger.app "{name}" not found'
    if not is_prometheus_compatible(template.provider_type):
        return f"metric template {name}.{namespace} provider {template.provider_type} error: not emulated"
    error = _online_error(host)
    if error is not None:
        return f"{template.provider_type} in metric template {name}.{namespace} not avaiable: {error}"
    return None
