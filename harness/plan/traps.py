"""Traps a Canary spec sets for itself, found before running (pure; flagger-semantics §2.5, §2.11, §5.4, §9).

A/B ``match`` traps come from ``harness.plan.cohort_traps`` (by provider); the planner adds that module's
cohort-sample and iterations-vs-deadline traps, which need the load and the policy.

``spec_traps`` looks only at the spec (and the MetricTemplates it can see). Codes in ``ALWAYS_FAIL``
make every analysis check fail, so the planner predicts a rollback even for a healthy canary; one of them is
a builtin metric name on ``gatewayapi:*``, which Flagger answers from the app's own series, not Linkerd's
(docs/linkerd-gateway-api-semantics.md §2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from harness.controllers.flagger.gofmt import parse_go_duration
from harness.controllers.flagger.model import AnalysisSpec, CanarySpec, MetricSpec
from harness.controllers.flagger.queries import MetricTemplate
from harness.controllers.flagger.weights import max_weight, weight_schedule
from harness.plan.cohort_traps import GATEWAY_API, match_traps
from harness.plan.model import Trap
from harness.plan.timeline import BUILTIN
from harness.providers.registry import PROVIDERS
from harness.scenario.flagger_canary import MIN_INTERVAL_SECONDS

ALWAYS_FAIL = frozenset(
    {
        "template-metric-no-interval",
        "service-name-mismatch",
        "metric-without-query",
        "error-only-query",
        "builtin-metric-on-gateway-api",
    }
)
# The Linkerd tutorial's replacement for each builtin (scenarios/canaries/faulty-app-linkerd.yaml)
_LINKERD_TEMPLATE = {
    "request-success-rate": ("success-rate", "response_total", "thresholdRange.min 99"),
    "request-duration": ("latency", "response_latency_ms_bucket", "thresholdRange.max in ms, e.g. 500"),
}

# A positive matcher on the status code (code="500", code=~"5..", code=~"4..|5.."), not != / !~.
_CODE_MATCH = re.compile(r'(?<![!=~])\bcode\s*(=~|=)\s*"([^"]*)"')
_FALLBACK = re.compile(r"\bor\b\s*(on\s*\(\s*\)\s*)?vector\s*\(")
_VARIABLE = re.compile(r"\{\{-?\s*variables\.([A-Za-z0-9_]+)\s*-?\}\}")


def spec_traps(spec: CanarySpec, templates: Sequence[MetricTemplate] = ()) -> tuple[Trap, ...]:
    """Every trap visible in the spec, in a stable order."""
    traps: list[Trap] = []
    traps += _strategy_traps(spec)
    traps += _weight_traps(spec)
    traps += _interval_traps(spec)
    traps += _metric_traps(spec, templates)
    return tuple(traps)


def _strategy_traps(spec: CanarySpec) -> list[Trap]:
    analysis, traps = spec.analysis, []
    if spec.provider not in PROVIDERS:
        traps.append(
            Trap(
                "provider-not-traefik",
                "info",
                f"provider {spec.provider!r} is not emulated: the plan uses Flagger's generic timing and "
                "checks no router-specific trap",
                "set spec.provider: traefik to plan a Traefik rollout",
            )
        )
    if spec.suspend:
        traps.append(
            Trap("suspended", "warning", "spec.suspend is true: Flagger skips every tick", "unset suspend")
        )
    if spec.skip_analysis:
        traps.append(
            Trap(
                "skip-analysis",
                "error",
                "skipAnalysis promotes one tick after the canary is ready: no check, no rollback",
                "remove skipAnalysis (or set it to false)",
            )
        )
    if analysis.match:
        traps += match_traps(spec)  # Traefik: 100 % exposure; Gateway API: a match Flagger drops
    elif analysis.iterations > 0:
        traps.append(
            Trap(
                "blue-green-on-traefik",
                "error",
                "Blue/Green (iterations) on Traefik keeps the canary at weight 0 until the last "
                "iteration, so builtin metrics find no values and fail every check (§2.11); then it "
                "switches 100 % of the traffic at once",
                "use the canary strategy (stepWeight/stepWeights + maxWeight) with Traefik",
            )
        )
    if analysis.mirror:
        traps.append(
            Trap(
                "mirroring-on-traefik",
                "error",
                "mirror: true is ignored by the Traefik router; with the canary strategy every tick is a "
                "start tick at weight 0: no analysis, no rollback, no promotion (§2.11)",
                "remove mirror/mirrorWeight",
            )
        )
    return traps


def _weight_traps(spec: CanarySpec) -> list[Trap]:
    analysis = spec.analysis
    if analysis.iterations > 0 or analysis.mirror or spec.skip_analysis:
        return []
    if not weight_schedule(analysis):
        return [
            Trap(
                "stalled",
                "error",
                "stepWeight 0 without stepWeights: the weight never advances, the run never promotes",
                "set stepWeight > 0 or stepWeights",
            )
        ]
    cap, step = max_weight(analysis), analysis.step_weight
    if analysis.step_weights or step <= 0 or cap % step == 0:
        return []
    reached = min(100, math.ceil(cap / step) * step)
    divisor = max(d for d in range(1, step + 1) if cap % d == 0)
    lower = (cap // step) * step
    options = [f"stepWeight {step} → {divisor}"]
    if lower > 0:
        options.append(f"maxWeight {cap} → {lower}")
    return [
        Trap(
            "maxweight-overshoot",
            "warning",
            f"stepWeight {step} does not divide maxWeight {cap}: weights {_weights(analysis)} end at "
            f"{reached} % (> maxWeight, §2.5)",
            " or ".join(options) + f" (or stepWeights ending at {cap})",
        )
    ]


def _weights(analysis: AnalysisSpec) -> str:
    return "/".join(str(w) for w in weight_schedule(analysis))


def _interval_traps(spec: CanarySpec) -> list[Trap]:
    raw = spec.analysis.interval_raw
    if not raw:
        return []
    try:
        seconds = parse_go_duration(raw)
    except ValueError:
        return [
            Trap(
                "interval-invalid",
                "warning",
                f"analysis.interval {raw!r} is not a Go duration: Flagger uses 60 s",
                "write the interval as e.g. '30s' or '1m'",
            )
        ]
    if seconds < MIN_INTERVAL_SECONDS:
        return [
            Trap(
                "interval-raised",
                "warning",
                f"analysis.interval {raw} is below Flagger's minimum: it runs every 10 s (issue #658)",
                "set interval to 10s or more",
            )
        ]
    return []


def _metric_traps(spec: CanarySpec, templates: Sequence[MetricTemplate]) -> list[Trap]:
    analysis, traps = spec.analysis, []
    if not analysis.metrics:
        hooks = [h.name for h in analysis.webhooks if h.type == "rollout"]
        if hooks:
            message = f"no metrics: only the rollout webhooks {hooks} can fail a check"
            traps.append(Trap("no-metrics", "warning", message, "add request-success-rate (min 99)"))
        else:
            message = "no metrics and no rollout webhooks: the analysis can never fail, nothing rolls back"
            traps.append(Trap("no-metrics", "error", message, "add request-success-rate (min 99)"))
    builtin = [m.name for m in analysis.metrics if m.name in BUILTIN]
    if spec.provider in GATEWAY_API:
        traps += _gateway_api_builtin_traps(spec)
    elif builtin and spec.service_name != spec.target_name:
        traps.append(
            Trap(
                "service-name-mismatch",
                "error",
                f"service.name {spec.service_name!r} differs from the target {spec.target_name!r}: the "
                f"builtin Traefik queries ({', '.join(builtin)}) select "
                f"{spec.namespace}-{spec.target_name}-canary-…, which matches no series, so every check "
                "finds no values (issue #1767)",
                f"drop service.name or rename it to {spec.target_name!r}, or use MetricTemplates on "
                "{{ service }}",
            )
        )
    for metric in analysis.metrics:
        traps += _metric_trap(spec, metric, templates)
    return traps


def _gateway_api_builtin_traps(spec: CanarySpec) -> list[Trap]:
    """Builtin metric names on ``gatewayapi:*``: Flagger's HttpObserver, not linkerd-proxy's series (§2)."""
    traps = []
    for index, metric in enumerate(spec.analysis.metrics):
        if metric.name not in BUILTIN:
            continue
        template, series, bound = _LINKERD_TEMPLATE[metric.name]
        named = " (the name alone selects it, whatever its templateRef/query)" if _has_query(metric) else ""
        outcome = (
            "skipAnalysis hides it: no check runs, nothing guards the rollout"
            if spec.skip_analysis
            else f"every check fails ('Halt advancement no values found for {spec.provider} metric "
            f"{metric.name}'): even a healthy canary is rolled back after threshold "
            f"{max(1, spec.analysis.threshold)} checks at its first weight"
        )
        traps.append(
            Trap(
                "builtin-metric-on-gateway-api",
                "error",
                f"analysis.metrics[{index}] {metric.name!r} is a builtin{named}: "
                f"on provider {spec.provider} Flagger's HttpObserver answers it from the app's "
                "http_request_duration_seconds_*{kubernetes_namespace, kubernetes_pod_name} series, not "
                f"linkerd-proxy's {series}; linkerd-viz' Prometheus (and the local emulation) has none, so "
                f"{outcome}",
                f"replace it by a metric named {template!r} with templateRef to the Linkerd tutorial's "
                f"{template!r} MetricTemplate over {series} (interval, templateVariables direction: inbound, "
                f"{bound}), as scenarios/canaries/faulty-app-linkerd.yaml",
            )
        )
    return traps


def _has_query(metric: MetricSpec) -> bool:
    return metric.template_ref is not None or bool(metric.query)


def _metric_trap(spec: CanarySpec, metric: MetricSpec, templates: Sequence[MetricTemplate]) -> list[Trap]:
    traps = []
    if metric.template_ref is not None and not metric.interval:
        traps.append(
            Trap(
                "template-metric-no-interval",
                "error",
                f"metric {metric.name!r} uses templateRef without interval: {{{{ interval }}}} renders empty "
                "and the query fails on every check (§5.4)",
                f"set interval (e.g. '1m') on metric {metric.name!r}",
            )
        )
    if metric.template_ref is None and not metric.query and metric.name not in BUILTIN:
        traps.append(
            Trap(
                "metric-without-query",
                "error",
                f"metric {metric.name!r} is neither builtin nor has query/templateRef: it fails every "
                "check (issues #1581, #1754)",
                "add a templateRef or rename it to a builtin metric",
            )
        )
    query = _visible_query(spec, metric, templates)
    if query is not None and _error_only(query, dict(metric.template_variables)):
        traps.append(
            Trap(
                "error-only-query",
                "error",
                f"metric {metric.name!r} selects only error status codes and has no 'or vector(0)': a "
                "healthy canary returns no data, which fails the check (issue #1365)",
                "append 'or vector(0)' (or 'or on() vector(0)') to the query",
            )
        )
    return traps


def _visible_query(spec: CanarySpec, metric: MetricSpec, templates: Sequence[MetricTemplate]) -> str | None:
    if metric.query:
        return metric.query
    if metric.template_ref is None:
        return None
    name, namespace = metric.template_ref
    namespace = namespace or spec.namespace
    for template in templates:
        if template.name == name and (template.namespace or spec.namespace) == namespace:
            return template.query
    return None


def _error_only(query: str, variables: dict[str, str]) -> bool:
    """A positive code matcher on 4xx/5xx only, without an ``or vector(...)`` fallback."""
    text = _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), query)
    codes = [value for _, value in _CODE_MATCH.findall(text)]
    if not codes or _FALLBACK.search(text):
        return False
    return all(_only_errors(value) for value in codes)


def _only_errors(pattern: str) -> bool:
    alternatives = [p.strip() for p in pattern.split("|") if p.strip()]
    return bool(alternatives) and all(p[0] in "45" for p in alternatives)
