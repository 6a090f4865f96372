"""The Argo Rollouts app manifests for one run, at the run's time scale (pure).

``harness/data/cluster/argo`` (rendered by ``manifests.render_kustomization``) is tailored like the Flagger
app: the run namespace, the per-run host, the stable revision and a random admin token; the
AnalysisTemplate's ``service`` argument names the run's canary Traefik service. At ``--time-scale S`` every
duration Argo reads is divided by S — pause durations, ``progressDeadlineSeconds``, the scale-down delays,
each metric's ``interval`` and ``initialDelay`` and the ``[window]`` of its PromQL — as ``cluster_scale`` does
for a Canary; a metric interval below 3 scrape intervals is refused, naming the field.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.backends.kubernetes.manifests import (
    ADMIN_SECRET,
    APP_NAME,
    PACKAGED_MANIFESTS,
    Manifest,
    find,
    set_container_env,
    set_revision,
)
from harness.errors import CanarySpecError, Problem
from harness.model import Revision
from harness.scenario.argo_fields import go_duration

PACKAGED_ARGO_MANIFESTS: Path = PACKAGED_MANIFESTS.parent / "argo"
ROLLOUT_GROUP, ROLLOUT_VERSION = "argoproj.io", "v1alpha1"
MIN_SCRAPES_PER_WINDOW = 3
_WINDOW = re.compile(r"\[(\d+(?:\.\d+)?(?:ms|s|m|h))\]")


def canary_service_label(namespace: str) -> str:
    """The canary's Traefik service prefix, ``<ns>-faulty-app-canary`` (+ ``-80@kubernetescrd``)."""
    return f"{namespace}-{APP_NAME}-canary"


def tailor_argo(
    manifests: Sequence[Manifest],
    *,
    namespace: str,
    host: str,
    stable: Revision,
    admin_token: str,
    image: str | None = None,
) -> list[Manifest]:
    """Deep copies of ``manifests`` for one run's namespace (the inputs are not modified)."""
    out = copy.deepcopy(list(manifests))
    for manifest in out:
        manifest.setdefault("metadata", {})["namespace"] = namespace
    rollout = find(out, "Rollout", APP_NAME)
    set_revision(rollout, stable)
    if image is not None:
        rollout["spec"]["template"]["spec"]["containers"][0]["image"] = image
    rollout["spec"]["replicas"] = stable.replicas
    find(out, "Secret", ADMIN_SECRET)["stringData"] = {"token": admin_token}
    for route in find(out, "IngressRoute", APP_NAME)["spec"]["routes"]:
        route["match"] = f"Host(`{host}`)"
    canary = rollout["spec"]["strategy"]["canary"]
    for analysis in [canary.get("analysis")] + [step.get("analysis") for step in canary.get("steps") or []]:
        for arg in (analysis or {}).get("args") or []:
            if arg.get("name") == "service":
                arg["value"] = canary_service_label(namespace)
    return out


ADOPTED_CANARY_KEYS = ("steps", "analysis", "abortScaleDownDelaySeconds", "scaleDownDelaySeconds")
ADOPTED_SPEC_KEYS = ("progressDeadlineSeconds", "progressDeadlineAbort")


def adopt_rollout(
    manifests: Sequence[Manifest], scenario: Sequence[Manifest], *, prometheus_address: str
) -> list[Manifest]:
    """Our app manifests with the scenario's rollout strategy: its steps, analysis, deadlines and scale-down
    delays, and its AnalysisTemplates (ours are dropped). Our pod template, Services, traffic routing and
    ``service`` argument stay; each template's Prometheus address becomes the cluster's."""
    out = [copy.deepcopy(m) for m in manifests if m.get("kind") != "AnalysisTemplate"]
    theirs = [m for m in scenario if m.get("kind") == "Rollout"]
    if len(theirs) != 1:
        raise CanarySpecError([Problem("rollout", "exactly one kind: Rollout", str(len(theirs)))])
    ours = find(out, "Rollout", APP_NAME)["spec"]
    their_spec = theirs[0].get("spec") or {}
    for key in ADOPTED_SPEC_KEYS:
        if key in their_spec:
            ours[key] = copy.deepcopy(their_spec[key])
    canary, their_canary = ours["strategy"]["canary"], their_spec.get("strategy", {}).get("canary", {})
    service_arg = next(
        (a for a in (canary.get("analysis") or {}).get("args", []) if a.get("name") == "service"), None
    )
    for key in ADOPTED_CANARY_KEYS:
        canary.pop(key, None)
        if key in their_canary:
            canary[key] = copy.deepcopy(their_canary[key])
    if service_arg is not None:
        for analysis in [canary.get("analysis")] + [s.get("analysis") for s in canary.get("steps") or []]:
            for arg in (analysis or {}).get("args") or []:
                if arg.get("name") == "service":
                    arg["value"] = service_arg["value"]
    for template in (m for m in scenario if m.get("kind") == "AnalysisTemplate"):
        adopted = copy.deepcopy(dict(template))
        adopted["metadata"] = {"name": template["metadata"]["name"]}
        for metric in adopted.get("spec", {}).get("metrics") or []:
            prometheus = (metric.get("provider") or {}).get("prometheus")
            if isinstance(prometheus, dict):
                prometheus["address"] = prometheus_address
        out.append(adopted)
    return out


def _go(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))}s"


def _scaled(value: object, scale: float, field: str, problems: list[Problem]) -> float | None:
    seconds = go_duration(str(value)) if isinstance(value, str) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    if seconds is None:
        problems.append(Problem(field, "a duration (Go syntax or seconds)", repr(value)))
        return None
    return seconds / scale


def scale_argo(
    manifests: Sequence[Manifest], scale: float, *, scrape_interval: float = 5.0
) -> tuple[list[Manifest], list[tuple[str, str, str]]]:
    """The Rollout and AnalysisTemplates with their durations divided by ``scale``, and each change as
    (field path, before, after)."""
    if not (scale > 0 and math.isfinite(scale)):
        raise CanarySpecError([Problem("--time-scale", "a finite number > 0", repr(scale))])
    out = copy.deepcopy(list(manifests))
    changes: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    if scale == 1:
        return out, changes
    rollout = find(out, "Rollout", APP_NAME)
    spec = rollout["spec"]
    canary = spec["strategy"]["canary"]
    for holder, key, where in (
        (spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds"),
        (canary, "abortScaleDownDelaySeconds", "spec.strategy.canary.abortScaleDownDelaySeconds"),
        (canary, "scaleDownDelaySeconds", "spec.strategy.canary.scaleDownDelaySeconds"),
    ):
        if key in holder:
            new = max(1, math.ceil(float(holder[key]) / scale))
            changes.append((where, str(holder[key]), str(new)))
            holder[key] = new
    for index, step in enumerate(canary.get("steps") or []):
        pause = step.get("pause") if isinstance(step, dict) else None
        if isinstance(pause, dict) and "duration" in pause:
            where = f"spec.strategy.canary.steps[{index}].pause.duration"
            seconds = _scaled(pause["duration"], scale, where, problems)
            if seconds is not None:
                changes.append((where, str(pause["duration"]), _go(seconds)))
                pause["duration"] = _go(seconds)
    for template in (m for m in out if m.get("kind") == "AnalysisTemplate"):
        name = template["metadata"]["name"]
        for index, metric in enumerate(template["spec"].get("metrics") or []):
            base = f"AnalysisTemplate {name}: spec.metrics[{index}]"
            for key in ("interval", "initialDelay"):
                if key in metric:
                    seconds = _scaled(metric[key], scale, f"{base}.{key}", problems)
                    if seconds is None:
                        continue
                    if key == "interval" and seconds < MIN_SCRAPES_PER_WINDOW * scrape_interval:
                        problems.append(
                            Problem(
                                f"{base}.interval",
                                f"a scaled interval ≥ {MIN_SCRAPES_PER_WINDOW} scrape intervals "
                                f"({MIN_SCRAPES_PER_WINDOW * scrape_interval:g}s)",
                                f"{metric[key]} becomes {seconds:g}s at --time-scale {scale:g}",
                            )
                        )
                    changes.append((f"{base}.{key}", str(metric[key]), _go(seconds)))
                    metric[key] = _go(seconds)
            prometheus = (metric.get("provider") or {}).get("prometheus")
            if isinstance(prometheus, dict) and "query" in prometheus:
                query = str(prometheus["query"])

                def window(match: re.Match[str]) -> str:
                    seconds = (go_duration(match.group(1)) or 0.0) / scale
                    return f"[{_go(max(seconds, MIN_SCRAPES_PER_WINDOW * scrape_interval))}]"

                scaled_query = _WINDOW.sub(window, query)
                if scaled_query != query:
                    changes.append((f"{base}.provider.prometheus.query", query, scaled_query))
                    prometheus["query"] = scaled_query
    if problems:
        raise CanarySpecError(problems)
    set_container_env(spec["template"]["spec"]["containers"][0], {"TIME_SCALE": f"{scale:g}"})
    return out, changes


def rollout_template_patch(
    rollout: Manifest, annotations: dict[str, str], env: dict[str, str]
) -> dict[str, Any]:
    """A JSON merge patch (custom resources take no strategic merge) of the Rollout's whole pod template:
    ``annotations`` added, the first container's ``env`` values set. Lists are replaced whole by a merge
    patch, so the containers are sent as read, changed only there."""
    template = copy.deepcopy(rollout["spec"]["template"])
    template.setdefault("metadata", {}).setdefault("annotations", {}).update(annotations)
    set_container_env(template["spec"]["containers"][0], env)
    return {"spec": {"template": template}}
