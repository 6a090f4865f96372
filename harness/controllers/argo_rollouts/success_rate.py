"""The success-rate minimum a Rollout's analysis enforces, read from a ``successCondition`` (pure).

Only the simple lower-bound forms are understood: ``result[0] >= X`` / ``result > X`` (what the planner's
``harness.plan.rollout_metrics`` reads too); anything else (``{{args.x}}`` bounds, ``&&``, ``len(result)``,
``<=``) has no single minimum, so none is claimed.
"""

from __future__ import annotations

import re

from harness.controllers.argo_rollouts.model import AnalysisStep, RolloutBundle

_LOWER_BOUND = re.compile(r"^\s*result(?:\s*\[\s*0\s*\])?\s*>=?\s*([0-9]*\.?[0-9]+)\s*$")


def lower_bound(condition: str) -> float | None:
    """X of a ``result[0] >= X`` (or ``result > X``) condition."""
    found = _LOWER_BOUND.match(condition or "")
    return None if found is None else float(found.group(1))


def success_rate_minimum(bundle: RolloutBundle) -> float | None:
    """The minimum success rate in percent: the first non-dry-run metric named ``*success*`` of the
    templates the Rollout uses (background analysis first, then the steps'), when its successCondition is
    a lower bound; X ≤ 1 is a ratio (× 100), 1 < X ≤ 100 a percentage, anything else None."""
    rollout = bundle.rollout
    analyses = [rollout.background] if rollout.background is not None else []
    analyses += [step.analysis for step in rollout.steps if isinstance(step, AnalysisStep)]
    for analysis in analyses:
        templates = [bundle.templates[name] for name in analysis.templates if name in bundle.templates]
        rules = (*analysis.dry_run, *(rule for t in templates for rule in t.dry_run))
        for metric in (m for t in templates for m in t.metrics):
            if "success" not in metric.name or any(re.search(rule, metric.name) for rule in rules):
                continue
            bound = lower_bound(metric.success_condition)
            if bound is None or bound > 100:
                return None
            return bound * 100 if bound <= 1 else bound
    return None
