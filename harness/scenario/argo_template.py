"""Read AnalysisTemplates (``spec.metrics`` with the Prometheus provider) with located errors.

Checks what ``utils/analysis/factory.go`` ``ValidateMetric`` checks, and parses every condition with the
expr subset (``expr``), placeholders ``{{args.x}}`` standing in as ``0``. Also holds the readers shared with
``argo_rollout`` (header, ``args``, ``dryRun``).
"""

from __future__ import annotations

import re
from typing import Literal

from harness.controllers.argo_rollouts.errors import ExpressionError
from harness.controllers.argo_rollouts.expr import parse
from harness.controllers.argo_rollouts.model import AnalysisTemplate, Argument, MetricSpec, PrometheusProvider
from harness.controllers.argo_rollouts.run_factory import placeholder_free
from harness.scenario.argo_fields import Fields, describe
from harness.scenario.yamlloc import FieldPath, Located

API_VERSION = "argoproj.io/v1alpha1"
NOT_MODELLED = "changes behaviour the emulation does not model"
METRIC_KEYS = {
    "name",
    "interval",
    "initialDelay",
    "count",
    "successCondition",
    "failureCondition",
    "failureLimit",
    "inconclusiveLimit",
    "consecutiveErrorLimit",
    "consecutiveSuccessLimit",
    "provider",
}
PROMETHEUS_KEYS = {"address", "query", "timeout", "insecure", "headers"}
PROMETHEUS_UNSUPPORTED = {"rangeQuery": "range queries are not emulated", "authentication": NOT_MODELLED}


def header(f: Fields, kind: str) -> None:
    if f.get(("apiVersion",)) != API_VERSION:
        f.problem(("apiVersion",), API_VERSION, describe(f.get(("apiVersion",))))
    f.string(("metadata", "name"), required=True)
    f.mapping(("spec",), required=True)


def arguments(f: Fields, path: FieldPath) -> tuple[Argument, ...]:
    arguments: list[Argument] = []
    for i, _ in enumerate(f.items(path)):
        item = (*path, i)
        f.known_keys(item, {"name", "value", "valueFrom"})
        name = f.string((*item, "name"), required=True)
        source = (*item, "valueFrom")
        hash_of: Literal["Stable", "Latest"] | None = None
        field_path: str | None = None
        if f.mapping(source) is not None:
            f.known_keys(
                source, {"podTemplateHashValue", "fieldRef"}, {"secretKeyRef": "secrets are not emulated"}
            )
            which = f.get((*source, "podTemplateHashValue"))
            if which in ("Stable", "Latest"):
                hash_of = which
            elif which is not None:
                f.problem((*source, "podTemplateHashValue"), "Stable or Latest", describe(which))
            if f.get((*source, "fieldRef")) is not None:
                field_path = f.string((*source, "fieldRef", "fieldPath"), required=True)
                if field_path not in ("metadata.name", "metadata.namespace"):
                    f.problem(
                        (*source, "fieldRef", "fieldPath"), "metadata.name or metadata.namespace", field_path
                    )
        value = f.get((*item, "value"))
        arguments.append(Argument(name, None if value is None else str(value), hash_of, field_path))
    return tuple(arguments)


def dry_run(f: Fields, path: FieldPath) -> tuple[str, ...]:
    rules: list[str] = []
    for i, _ in enumerate(f.items(path)):
        rule = f.string((*path, i, "metricName"), required=True)
        try:
            re.compile(rule)
        except re.error as exc:
            f.problem((*path, i, "metricName"), "a regular expression", f"{rule!r} ({exc})")
        rules.append(rule)
    return tuple(rules)


def parse_template(doc: Located) -> AnalysisTemplate:
    f = Fields(doc)
    header(f, "AnalysisTemplate")
    f.known_keys(
        ("spec",),
        {"metrics", "args", "dryRun", "measurementRetention"},
        {"templates": "nested templates are not emulated"},
    )
    metrics = [m for i, _ in enumerate(f.items(("spec", "metrics"), required=True)) if (m := _metric(f, i))]
    seen: set[str] = set()
    for i, metric in enumerate(metrics):
        if metric.name in seen:
            f.problem(("spec", "metrics", i, "name"), "a metric name used once", repr(metric.name))
        seen.add(metric.name)
    template = AnalysisTemplate(
        name=f.string(("metadata", "name"), required=True),
        metrics=tuple(metrics),
        args=arguments(f, ("spec", "args")),
        dry_run=dry_run(f, ("spec", "dryRun")),
        file=doc.file,
    )
    f.raise_if_problems()
    return template


def _metric(f: Fields, index: int) -> MetricSpec | None:
    path: FieldPath = ("spec", "metrics", index)
    if f.mapping(path, required=True) is None:
        return None
    f.known_keys(path, METRIC_KEYS)
    provider = (*path, "provider")
    f.mapping(provider, required=True)
    others = {
        k: "only the prometheus provider is emulated"
        for k in (f.mapping(provider) or {})
        if k != "prometheus"
    }
    f.known_keys(provider, {"prometheus"}, others)
    prometheus = (*provider, "prometheus")
    f.known_keys(prometheus, PROMETHEUS_KEYS, PROMETHEUS_UNSUPPORTED)
    timeout = f.integer((*prometheus, "timeout"), 30, minimum=0)
    metric = MetricSpec(
        name=f.string((*path, "name"), required=True),
        provider=PrometheusProvider(
            f.string((*prometheus, "address"), required=True),
            f.string((*prometheus, "query"), required=True),
            float(timeout),
        ),
        interval=f.duration((*path, "interval")),
        initial_delay=f.duration((*path, "initialDelay")),
        count=f.integer((*path, "count"), 0, minimum=0) or None,
        success_condition=_condition(f, (*path, "successCondition")),
        failure_condition=_condition(f, (*path, "failureCondition")),
        failure_limit=f.integer((*path, "failureLimit"), 0, minimum=-1),
        inconclusive_limit=f.integer((*path, "inconclusiveLimit"), 0, minimum=0),
        consecutive_error_limit=f.integer((*path, "consecutiveErrorLimit"), 4, minimum=0),
        consecutive_success_limit=f.integer((*path, "consecutiveSuccessLimit"), 0, minimum=0),
    )
    _validate_metric(f, path, metric)
    return metric


def _condition(f: Fields, path: FieldPath) -> str:
    text = f.string(path)
    if text:
        try:
            parse(placeholder_free(text))
        except ExpressionError as exc:
            f.problem(path, f"an Argo expr condition: {exc.expected} at column {exc.column}", exc.found)
    return text


def _validate_metric(f: Fields, path: FieldPath, metric: MetricSpec) -> None:
    """``ValidateMetric`` (utils/analysis/factory.go)."""
    count, limit, streak = metric.count or 0, metric.failure_limit, metric.consecutive_success_limit
    if streak == 0 and limit == -1:
        f.problem(
            (*path, "failureLimit"), "failureLimit and consecutiveSuccessLimit cannot both be disabled", "-1"
        )
    if count > 0 and limit >= 0 and count < limit + streak:
        f.problem(
            (*path, "count"),
            f"count >= failureLimit + consecutiveSuccessLimit ({limit} + {streak})",
            str(count),
        )
    if count > 0 and limit < 0 and count < streak:
        f.problem((*path, "count"), "count >= consecutiveSuccessLimit", str(count))
    if count > 0 and count < metric.inconclusive_limit:
        f.problem((*path, "count"), "count >= inconclusiveLimit", str(count))
    if count > 1 and metric.interval is None:
        f.problem((*path, "interval"), "interval must be specified when count > 1", "no interval")
