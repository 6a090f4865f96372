"""Flagger's render path over the Linkerd provider's PromQL (pure): builtins as sent, tutorial templates.

The templates live with the provider (``harness.providers.linkerd.queries``); this module renders them the
way Flagger does (``harness.controllers.flagger.queries.render_sent``) and builds the tutorial's two
``MetricTemplate`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.controllers.flagger.model import CanarySpec
from harness.controllers.flagger.queries import (
    DEFAULT_METRIC_INTERVAL,
    MetricTemplate,
    TemplateModel,
    model_for,
    render_sent,
)
from harness.providers.linkerd.queries import (
    TEMPLATE_LATENCY,
    TEMPLATE_SUCCESS_RATE,
    VIZ_PROMETHEUS,
    builtin_queries,
)


def builtin_query(
    provider: str, metric: str, namespace: str, target: str, window: str = DEFAULT_METRIC_INTERVAL
) -> str:
    """A builtin query exactly as sent to Prometheus (rendered, whitespace collapsed)."""
    model = TemplateModel(target, namespace, target, target, target, target, window)
    return render_sent(builtin_queries(provider).template(metric), model)


def tutorial_templates(
    namespace: str, address: str = VIZ_PROMETHEUS
) -> tuple[MetricTemplate, MetricTemplate]:
    """The tutorial's ``success-rate`` and ``latency`` MetricTemplates in ``namespace``."""
    return (
        MetricTemplate("success-rate", namespace, "prometheus", address, TEMPLATE_SUCCESS_RATE),
        MetricTemplate("latency", namespace, "prometheus", address, TEMPLATE_LATENCY),
    )


def template_query(
    template: MetricTemplate, spec: CanarySpec, interval: str, variables: Mapping[str, str]
) -> str:
    """A template rendered for one of ``spec``'s metrics, as sent (``variables``: its templateVariables)."""
    return render_sent(template.query, model_for(spec, interval, variables))
