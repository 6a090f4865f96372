"""Load a Rollout, its AnalysisTemplates and optionally its TraefikService, with located errors.

Accepts manifests as Argo Rollouts v1.9.1 would (``pkg/apis/rollouts/validation``), copied from its docs
unchanged. Fields that change behaviour the emulation does not model (experiments, setCanaryScale, other
traffic routers, blueGreen…) are refused, not ignored. Other kinds in the files (Service, Deployment,
IngressRoute…) are skipped. AnalysisTemplates are read by ``argo_template``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.controllers.argo_rollouts.errors import RolloutSpecError
from harness.controllers.argo_rollouts.model import (
    AnalysisStep,
    AnalysisTemplate,
    CanaryStep,
    PauseStep,
    RolloutAnalysis,
    RolloutBundle,
    RolloutSpec,
    SetWeightStep,
)
from harness.errors import Problem
from harness.scenario.argo_fields import Fields, describe, go_duration
from harness.scenario.argo_template import (
    NOT_MODELLED,
    arguments,
    dry_run,
    header,
    parse_template,
)
from harness.scenario.yamlloc import FieldPath, Located, load_located_all, parse_located_all

_NOT_MODELLED = NOT_MODELLED
SPEC_KEYS = {
    "replicas",
    "selector",
    "template",
    "workloadRef",
    "strategy",
    "progressDeadlineSeconds",
    "progressDeadlineAbort",
    "paused",
    "minReadySeconds",
    "revisionHistoryLimit",
    "analysis",
}
SPEC_UNSUPPORTED = {"restartAt": _NOT_MODELLED, "rollbackWindow": _NOT_MODELLED}
CANARY_KEYS = {
    "canaryService",
    "stableService",
    "trafficRouting",
    "steps",
    "analysis",
    "maxSurge",
    "abortScaleDownDelaySeconds",
    "scaleDownDelaySeconds",
    "maxUnavailable",
    "canaryMetadata",
    "stableMetadata",
    "antiAffinity",
    "scaleDownDelayRevisionLimit",
    "dynamicStableScale",
}
CANARY_UNSUPPORTED = {
    "pingPong": _NOT_MODELLED,
    "minPodsPerReplicaSet": _NOT_MODELLED,
    "replicaProgressThreshold": _NOT_MODELLED,
}
STEP_UNSUPPORTED = dict.fromkeys(
    ("experiment", "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "plugin"),
    "not supported by the emulation (setWeight, pause and analysis are)",
)
ROUTERS = ("istio", "nginx", "alb", "smi", "ambassador", "appMesh", "apisix", "plugins")
ROUTING_UNSUPPORTED = dict.fromkeys(ROUTERS, "only trafficRouting.traefik is emulated") | {
    "managedRoutes": _NOT_MODELLED,
    "maxTrafficWeight": _NOT_MODELLED,
}
ANALYSIS_KEYS = {"templates", "args", "dryRun", "measurementRetention", "analysisRunMetadata"}


def load_bundle(*paths: str | Path) -> RolloutBundle:
    """Read every document of ``paths``: one Rollout, its AnalysisTemplates, optionally its TraefikService."""
    documents = [doc for path in paths for doc in load_located_all(path, error=RolloutSpecError)]
    return bundle_from(documents, str(paths[0]) if paths else "<input>")


def parse_bundle(text: str, source: str = "<input>") -> RolloutBundle:
    return bundle_from(parse_located_all(text, source, error=RolloutSpecError), source)


def bundle_from(documents: list[Located], source: str) -> RolloutBundle:
    rollouts = [d for d in documents if _kind(d) == "Rollout"]
    if len(rollouts) != 1:
        raise RolloutSpecError([Problem("", "exactly one kind: Rollout", f"{len(rollouts)}", source)])
    templates = [parse_template(d) for d in documents if _kind(d) == "AnalysisTemplate"]
    by_name: dict[str, AnalysisTemplate] = {}
    problems: list[Problem] = []
    for template in templates:
        if template.name in by_name:
            problems.append(
                Problem("metadata.name", "each AnalysisTemplate once", template.name, template.file)
            )
        by_name[template.name] = template
    rollout_doc = rollouts[0]
    rollout = parse_rollout(rollout_doc)
    problems += _check_references(rollout_doc, rollout, by_name)
    traefik = [d for d in documents if _kind(d) == "TraefikService"]
    problems += _check_traefik_service(traefik, rollout)
    if problems:
        raise RolloutSpecError(problems)
    manifests = (rollout_doc.data, *(d.data for d in documents if _kind(d) == "AnalysisTemplate"))
    return RolloutBundle(rollout, by_name, tuple(m for m in manifests if isinstance(m, Mapping)))


def _kind(doc: Located) -> str | None:
    data = doc.data
    return data.get("kind") if isinstance(data, Mapping) else None


def parse_rollout(doc: Located) -> RolloutSpec:
    f = Fields(doc)
    header(f, "Rollout")
    f.known_keys(("spec",), SPEC_KEYS, SPEC_UNSUPPORTED)
    f.known_keys(("spec", "strategy"), {"canary"}, {"blueGreen": "only the canary strategy is emulated"})
    canary = ("spec", "strategy", "canary")
    f.mapping(canary, required=True)
    f.known_keys(canary, CANARY_KEYS, CANARY_UNSUPPORTED)
    if f.boolean((*canary, "dynamicStableScale")):
        f.problem((*canary, "dynamicStableScale"), "false or absent", f"true: {_NOT_MODELLED}")
    routing = (*canary, "trafficRouting")
    f.mapping(routing, required=True)
    f.known_keys(routing, {"traefik"}, ROUTING_UNSUPPORTED)
    f.known_keys((*routing, "traefik"), {"weightedTraefikServiceName"})
    traefik = f.string((*routing, "traefik", "weightedTraefikServiceName"), required=True)
    canary_service = f.string((*canary, "canaryService"), required=True)
    stable_service = f.string((*canary, "stableService"), required=True)
    if canary_service and canary_service == stable_service:
        f.problem((*canary, "stableService"), "a service other than canaryService", repr(stable_service))
    steps = tuple(
        s for i, _ in enumerate(f.items((*canary, "steps"))) if (s := _step(f, (*canary, "steps", i)))
    )
    background = None
    if f.get((*canary, "analysis")) is not None:
        background = _analysis(f, (*canary, "analysis"), background=True)
    min_ready = f.integer(("spec", "minReadySeconds"), 0, minimum=0)
    deadline = f.integer(("spec", "progressDeadlineSeconds"), 600, minimum=1)
    if deadline <= min_ready:
        f.problem(("spec", "progressDeadlineSeconds"), "more than minReadySeconds", str(deadline))
    abort_delay = f.get((*canary, "abortScaleDownDelaySeconds"))
    spec = RolloutSpec(
        name=f.string(("metadata", "name"), required=True),
        namespace=f.string(("metadata", "namespace"), default="default") or "default",
        canary_service=canary_service,
        stable_service=stable_service,
        traefik_service=traefik,
        steps=steps,
        replicas=f.integer(("spec", "replicas"), 1, minimum=0),
        background=background,
        progress_deadline_seconds=deadline,
        progress_deadline_abort=f.boolean(("spec", "progressDeadlineAbort")),
        abort_scale_down_delay_seconds=None
        if abort_delay is None
        else f.integer((*canary, "abortScaleDownDelaySeconds"), 30, minimum=0),
        scale_down_delay_seconds=f.integer((*canary, "scaleDownDelaySeconds"), 30, minimum=0),
        paused=f.boolean(("spec", "paused")),
        file=doc.file,
    )
    f.raise_if_problems()
    return spec


def _step(f: Fields, path: FieldPath) -> CanaryStep | None:
    step = f.mapping(path, required=True)
    if step is None:
        return None
    f.known_keys(path, {"setWeight", "pause", "analysis"}, STEP_UNSUPPORTED)
    kinds = [k for k in ("setWeight", "pause", "analysis") if k in step]
    if len(kinds) != 1:
        found = "none" if not kinds else " and ".join(kinds)
        f.problem(path, "exactly one of setWeight, pause, analysis", found)
        return None
    if kinds[0] == "setWeight":
        weight = f.integer((*path, "setWeight"), -1)
        if not 0 <= weight <= 100:
            f.problem(
                (*path, "setWeight"), "SetWeight needs to be between 0 and 100", describe(step["setWeight"])
            )
            return None
        return SetWeightStep(weight)
    if kinds[0] == "pause":
        return _pause(f, (*path, "pause"))
    analysis = _analysis(f, (*path, "analysis"), background=False)
    return None if analysis is None else AnalysisStep(analysis)


def _pause(f: Fields, path: FieldPath) -> PauseStep | None:
    if f.get(path) is None:
        return PauseStep()
    if f.mapping(path) is None:
        return None
    f.known_keys(path, {"duration"})
    raw = f.get((*path, "duration"))
    if raw is None:
        return PauseStep()
    seconds: float | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        seconds = float(raw) if raw >= 0 else None
    elif isinstance(raw, str):
        seconds = float(raw) if re.fullmatch(r"\d+", raw) else go_duration(raw)
        seconds = None if seconds is None or seconds < 0 else float(int(seconds))  # DurationSeconds truncates
    if seconds is None:
        f.problem(
            (*path, "duration"), "Duration needs to be greater than 0 (seconds, or 30s/1m/1h)", describe(raw)
        )
        return None
    return PauseStep(seconds, str(raw))


def _analysis(f: Fields, path: FieldPath, *, background: bool) -> RolloutAnalysis | None:
    if f.mapping(path) is None:
        return None
    f.known_keys(path, ANALYSIS_KEYS | ({"startingStep"} if background else set()))
    names: list[str] = []
    for i, _ in enumerate(f.items((*path, "templates"), required=True)):
        ref = (*path, "templates", i)
        f.known_keys(ref, {"templateName"}, {"clusterScope": "ClusterAnalysisTemplates are not emulated"})
        names.append(f.string((*ref, "templateName"), required=True))
    starting = f.integer((*path, "startingStep"), -1, minimum=0) if background else -1
    return RolloutAnalysis(
        templates=tuple(names),
        args=arguments(f, (*path, "args")),
        dry_run=dry_run(f, (*path, "dryRun")),
        starting_step=starting if starting >= 0 else None,
    )


def _check_references(
    doc: Located, rollout: RolloutSpec, templates: Mapping[str, AnalysisTemplate]
) -> list[Problem]:
    problems: list[Problem] = []
    canary: FieldPath = ("spec", "strategy", "canary")
    places: list[tuple[FieldPath, RolloutAnalysis]] = []
    if rollout.background is not None:
        places.append(((*canary, "analysis"), rollout.background))
    places += [
        ((*canary, "steps", i, "analysis"), s.analysis)
        for i, s in enumerate(rollout.steps)
        if isinstance(s, AnalysisStep)
    ]
    for path, analysis in places:
        seen: set[str] = set()
        for i, name in enumerate(analysis.templates):
            template = templates.get(name)
            if template is None:
                hint = f"templates in the files: {', '.join(sorted(templates)) or 'none'}"
                problems.append(
                    doc.problem(
                        (*path, "templates", i, "templateName"),
                        "an AnalysisTemplate in the given files",
                        repr(name),
                        hint,
                    )
                )
                continue
            for metric in template.metrics:
                if metric.name in seen:
                    problems.append(
                        doc.problem(
                            (*path, "templates"),
                            "metric names unique across the templates",
                            f"duplicate metric {metric.name!r}",
                        )
                    )
                seen.add(metric.name)
        problems += _checkarguments(
            doc, path, analysis, [templates[n] for n in analysis.templates if n in templates]
        )
    return problems


def _checkarguments(
    doc: Located, path: FieldPath, analysis: RolloutAnalysis, templates: list[AnalysisTemplate]
) -> list[Problem]:
    given = {a.name for a in analysis.args}
    problems = []
    for template in templates:
        for argument in template.args:
            if (
                argument.name not in given
                and argument.value is None
                and not argument.pod_template_hash
                and not argument.field_path
            ):
                problems.append(
                    doc.problem(
                        (*path, "args"),
                        f"a value for argument {argument.name!r} of template {template.name!r}",
                        "none (Argo: the AnalysisRun errors and the rollout aborts)",
                    )
                )
    return problems


def _check_traefik_service(documents: list[Located], rollout: RolloutSpec) -> list[Problem]:
    problems = []
    for doc in documents:
        data: Any = doc.data
        if (
            not isinstance(data, Mapping)
            or (data.get("metadata") or {}).get("name") != rollout.traefik_service
        ):
            continue
        services = ((data.get("spec") or {}).get("weighted") or {}).get("services")
        if not isinstance(services, list):
            problems.append(
                doc.problem(
                    ("spec", "weighted", "services"),
                    "a list (Argo: spec.weighted.services was not found in traefik service manifest)",
                    describe(services),
                )
            )
            continue
        names = {str(s.get("name")) for s in services if isinstance(s, Mapping)}
        for role, service in (("canary", rollout.canary_service), ("stable", rollout.stable_service)):
            if service not in names:
                problems.append(
                    doc.problem(
                        ("spec", "weighted", "services"),
                        f"an entry named {service!r} (Argo: traefik {role} service was not found)",
                        repr(sorted(names)),
                    )
                )
    return problems
