"""Build an AnalysisRun from a Rollout's analysis and its templates (semantics §1.2, §3.1).

``newAnalysisRunFromRollout`` → ``NewAnalysisRunFromTemplates``: flatten the templates' metrics and args,
let the Rollout's args override, resolve ``valueFrom``, substitute ``{{args.x}}`` everywhere in the metric
(``utils/template/template.go`` ``ResolveArgs``: tags are trimmed; unknown tags fail), match ``dryRun``
rules, then compile the conditions. Failures that Argo reports on the run make it start as Error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from harness.controllers.argo_rollouts.analysis_run import AnalysisRunState, ResolvedMetric, RunKind
from harness.controllers.argo_rollouts.errors import ExpressionError
from harness.controllers.argo_rollouts.expr import Expression, parse
from harness.controllers.argo_rollouts.model import AnalysisTemplate, Argument, MetricSpec, RolloutAnalysis

_TAG = re.compile(r"\{\{(.*?)\}\}")


@dataclass(frozen=True)
class ArgContext:
    """What ``valueFrom`` can refer to."""

    rollout_name: str
    namespace: str
    stable_hash: str
    latest_hash: str


class _Unresolved(Exception):
    pass


def run_name(rollout: str, pod_hash: str, revision: int, step_index: int | None) -> str:
    """``<ro>-<hash>-<rev>`` (background) or ``<ro>-<hash>-<rev>-<step>`` (step run)."""
    parts = [rollout, pod_hash, str(revision)] + ([] if step_index is None else [str(step_index)])
    return "-".join(parts)


def create_run(
    name: str,
    kind: RunKind,
    analysis: RolloutAnalysis,
    templates: Mapping[str, AnalysisTemplate],
    context: ArgContext,
    *,
    now: float,
    step_index: int | None = None,
) -> AnalysisRunState:
    chosen = [templates[template] for template in analysis.templates]
    metrics = [metric for template in chosen for metric in template.metrics]
    base = AnalysisRunState(name, kind, (), step_index=step_index, created_at=now)
    try:
        values = _argument_values(chosen, analysis.args, context)
        resolved = tuple(_resolve(metric, values) for metric in metrics)
    except _Unresolved as exc:
        return replace(base, invalid=f"Unable to resolve metric arguments: {exc}")
    rules = (*analysis.dry_run, *(rule for template in chosen for rule in template.dry_run))
    dry_run: set[str] = set()
    for index, rule in enumerate(rules):
        matched = {m.name for m in metrics if re.search(rule, m.name)}
        if not matched:
            return replace(
                base, invalid=f"Analysis spec invalid: dryRun[{index}]: Rule didn't match any metric name(s)"
            )
        dry_run |= matched
    return replace(base, metrics=resolved, dry_run=frozenset(dry_run))


def _argument_values(
    templates: list[AnalysisTemplate], overrides: tuple[Argument, ...], context: ArgContext
) -> dict[str, str]:
    merged: dict[str, Argument] = {}
    for template in templates:
        for argument in template.args:
            merged.setdefault(argument.name, argument)
    for argument in overrides:
        if argument.name in merged:
            merged[argument.name] = argument
    values: dict[str, str] = {}
    for argument in merged.values():
        value = _argument_value(argument, context)
        if value is None:
            raise _Unresolved(f'argument "{argument.name}" was not supplied')
        values[f"args.{argument.name}"] = value
    return values


def _argument_value(argument: Argument, context: ArgContext) -> str | None:
    if argument.pod_template_hash == "Stable":
        return context.stable_hash
    if argument.pod_template_hash == "Latest":
        return context.latest_hash
    if argument.field_path == "metadata.name":
        return context.rollout_name
    if argument.field_path == "metadata.namespace":
        return context.namespace
    return argument.value


def substitute(text: str, values: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        tag = match.group(1).strip()
        if tag not in values:
            raise _Unresolved(f"failed to resolve {{{{{match.group(1)}}}}}")
        return values[tag]

    return _TAG.sub(one, text)


def _resolve(metric: MetricSpec, values: Mapping[str, str]) -> ResolvedMetric:
    provider = replace(
        metric.provider,
        address=substitute(metric.provider.address, values),
        query=substitute(metric.provider.query, values),
    )
    success = substitute(metric.success_condition, values)
    failure = substitute(metric.failure_condition, values)
    spec = replace(metric, provider=provider, success_condition=success, failure_condition=failure)
    return ResolvedMetric(spec, _compile(success), _compile(failure))


def _compile(condition: str) -> Expression | str | None:
    if not condition:
        return None
    try:
        return parse(condition)
    except ExpressionError as exc:
        return str(exc)


def placeholder_free(text: str) -> str:
    """``text`` with each ``{{…}}`` replaced by ``0``: syntax-check a template before its args are known."""
    return _TAG.sub("0", text)
