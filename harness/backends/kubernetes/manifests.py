"""The app manifests: render the kustomization, then tailor them to one run (pure).

They ship as package data, ``harness/data/cluster/app`` (``cluster/app`` points there).

Rendering supports the kustomize subset the project uses — ``resources`` (files and directories) and
``configMapGenerator`` with ``files``/``literals`` under ``generatorOptions.disableNameSuffixHash`` —
and refuses anything else, so ``kubectl apply -k`` and the harness always deploy the same objects.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.errors import CanarySpecError, InputError, Problem
from harness.model import Revision
from harness.plan.cluster_scale import ClusterCanary, scale_canary
from harness.scenario.yamlloc import parse_located_all

Manifest = dict[str, Any]
APP_NAME = "faulty-app"
APP_CONTAINER = "app"  # the app container of the Deployment (a meshed pod also runs linkerd-proxy)
ADMIN_SECRET = "faulty-app-admin"  # noqa: S105 - a Secret object name, not a password
EVENT_RECEIVER = "event-receiver"
EVENT_RECEIVER_PORT = 8080
EVENT_HOOK_NAME = "canary-chaos-events"
REVISION_ANNOTATION = "canary-chaos.io/revision"
DEFAULT_HOST = "faulty-app.local"
PACKAGED_MANIFESTS = Path(__file__).resolve().parents[2] / "data" / "cluster" / "app"  # package data
_KUSTOMIZE_KEYS = frozenset({"apiVersion", "kind", "resources", "configMapGenerator", "generatorOptions"})


class AdoptionWarning(UserWarning):
    """A team's Canary analysis refers to something the test namespace does not have."""


def render_kustomization(directory: Path) -> list[Manifest]:
    """Objects of a kustomization directory, in resource order (generated ConfigMaps first)."""
    path = directory / "kustomization.yaml"
    spec = _load_one(path)
    unknown = sorted(set(spec) - _KUSTOMIZE_KEYS)
    if unknown:
        raise InputError(
            f"{path}: unsupported kustomization fields {unknown} (supported: {sorted(_KUSTOMIZE_KEYS)})"
        )
    objects = _generated_config_maps(directory, spec)
    for entry in spec.get("resources", []):
        target = directory / entry
        objects.extend(render_kustomization(target) if target.is_dir() else _load_all(target))
    return objects


def _generated_config_maps(directory: Path, spec: Mapping[str, Any]) -> list[Manifest]:
    generators = spec.get("configMapGenerator", [])
    if generators and not spec.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise InputError(
            f"{directory}/kustomization.yaml: configMapGenerator needs disableNameSuffixHash: true"
        )
    maps = []
    for generator in generators:
        data = {Path(f).name: (directory / f).read_text(encoding="utf-8") for f in generator.get("files", [])}
        data.update(dict(item.split("=", 1) for item in generator.get("literals", [])))
        maps.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    return maps


def _load_all(path: Path) -> list[Manifest]:
    try:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot load manifests: {exc}") from exc
    return [d for d in docs if d]


def _load_one(path: Path) -> Manifest:
    docs = _load_all(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InputError(f"{path}: expected one YAML mapping")
    return docs[0]


def find(manifests: Iterable[Manifest], kind: str, name: str) -> Manifest:
    for manifest in manifests:
        if manifest.get("kind") == kind and manifest.get("metadata", {}).get("name") == name:
            return manifest
    raise InputError(f"no {kind}/{name} in the app manifests")


# -- per-run tailoring ---------------------------------------------------------------------------------
def revision_env(revision: Revision) -> dict[str, str]:
    """Pod-template env for a revision: version, faults (JSON) and extra env."""
    return {
        "APP_VERSION": revision.version,
        "FAULTS": json.dumps(list(revision.faults)),
        **dict(revision.env),
    }


def tailor(
    manifests: Sequence[Manifest],
    *,
    namespace: str,
    host: str,
    stable: Revision,
    admin_token: str,
    analysis_from: Mapping[str, Any] | None = None,
    progress_deadline_seconds: int | None = None,
    image: str | None = None,
) -> list[Manifest]:
    """Deep copies of ``manifests`` set up for one run's namespace (the inputs are not modified).

    ``analysis_from`` (a Canary object) lends its ``spec.analysis``; ``progress_deadline_seconds`` (the
    scenario's) replaces the Canary's, and the Deployment's own deadline is raised to at least it.
    ``image`` replaces the app image in the app and event-receiver Deployments (the receiver runs in it).
    """
    out = copy.deepcopy(list(manifests))
    for manifest in out:
        manifest.setdefault("metadata", {})["namespace"] = namespace
    set_revision(find(out, "Deployment", APP_NAME), stable)
    find(out, "Deployment", APP_NAME)["spec"]["replicas"] = stable.replicas
    find(out, "Secret", ADMIN_SECRET)["stringData"] = {"token": admin_token}
    for ingress in (m for m in out if m.get("kind") == "IngressRoute"):
        for route in ingress["spec"]["routes"]:
            route["match"] = f"Host(`{host}`)"
    canary = find(out, "Canary", APP_NAME)
    if analysis_from is not None:
        adopted = adopt_analysis(analysis_from, canary, deployed(out))
        canary.clear()
        canary.update(adopted)
    if image is not None:
        for name in (APP_NAME, EVENT_RECEIVER):
            find(out, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]["image"] = image
    if progress_deadline_seconds is not None:
        set_progress_deadline(canary, find(out, "Deployment", APP_NAME), progress_deadline_seconds)
    add_event_webhook(canary, event_receiver_url(namespace))
    return out


def apply_time_scale(
    manifests: list[Manifest], deployed: Manifest, scale: float, scrape_interval: float
) -> tuple[ClusterCanary, dict[str, str]]:
    """Replace the Canary ``deployed`` (one of ``manifests``) in place by its cluster form at ``scale``; the
    app pods get ``TIME_SCALE``. Returns the scaled Canary and each metric's applied interval."""
    scaled = scale_canary(deployed, scale, scrape_interval=scrape_interval)
    deployed.clear()
    deployed.update(json.loads(json.dumps(scaled.manifest)))
    metrics = deployed["spec"]["analysis"].get("metrics") or []
    windows = {str(m["name"]): str(m["interval"]) for m in metrics if m.get("interval")}
    container = find(manifests, "Deployment", APP_NAME)["spec"]["template"]["spec"]["containers"][0]
    set_container_env(container, {"TIME_SCALE": f"{scale:g}"})
    return scaled, windows


def set_progress_deadline(canary: Manifest, deployment: Manifest, seconds: int) -> None:
    """The Canary's deadline is ``seconds``; the Deployment's is at least that, so that Kubernetes does not
    mark the rollout ProgressDeadlineExceeded (which Flagger takes as final) before Flagger's own deadline."""
    if seconds <= 0:
        raise InputError(f"progressDeadlineSeconds: expected a positive number of seconds, found {seconds}")
    canary["spec"]["progressDeadlineSeconds"] = seconds
    spec = deployment["spec"]
    spec["progressDeadlineSeconds"] = max(int(spec.get("progressDeadlineSeconds", 600)), seconds)


def set_revision(workload: Manifest, revision: Revision) -> None:
    """The pod template of ``workload`` (a Deployment or Argo Rollout) runs ``revision``: its annotation and
    the first container's env (``revision_env``), other env entries kept."""
    template = workload["spec"]["template"]
    template.setdefault("metadata", {}).setdefault("annotations", {})[REVISION_ANNOTATION] = revision.version
    set_container_env(template["spec"]["containers"][0], revision_env(revision))


def set_container_env(container: Manifest, env: Mapping[str, str]) -> None:
    """``env`` as literal values on ``container``, replacing entries of those names, keeping the others."""
    kept = [e for e in container.get("env", []) if e.get("name") not in env]
    container["env"] = [*kept, *({"name": k, "value": v} for k, v in env.items())]


def deployed(manifests: Iterable[Manifest]) -> frozenset[str]:
    """Names of the MetricTemplates among ``manifests``."""
    return frozenset(m["metadata"]["name"] for m in manifests if m.get("kind") == "MetricTemplate")


def event_receiver_url(namespace: str) -> str:
    return f"http://{EVENT_RECEIVER}.{namespace}.svc:{EVENT_RECEIVER_PORT}/"


def add_event_webhook(canary: Manifest, url: str) -> None:
    """Add (or repoint) our ``type: event`` webhook; it replaces Flagger's global event webhook."""
    hooks = canary["spec"]["analysis"].setdefault("webhooks", [])
    hooks[:] = [h for h in hooks if h.get("name") != EVENT_HOOK_NAME]
    hooks.append({"name": EVENT_HOOK_NAME, "type": "event", "url": url})


def adopt_analysis(
    their_canary: str | Mapping[str, Any],
    our_canary: Mapping[str, Any],
    deployed_templates: Iterable[str] = (),
    *,
    warn: Callable[[str], None] | None = None,
) -> Manifest:
    """Our Canary with the ``spec.analysis`` block of a team's real Canary (nothing else rewritten).

    ``their_canary`` is the YAML text or the loaded object. Metrics whose ``templateRef`` names a
    template not in ``deployed_templates`` (same namespace) are kept but reported through ``warn``
    (default: ``warnings.warn`` with ``AdoptionWarning``): Flagger would fail those checks every tick.
    """
    theirs = _their_canary(their_canary)
    analysis = theirs.get("spec", {}).get("analysis")
    if not isinstance(analysis, dict):
        raise CanarySpecError(
            [Problem("spec.analysis", "a mapping (the analysis block to adopt)", repr(analysis))]
        )
    adopted = copy.deepcopy(dict(our_canary))
    adopted["spec"]["analysis"] = copy.deepcopy(analysis)
    report = warn or (lambda text: warnings.warn(text, AdoptionWarning, stacklevel=3))
    for message in missing_template_refs(analysis, frozenset(deployed_templates)):
        report(message)
    return adopted


def _their_canary(value: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(value, str):
        return value
    docs = [d.data for d in parse_located_all(value, "--canary-spec", error=CanarySpecError) if d.data]
    canaries = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Canary"]
    if len(canaries) != 1:
        raise CanarySpecError([Problem("<root>", "exactly one kind: Canary document", f"{len(canaries)}")])
    return canaries[0]


def missing_template_refs(analysis: Mapping[str, Any], deployed_templates: frozenset[str]) -> list[str]:
    messages = []
    for index, metric in enumerate(analysis.get("metrics", []) or []):
        ref = metric.get("templateRef") if isinstance(metric, dict) else None
        if not isinstance(ref, dict):
            continue
        name, namespace = ref.get("name"), ref.get("namespace")
        if namespace or name not in deployed_templates:
            where = f"{namespace}/{name}" if namespace else str(name)
            messages.append(
                f"analysis.metrics[{index}] ({metric.get('name')}): templateRef {where} is not deployed in "
                "the test namespace; Flagger will count this metric as a failed check every tick"
            )
    return messages
