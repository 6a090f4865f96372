"""Rollout + AnalysisTemplate manifests load into the model; bad input is refused with located problems."""

from __future__ import annotations

import textwrap

import pytest

from harness.controllers.argo_rollouts.errors import RolloutSpecError
from harness.controllers.argo_rollouts.model import AnalysisStep, PauseStep, SetWeightStep
from harness.scenario.argo_rollout import load_bundle, parse_bundle

from .rig import DATA, manifests


def test_sample_manifests_load() -> None:
    bundle = load_bundle(DATA / "rollout-traefik.yaml", DATA / "analysis-success-rate.yaml")
    rollout = bundle.rollout
    assert (rollout.name, rollout.namespace, rollout.replicas) == ("podinfo", "test", 1)
    assert (rollout.canary_service, rollout.stable_service, rollout.traefik_service) == (
        "podinfo-canary",
        "podinfo-stable",
        "podinfo",
    )
    assert rollout.steps[:2] == (SetWeightStep(20), PauseStep(90.0, "90s"))
    assert rollout.background is not None
    assert (rollout.background.templates, rollout.background.starting_step) == (("success-rate",), 1)
    assert rollout.abort_scale_down_delay() == 30.0
    metric = bundle.templates["success-rate"].metrics[0]
    assert (metric.interval, metric.count, metric.failure_limit, metric.effective_count()) == (
        60.0,
        None,
        2,
        None,
    )
    assert "traefik_service_requests_total" in metric.provider.query
    assert metric.provider.timeout == 5.0


DOCS_SHAPED = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: rollouts-demo
spec:
  replicas: 5
  strategy:
    canary:
      canaryService: canary-rollout
      stableService: stable-rollout
      trafficRouting:
        traefik:
          weightedTraefikServiceName: traefik-service
      analysis:
        templates:
        - templateName: success-rate
        startingStep: 2
        args:
        - name: service-name
          value: guestbook-svc.default.svc.cluster.local
      steps:
      - setWeight: 30
      - pause: {}
      - setWeight: 40
      - pause: {duration: 10}
      - analysis:
          templates:
          - templateName: success-rate
          args:
          - name: service-name
            valueFrom:
              podTemplateHashValue: Latest
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
  - name: service-name
  metrics:
  - name: success-rate
    interval: 5m
    successCondition: result[0] >= 0.95
    failureLimit: 3
    provider:
      prometheus:
        address: http://prometheus.example.com:9090
        timeout: 40
        headers:
        - key: X-Scope-OrgID
          value: tenant_a
        query: |
          sum(irate(istio_requests_total{destination_service=~"{{args.service-name}}",response_code!~"5.*"}[5m]))
          / sum(irate(istio_requests_total{destination_service=~"{{args.service-name}}"}[5m]))
"""


def test_a_manifest_in_the_shape_of_argo_docs_loads() -> None:
    bundle = parse_bundle(DOCS_SHAPED, "docs.yaml")
    steps = bundle.rollout.steps
    assert steps[1] == PauseStep()  # pause: {} is indefinite
    assert steps[3] == PauseStep(10.0, "10")
    assert isinstance(steps[4], AnalysisStep)
    assert steps[4].analysis.args[0].pod_template_hash == "Latest"
    assert bundle.templates["success-rate"].metrics[0].interval == 300.0


def problems(text: str) -> list[str]:
    with pytest.raises(RolloutSpecError) as caught:
        parse_bundle(text, "bad.yaml")
    return [p.render() for p in caught.value.problems]


def swap(old: str, new: str) -> str:
    assert old in DOCS_SHAPED
    return DOCS_SHAPED.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        (
            "- setWeight: 30",
            "- setWeight: 130",
            [
                "bad.yaml:23",
                "spec.strategy.canary.steps[0].setWeight",
                "SetWeight needs to be between 0 and 100",
            ],
        ),
        ("- setWeight: 30", "- experiment: {}", ["steps[0].experiment", "not supported by the emulation"]),
        ("- setWeight: 30", "- setWieght: 30", ["steps[0].setWieght", "did you mean 'setWeight'?"]),
        (
            "pause: {duration: 10}",
            "pause: {duration: soon}",
            ["steps[3].pause.duration", "Duration needs to be greater than 0"],
        ),
        (
            "successCondition: result[0] >= 0.95",
            "successCondition: result.ok && result[0] >= 0.95",
            ["bad.yaml:45", "spec.metrics[0].successCondition", "at column 7", "member access"],
        ),
        (
            "successCondition: result[0] >= 0.95",
            "successCondition: result[0] >=",
            ["spec.metrics[0].successCondition", "a value at column 13"],
        ),
        (
            "- templateName: success-rate\n        startingStep",
            "- templateName: succes-rate\n        startingStep",
            [
                "spec.strategy.canary.analysis.templates[0].templateName",
                "'succes-rate'",
                "templates in the files: success-rate",
            ],
        ),
        (
            "    canary:\n",
            "    blueGreen: {}\n    canary:\n",
            ["spec.strategy.blueGreen", "only the canary strategy"],
        ),
        (
            "      prometheus:\n",
            "      web: {}\n      prometheus:\n",
            ["provider.web", "only the prometheus provider"],
        ),
        (
            "failureLimit: 3",
            "failureLimit: 3\n    count: 2",
            ["spec.metrics[0].count", "count >= failureLimit + consecutiveSuccessLimit"],
        ),
        ("    interval: 5m\n", "    count: 3\n", ["spec.metrics[0].interval", "interval must be specified"]),
        ("interval: 5m", "interval: 5 minutes", ["spec.metrics[0].interval", "Go duration"]),
        (
            "        traefik:\n",
            "        nginx: {}\n        traefik:\n",
            ["trafficRouting.nginx", "only trafficRouting.traefik"],
        ),
        (
            "stableService: stable-rollout",
            "stableService: canary-rollout",
            ["stableService", "other than canaryService"],
        ),
        (
            "        - name: service-name\n          value: guestbook-svc.default.svc.cluster.local\n",
            "",
            ["spec.strategy.canary.analysis.args", "a value for argument 'service-name'"],
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout",
            "apiVersion: argoproj.io/v1\nkind: Rollout",
            ["apiVersion", "argoproj.io/v1alpha1"],
        ),
    ],
)
def test_located_problems(old: str, new: str, fragments: list[str]) -> None:
    rendered = "\n".join(problems(swap(old, new)))
    for fragment in fragments:
        assert fragment in rendered


def test_traefik_service_must_name_both_services() -> None:
    text = DOCS_SHAPED + textwrap.dedent("""
        ---
        apiVersion: traefik.io/v1alpha1
        kind: TraefikService
        metadata:
          name: traefik-service
        spec:
          weighted:
            services:
            - name: stable-rollout
              port: 80
        """)
    rendered = problems(text)
    assert len(rendered) == 1
    assert "spec.weighted.services" in rendered[0]
    assert "traefik canary service was not found" in rendered[0]


def test_exactly_one_rollout() -> None:
    template_only = DOCS_SHAPED.split("---", 1)[1]
    assert "exactly one kind: Rollout" in problems(template_only)[0]


def test_count_and_limits_refuse_placeholders() -> None:
    text = manifests(metric_changes={"count": "{{args.count}}"})
    rendered = "\n".join(problems(text))
    assert "argument placeholders are only supported in query, address and conditions" in rendered
