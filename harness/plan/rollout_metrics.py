"""The metric that decides a Rollout's abort, its query window and success bound, and the check delay δ.

Pure helpers of the Argo Rollouts planner (``harness.plan.rollout``, whose docstring states the δ model).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from harness.controllers.argo_rollouts.model import AnalysisStep, MetricSpec, RolloutBundle
from harness.controllers.argo_rollouts.success_rate import lower_bound
from harness.plan.rollout_walk import resolve_metrics

_WINDOW = re.compile(r"\[\s*([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)\s*\]")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def deciding_metric(bundle: RolloutBundle, seen_by: Mapping[str, object] | None = None) -> MetricSpec | None:
    """The first non-dry-run metric of the background analysis, else of the first analysis step (of those
    in ``seen_by`` when given)."""
    spec = bundle.rollout
    analyses = [spec.background] if spec.background is not None else []
    analyses += [step.analysis for step in spec.steps if isinstance(step, AnalysisStep)]
    for analysis in analyses:
        for metric, dry_run in resolve_metrics(analysis, bundle.templates):
            if not dry_run and (seen_by is None or metric.name in seen_by):
                return metric
    return None


def query_window(metric: MetricSpec) -> float | None:
    """The longest range selector of the metric's query (``[1m]`` → 60 s)."""
    ranges = [float(n) * _UNITS[unit] for n, unit in _WINDOW.findall(metric.provider.query)]
    return max(ranges) if ranges else None


def success_bound(metric: MetricSpec) -> float | None:
    """X of a ``result[0] >= X`` success condition on a ratio (X ≤ 1)."""
    bound = lower_bound(metric.success_condition)
    return bound if bound is not None and bound <= 1 else None


def default_check_delay(metric: MetricSpec | None, error_rate: float, scrape_interval: float) -> float:
    base = 2 * scrape_interval
    if metric is None:
        return base
    window, bound = query_window(metric), success_bound(metric)
    if window is None or bound is None:
        return base
    if 1 - error_rate >= bound:
        return math.inf
    return base + window * (1 - bound) / error_rate
