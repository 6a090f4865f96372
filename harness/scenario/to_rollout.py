"""A Flagger Canary as an equivalent Argo Rollout with its AnalysisTemplate (pure).

``--controller argo-rollouts`` runs a Flagger scenario's fault against Argo Rollouts through this. The
mapping and its approximations are docs/argo-rollouts-semantics.md, "Translation from a Flagger Canary":

- steps: ``setWeight`` for each weight of Flagger's healthy schedule (``stepWeight``/``maxWeight`` or
  ``stepWeights``), each followed by a ``pause`` of one ``analysis.interval``;
- background analysis from step 1 (the canary serves its first weight), one AnalysisTemplate whose
  metrics are the Canary's builtin and inline-query metrics, their PromQL rendered for this Canary as
  Flagger sends it, measured every interval after an initial delay of one interval;
- conditions from ``thresholdRange`` (``len(result) > 0 && result[0] >= min``/``<= max``: no values
  fail, as Flagger's "no values found" is a failed check), ``failureLimit`` = ``threshold - 1``;
- ``progressDeadlineSeconds`` kept with ``progressDeadlineAbort: true``; ``abortScaleDownDelaySeconds: 0``.

What has no Rollout equivalent is refused with a located ``RolloutSpecError``: ``match`` (A/B),
``iterations``, ``mirror``, webhooks, MetricTemplate references, ``stepWeightPromotion``,
``skipAnalysis``, ready thresholds other than 100, a provider other than traefik.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from harness.controllers.argo_rollouts.errors import RolloutSpecError
from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.controllers.flagger.model import CanarySpec, MetricSpec
from harness.controllers.flagger.queries import (
    BUILTIN_METRICS,
    DEFAULT_METRIC_INTERVAL,
    builtin_query,
    model_for,
    render_sent,
)
from harness.controllers.flagger.weights import weight_schedule
from harness.errors import InputError, Problem
from harness.model import ScenarioId
from harness.scenario.argo_rollout import bundle_from
from harness.scenario.model import Scenario
from harness.scenario.yamlloc import Located, load_located_all, parse_located_all, parse_path

API_VERSION = "argoproj.io/v1alpha1"
PROMETHEUS = "http://prometheus.canary-chaos:9090"  # not dialled locally: the run's Prometheus answers


def rollout_manifests(spec: CanarySpec) -> list[dict[str, Any]]:
    """The Rollout and its AnalysisTemplate for ``spec``; a located error for what does not translate."""
    _refuse_untranslatable(spec)
    analysis = spec.analysis
    interval = f"{analysis.interval_seconds:g}s"
    template_name = f"{spec.name}-flagger-checks"
    steps: list[dict[str, Any]] = []
    for weight in weight_schedule(analysis):
        steps += [{"setWeight": weight}, {"pause": {"duration": interval}}]
    rollout = {
        "apiVersion": API_VERSION,
        "kind": "Rollout",
        "metadata": {"name": spec.target_name, "namespace": spec.namespace},
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": spec.progress_deadline_seconds,
            "progressDeadlineAbort": True,
            "selector": {"matchLabels": {"app": spec.target_name}},
            "template": {
                "metadata": {"labels": {"app": spec.target_name}},
                "spec": {"containers": [{"name": spec.target_name, "image": "translated-from-a-canary"}]},
            },
            "strategy": {
                "canary": {
                    "canaryService": f"{spec.service_name}-canary",
                    "stableService": f"{spec.service_name}-primary",
                    "abortScaleDownDelaySeconds": 0,
                    "trafficRouting": {"traefik": {"weightedTraefikServiceName": spec.service_name}},
                    "analysis": {"startingStep": 1, "templates": [{"templateName": template_name}]},
                    "steps": steps,
                }
            },
        },
    }
    template = {
        "apiVersion": API_VERSION,
        "kind": "AnalysisTemplate",
        "metadata": {"name": template_name, "namespace": spec.namespace},
        "spec": {"metrics": [_metric(spec, m, interval) for m in analysis.metrics]},
    }
    return [rollout, template]


def translate(spec: CanarySpec) -> RolloutBundle:
    """``rollout_manifests`` read back as the emulation's bundle (so it passes the Rollout reader)."""
    documents = rollout_manifests(spec)
    source = f"{spec.source or spec.ref} (translated to a Rollout)"
    located = parse_located_all(
        yaml.safe_dump_all(documents, sort_keys=False), source, error=RolloutSpecError
    )
    return bundle_from(located, source)


def _metric(spec: CanarySpec, metric: MetricSpec, interval: str) -> dict[str, Any]:
    window = metric.interval or DEFAULT_METRIC_INTERVAL
    if metric.name in BUILTIN_METRICS and not metric.query:
        query = builtin_query(metric.name, spec, window)
        lower_is_minimum = metric.name == "request-success-rate"
    else:
        query = render_sent(metric.query or "", model_for(spec, window, dict(metric.template_variables)))
        lower_is_minimum = False  # Flagger's deprecated ``threshold`` is a maximum for custom queries
    return {
        "name": metric.name,
        "interval": interval,
        "initialDelay": interval,
        "failureLimit": spec.analysis.threshold - 1,
        "successCondition": _condition(metric, lower_is_minimum),
        "provider": {"prometheus": {"address": PROMETHEUS, "query": query}},
    }


def _condition(metric: MetricSpec, threshold_is_minimum: bool) -> str:
    bounds = metric.threshold_range
    parts = []
    if bounds is not None:
        if bounds.min is not None:
            parts.append(f"result[0] >= {bounds.min:g}")
        if bounds.max is not None:
            parts.append(f"result[0] <= {bounds.max:g}")
    elif metric.threshold is not None:
        operator = ">=" if threshold_is_minimum else "<="
        parts.append(f"result[0] {operator} {metric.threshold:g}")
    return " && ".join(["len(result) > 0", *parts])


def _refuse_untranslatable(spec: CanarySpec) -> None:
    analysis = spec.analysis
    refusals: list[tuple[str, str, str]] = []  # (field path, found, why)

    def refuse(path: str, found: object, why: str) -> None:
        refusals.append((path, str(found), why))

    if spec.provider != "traefik":
        refuse("spec.provider", spec.provider, "the Rollout routes through trafficRouting.traefik only")
    if spec.skip_analysis:
        refuse("spec.skipAnalysis", True, "a Rollout always runs its steps")
    if analysis.match:
        refuse("spec.analysis.match", "A/B routes", "header/cookie routes (setHeaderRoute) are not emulated")
    if analysis.iterations:
        refuse("spec.analysis.iterations", analysis.iterations, "A/B and blue/green iterations have no steps")
    if analysis.mirror:
        refuse("spec.analysis.mirror", True, "traffic mirroring (setMirrorRoute) is not emulated")
    if analysis.step_weight_promotion:
        refuse("spec.analysis.stepWeightPromotion", analysis.step_weight_promotion, "Argo promotes at once")
    for name, value in (
        ("primaryReadyThreshold", analysis.primary_ready_threshold),
        ("canaryReadyThreshold", analysis.canary_ready_threshold),
    ):
        if value != 100:
            refuse(f"spec.analysis.{name}", value, "a Rollout waits for every replica")
    for index, hook in enumerate(analysis.webhooks):
        refuse(f"spec.analysis.webhooks[{index}]", f"{hook.type} {hook.name!r}", "no Rollout equivalent")
    for index, metric in enumerate(analysis.metrics):
        if metric.template_ref is not None:
            refuse(f"spec.analysis.metrics[{index}].templateRef", metric.template_ref[0], "not translated")
        elif metric.name not in BUILTIN_METRICS and not metric.query:
            refuse(f"spec.analysis.metrics[{index}]", metric.name, "a builtin metric or an inline query")
    if not analysis.metrics:
        refuse("spec.analysis.metrics", "none", "at least one metric (the Rollout's background analysis)")
    if not weight_schedule(analysis):
        refuse("spec.analysis.stepWeight", analysis.step_weight, "a weight schedule that reaches maxWeight")
    if refusals:
        document = _located(spec)
        raise RolloutSpecError(
            [
                Problem(
                    path,
                    f"a field that translates to a Rollout ({why})",
                    found,
                    spec.source,
                    document.line_of(parse_path(path)) if document else None,
                )
                for path, found, why in refusals
            ]
        )


def _located(spec: CanarySpec) -> Located | None:
    """The Canary document of ``spec.source``, for line numbers (None when it cannot be read)."""
    if not spec.source or not Path(spec.source).is_file():
        return None
    try:
        documents = load_located_all(spec.source, error=RolloutSpecError)
    except RolloutSpecError:
        return None
    return next((d for d in documents if isinstance(d.data, dict) and d.data.get("kind") == "Canary"), None)


def as_controller(scenario: Scenario, controller: str) -> Scenario:
    """``scenario`` under ``controller``: itself, or a Flagger scenario with its Canary as a Rollout.

    The run gets the id ``<id>-on-<controller>`` so one batch can hold both; its fault, load, timing,
    expectations and policy are unchanged except ``events_include`` (Flagger's own event texts, which a
    Rollout never posts; the description says so). A Rollout is not translated back to a Canary.
    """
    if controller == scenario.controller:
        return scenario
    if controller != "argo-rollouts" or scenario.canary is None:
        raise InputError(
            f"{scenario.file}: --controller {controller}: only a Flagger Canary translates (to a Rollout); "
            f"this scenario's controller is {scenario.controller}"
        )
    bundle = translate(scenario.canary)
    note = "Canary translated to a Rollout"
    if scenario.expect.path.events_include:
        note += "; expect.events_include not applied (Flagger's event texts)"
    path = replace(scenario.expect.path, events_include=())
    return replace(
        scenario,
        id=ScenarioId(f"{scenario.id}-on-{controller}"),
        description=f"{scenario.description} [{note}]".strip(),
        expect=replace(scenario.expect, path=path),
        controller=controller,
        canary=None,
        rollout=bundle,
        canary_manifest=dict(bundle.manifests[0]),
    )
