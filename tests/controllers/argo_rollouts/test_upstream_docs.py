"""The Rollout, TraefikService and AnalysisTemplate of Argo Rollouts' own docs load unchanged.

By default the copies committed as test data are read (tests/plan/data/docs-canary-traefik.yaml: the
TraefikService and Rollout of docs/features/traffic-management/traefik.md; tests/data/rollouts/
docs-analysis-success-rate.yaml: the AnalysisTemplate of docs/features/analysis.md). Point
``ARGO_ROLLOUTS_DOCS`` at the ``docs/`` directory of an Argo Rollouts checkout (v1.9.1) to read the docs
themselves instead. The YAML blocks are taken as written; the only lines dropped are the docs' ``...``
elision markers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.controllers.argo_rollouts.model import PauseStep, SetWeightStep
from harness.scenario.argo_rollout import parse_bundle

DOCS = os.environ.get("ARGO_ROLLOUTS_DOCS")
TESTS = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def yaml_blocks(relative: str) -> list[str]:
    text = (Path(str(DOCS)) / relative).read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        indent = len(match.group(1))
        lines = [line[indent:] for line in match.group(2).splitlines()]
        blocks.append("\n".join(line for line in lines if line.strip() != "..."))
    return blocks


def docs_text() -> tuple[str, str, str]:
    """The docs' TraefikService, Rollout and success-rate AnalysisTemplate, as YAML text."""
    if DOCS:
        traefik_service, rollout = yaml_blocks("features/traffic-management/traefik.md")[:2]
        template = next(b for b in yaml_blocks("features/analysis.md") if "kind: AnalysisTemplate" in b)
        return traefik_service, rollout, template
    traefik_service, rollout = (
        (TESTS / "plan" / "data" / "docs-canary-traefik.yaml").read_text().split("\n---\n")
    )
    template = (TESTS / "data" / "rollouts" / "docs-analysis-success-rate.yaml").read_text()
    return traefik_service, rollout, template


def test_the_traefik_docs_rollout_and_the_analysis_docs_template_load() -> None:
    traefik_service, rollout, template = docs_text()
    bundle = parse_bundle("\n---\n".join([rollout, traefik_service, template]), "argo-docs.yaml")
    assert bundle.rollout.traefik_service == "traefik-service"
    assert bundle.rollout.steps[:3] == (SetWeightStep(30), PauseStep(), SetWeightStep(40))
    metric = bundle.templates["success-rate"].metrics[0]
    assert (metric.interval, metric.failure_limit, metric.success_condition) == (
        300.0,
        3,
        "result[0] >= 0.95",
    )
