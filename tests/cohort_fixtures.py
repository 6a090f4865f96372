"""Cohorts and Gateway API (Linkerd) Canary documents shared by the cohort, planner, provider and verdict
tests: one preamble (``podinfo`` in ``test``, the apex Service as GAMMA parent), each test its analysis."""

from __future__ import annotations

import copy
from typing import Any

from harness.controllers.flagger.model import CanarySpec
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.model import Cohort

INSIDER = Cohort("insider", 0.10, header=(("x-canary", "insider"),))
ALWAYS = Cohort("always", 0.05, cookie=(("canary", "always"),))
TWO_COOKIES = Cohort("two", 0.05, cookie=(("session", "s1"), ("canary", "always")))

# The match of INSIDER and ALWAYS, the cookie as Flagger's docs write it (a header match on ``cookie``).
COHORT_MATCH = [
    {"headers": {"x-canary": {"exact": "insider"}}},
    {"headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}}},
]
# The match of Flagger's Gateway API A/B tutorial.
TUTORIAL_MATCH = [
    {"headers": {"user-agent": {"regex": ".*Firefox.*"}}},
    {"headers": {"cookie": {"regex": "^(.*?;)?(type=insider)(;.*)?$"}}},
]
SUCCESS_RATE = {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"}


def canary_document(
    analysis: dict[str, Any], *, port: int = 80, deadline: int | None = 60, **service: Any
) -> dict[str, Any]:
    """A ``gatewayapi:v1beta1`` Canary of podinfo with this ``analysis`` (deep-copied: edit freely)."""
    spec: dict[str, Any] = {
        "provider": "gatewayapi:v1beta1",
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
        "service": {
            "port": port,
            "gatewayRefs": [{"name": "podinfo", "namespace": "test", "group": "core", "kind": "Service",
                             "port": port}],
            **service,
        },
        "analysis": copy.deepcopy(analysis),
    }  # fmt: skip
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": spec,
    }


def ab_document(**service: Any) -> dict[str, Any]:
    """The A/B Canary of INSIDER and ALWAYS: 5 iterations of 1m, threshold 2, success rate ≥ 99."""
    analysis = {"interval": "1m", "threshold": 2, "iterations": 5, "match": COHORT_MATCH,
                "metrics": [SUCCESS_RATE]}  # fmt: skip
    return canary_document(analysis, **service)


def ab_canary(provider: str = "gatewayapi:v1beta1", match: Any = None, **analysis: Any) -> CanarySpec:
    """``ab_document`` on ``provider`` with ``match`` and ``analysis`` fields replaced."""
    doc = ab_document()
    doc["spec"]["provider"] = provider
    if match is not None:
        doc["spec"]["analysis"]["match"] = match
    doc["spec"]["analysis"].update(analysis)
    return parse_canary(doc, "canary.yaml")
