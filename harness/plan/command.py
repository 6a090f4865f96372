"""``canary-chaos plan FILE``: pick the planner by what FILE holds and print the plan (thin, does file I/O).

A file with a ``kind: Rollout`` document (plus its AnalysisTemplates), or a scenario with ``controller:
argo-rollouts`` (its ``rollout:`` bundle, its policy unless ``--policy``), is planned by
``harness.plan.rollout``; anything else goes to the Flagger planner as before. Same policy lookup
(``--policy`` or the nearest ``policy.yaml``) and exit codes for both: 0 GO, 1 NO-GO, bad input through the
CLI's ``InputError`` path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console

from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.errors import LocatedInputError
from harness.scenario.argo_rollout import load_bundle
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
        return _rollout(load_bundle(file), file, rps, policy, as_json, echo)
    if _argo_scenario(documents):
        from harness.scenario.loader import load_scenario

        scenario = load_scenario(file)
        assert scenario.rollout is not None  # the loader requires it for controller: argo-rollouts
        chosen = policy if policy_file is not None else scenario.policy
        return _rollout(scenario.rollout, file, rps, chosen, as_json, echo)
    return _flagger(file, rps, policy, as_json, echo)


def _rollout(
    bundle: RolloutBundle, file: Path, rps: float, policy: Policy, as_json: bool, echo: Callable[[str], None]
) -> int:
    from harness.plan.rollout import plan_rollout, rollout_plan_to_json
    from harness.plan.rollout_render import render_rollout_plan

    planned = plan_rollout(bundle, rps=rps, policy=policy, source=str(file))
    if as_json:
        echo(json.dumps(rollout_plan_to_json(planned), indent=2, allow_nan=False))
    else:
        render_rollout_plan(planned, Console())
    return 0 if planned.verdict == "GO" else 1


def _flagger(file: Path, rps: float, policy: Policy, as_json: bool, echo: Callable[[str], None]) -> int:
    from harness.plan.planner import plan, plan_to_json
    from harness.plan.render import render_plan
    from harness.scenario.flagger_canary import load_canary
    from harness.scenario.metric_templates import load_metric_templates

    planned = plan(load_canary(file), rps=rps, policy=policy, templates=load_metric_templates(file))
    if as_json:
        echo(json.dumps(plan_to_json(planned), indent=2, allow_nan=False))
    else:
        render_plan(planned, Console())
    return 0 if planned.verdict == "GO" else 1


def _argo_scenario(documents: list[Located]) -> bool:
    return any(isinstance(d.data, Mapping) and d.data.get("controller") == ARGO_CONTROLLER for d in documents)
