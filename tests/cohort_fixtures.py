"""Cohorts and A/B Canary documents shared by the cohort, planner, provider and verdict tests."""

from __future__ import annotations

from typing import Any

import yaml

from harness.controllers.flagger.model import CanarySpec
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.model import Cohort

INSIDER = Cohort("insider", 0.10, header=(("x-canary", "insider"),))
ALWAYS = Cohort("always", 0.05, cookie=(("canary", "always"),))
TWO_COOKIES = Cohort("two", 0.05, cookie=(("session", "s1"), ("canary", "always")))

# Flagger's A/B Canary on Gateway API with Linkerd's parent (the apex Service, GAMMA producer route).
AB_CANARY = """
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  provider: gatewayapi:v1beta1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  progressDeadlineSeconds: 60
  service:
    port: 80
    gatewayRefs: [{name: podinfo, namespace: test, group: core, kind: Service, port: 80}]
  analysis:
    interval: 1m
    threshold: 2
    iterations: 5
    match:
      - headers: {x-canary: {exact: insider}}
      - headers: {cookie: {regex: "^(.*?;)?(canary=always)(;.*)?$"}}
    metrics:
      - {name: request-success-rate, thresholdRange: {min: 99}, interval: 1m}
"""


def ab_document(port: int = 80) -> dict[str, Any]:
    """A fresh copy of ``AB_CANARY`` (service and gateway port ``port``) to edit."""
    doc: dict[str, Any] = yaml.safe_load(AB_CANARY)
    doc["spec"]["service"]["port"] = port
    doc["spec"]["service"]["gatewayRefs"][0]["port"] = port
    return doc


def ab_canary(
    provider: str = "gatewayapi:v1beta1", match: Any = None, *, port: int = 80, **analysis: Any
) -> CanarySpec:
    """``AB_CANARY`` on ``provider`` with ``match`` and ``analysis`` fields replaced."""
    doc = ab_document(port)
    doc["spec"]["provider"] = provider
    if match is not None:
        doc["spec"]["analysis"]["match"] = match
    doc["spec"]["analysis"].update(analysis)
    return parse_canary(doc, "canary.yaml")
