"""``canary-chaos plan FILE``: pick the planner by what FILE holds and print the plan (thin, does file I/O).

A file with a ``kind: Rollout`` document (plus its AnalysisTemplates) is planned by ``harness.plan.rollout``;
anything else goes to the Flagger planner as before. Same policy lookup (``--policy`` or the nearest
``policy.yaml``) and exit codes for both: 0 GO, 1 NO-GO, bad input through the CLI's ``InputError`` path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console

from harness.errors import LocatedInputError, Problem
from harness.scenario.policy import DEFAULT_POLICY, Policy, find_policy, load_policy
from harness.scenario.yamlloc import Located, load_located_all

ARGO_CONTROLLER = "argo-rollouts"


def run_plan(
    file: Path, *, rps: float, policy_file: Path | None, as_json: bool, echo: Callable[[str], None]
) -> int:
    """Plan ``file`` and print it; the exit code (0 GO, 1 NO-GO)."""
    policy_path = policy_file or find_policy(file.parent)
    policy = load_policy(policy_path) if policy_path else DEFAULT_POLICY
    documents = load_located_all(file, error=LocatedInputError)
    kinds = [d.data.get("kind") for d in documents if isinstance(d.data, Mapping)]
    if "Rollout" in kinds:
        return _rollout(file, rps, policy, as_json, echo)
    _refuse_argo_scenario(documents, str(file))
    return _flagger(file, rps, policy, as_json, echo)


def _rollout(file: Path, rps: float, policy: Policy, as_json: bool, echo: Callable[[str], None]) -> int:
    from harness.plan.rollout import plan_rollout, rollout_plan_to_json
    from harness.plan.rollout_render import render_rollout_plan
    from harness.scenario.argo_rollout import load_bundle

    planned = plan_rollout(load_bundle(file), rps=rps, policy=policy, source=str(file))
    if as_json:
        echo(json.dumps(rollout_plan_to_json(planned), indent=2, allow_nan=False))
    else:
        render_rollout_plan(planned, Console())
    return 0 if planned.verdict == "GO" else 1


def _flagger(file: Path, rps: float, policy: Policy, as_json: bool, echo: Callable[[str], None]) -> int:
    from harness.plan.planner import plan, plan_to_json
    from harness.plan.render import render_plan
    from harness.scenario.flagger_canary import load_canary, load_metric_templates

    planned = plan(load_canary(file), rps=rps, policy=policy, templates=load_metric_templates(file))
    if as_json:
        echo(json.dumps(plan_to_json(planned), indent=2, allow_nan=False))
    else:
        render_plan(planned, Console())
    return 0 if planned.verdict == "GO" else 1


def _refuse_argo_scenario(documents: list[Located], file: str) -> None:
    """A scenario that names ``controller: argo-rollouts`` is not plannable here yet: say so, located."""
    for doc in documents:
        if isinstance(doc.data, Mapping) and doc.data.get("controller") == ARGO_CONTROLLER:
            raise LocatedInputError(
                [
                    Problem(
                        "controller",
                        "a Rollout manifest (a Rollout + its AnalysisTemplates) for an argo-rollouts plan",
                        f"a scenario with controller: {ARGO_CONTROLLER} (scenario plans are not wired yet)",
                        file,
                        doc.line_of(("controller",)),
                    )
                ]
            )
