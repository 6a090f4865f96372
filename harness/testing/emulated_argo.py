"""Argo Rollouts in ``EmulatedCluster``: applying a Rollout starts our Argo emulation for it.

``EmulatedArgoCluster`` is the Flagger cluster plus ``rollouts.argoproj.io``: a Rollout (with the
AnalysisTemplates and TraefikService applied beside it, loaded by the scenario layer's bundle loader) gets a
``harness.controllers.argo_rollouts.controller.RolloutController`` ticking every cluster second on the run's
clock, as the local plug-in ticks it. Its status is served as the API server would (``rollout_status_dict``:
Argo v1.9.1's JSON field names, RFC 3339 times), its AnalysisRuns with their ``rollouts-pod-template-hash``
label, the controller's events as core/v1 Events (``emulated_events``), and the TraefikService with the
weights the controller wrote. A merge patch of the pod template is an update; the canary pods carry the new
hash (``list_pods`` with that label). Watch breaks, hung calls and the request timeout work as for Canaries.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import yaml

from harness.backends.kubernetes.api import CanaryObject, DeploymentInfo, EventInfo, ObjectWatchEvent
from harness.clock import FakeClock
from harness.controllers.argo_rollouts.controller import RolloutController
from harness.controllers.argo_rollouts.model import RolloutBundle, RolloutEvent, RolloutStatus
from harness.controllers.argo_rollouts.ports import QueryResult
from harness.errors import ClusterError
from harness.scenario.argo_rollout import parse_bundle
from harness.testing.emulated_app import APP, ClusterClock, fault_error_rate, stamp
from harness.testing.emulated_cluster import EmulatedCluster
from harness.testing.emulated_events import recorded_events

POD_HASH_LABEL = "rollouts-pod-template-hash"
TICK_SECONDS = 1.0  # cluster seconds between reconciles (the local plug-in's resync)


def rollout_status_dict(status: RolloutStatus, wall: Callable[[float], str]) -> dict[str, Any]:
    """A ``RolloutStatus`` as Argo v1.9.1 writes it (``RolloutStatus`` JSON); ``wall`` formats times."""
    out: dict[str, Any] = {
        "phase": status.phase.value,
        "message": status.message,
        "currentStepIndex": status.current_step_index,
        "currentPodHash": status.current_pod_hash,
        "stableRS": status.stable_rs,
        "updatedReplicas": status.updated_replicas,
        "availableReplicas": status.available_replicas,
        "pauseConditions": [
            {"reason": c.reason.value, "startTime": wall(c.start_time)} for c in status.pause_conditions
        ],
        "controllerPause": status.controller_pause,
    }
    if status.abort:
        out["abort"] = True
    if status.aborted_at is not None:
        out["abortedAt"] = wall(status.aborted_at)
    if status.canary_weight is not None:
        out["canary"] = {
            "weights": {
                "canary": {"podTemplateHash": status.current_pod_hash, "weight": status.canary_weight},
                "stable": {"podTemplateHash": status.stable_rs, "weight": 100 - status.canary_weight},
            }
        }
    if status.progressing is not None:
        c = status.progressing
        out["conditions"] = [
            {"type": "Progressing", "status": c.status, "reason": c.reason, "message": c.message,
             "lastUpdateTime": wall(c.last_update_time), "lastTransitionTime": wall(c.last_update_time)}
        ]  # fmt: skip
    return out


@dataclass
class ArgoApp:
    """One namespace's Rollout: pod template, ReplicaSets, TraefikService weights and the Argo ports."""

    namespace: str
    clock: FakeClock
    bundle: RolloutBundle
    manifest: dict[str, Any]
    latency_ms: float = 12.0
    template_env: dict[str, str] = field(default_factory=dict)
    template_annotations: dict[str, str] = field(default_factory=dict)
    runtime_faults: list[Mapping[str, Any]] = field(default_factory=list)
    weights: tuple[int, int] = (100, 0)  # (stable, canary) as the TraefikService holds them
    canary_replicas: int = 0
    stable_hash: str = ""
    updating: bool = False
    next_tick: float = 0.0  # cluster seconds
    history: list[tuple[float, CanaryObject]] = field(default_factory=list)
    events: list[RolloutEvent] = field(default_factory=list)
    run_hashes: dict[str, str] = field(default_factory=dict)  # AnalysisRun name → pod hash it measures
    rollout: RolloutController | None = None
    published: list[RolloutStatus] = field(default_factory=list)

    def start(self) -> None:
        self.stable_hash = self.canary_hash()
        spec = self.bundle.rollout
        self.rollout = RolloutController(
            spec, self.bundle.templates, traffic=self, workload=self, prometheus=self,
            clock=ClusterClock(self.clock), events=self, stable_hash=self.stable_hash,
        )  # fmt: skip

    # -- what EmulatedCluster ticks ------------------------------------------------------------------
    @property
    def controller(self) -> ArgoApp:
        return self

    interval = TICK_SECONDS

    def tick(self) -> None:
        assert self.rollout is not None
        if not self.updating and self.canary_hash() != self.stable_hash:
            self.updating = True
            self.rollout.start_update()
        elif self.updating:
            self.rollout.reconcile()

    # -- Argo ports ----------------------------------------------------------------------------------
    def set_weight(self, canary_weight: int) -> None:
        self.weights = (100 - canary_weight, canary_weight)

    def canary_hash(self) -> str:
        text = json.dumps([self.template_env, self.template_annotations], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def scale_canary(self, replicas: int) -> None:
        self.canary_replicas = replicas

    def canary_available_replicas(self) -> int:
        return 0 if self.crashes() else self.canary_replicas

    def stable_available_replicas(self) -> int:
        return self.bundle.rollout.replicas

    def promote(self) -> None:
        self.stable_hash = self.canary_hash()

    def scale_down_previous_stable(self) -> None:
        pass  # the old stable ReplicaSet's pods are not modelled beyond their count

    def query(self, address: str, query: str, timeout: float) -> QueryResult:
        """Prometheus as the canary's faults make it: p99 latency (ms) or the success ratio; no canary
        traffic is an empty vector, as the real query over an unrouted service gives."""
        if self.weights[1] == 0:
            return ()
        if "histogram_quantile" in query:
            return (self.latency_ms,)
        return (1.0 - fault_error_rate(self.canary_faults()),)

    def emit(self, event: RolloutEvent) -> None:
        self.events.append(event)

    # -- state ---------------------------------------------------------------------------------------
    def canary_faults(self) -> list[Mapping[str, Any]]:
        return [*json.loads(self.template_env.get("FAULTS", "[]")), *self.runtime_faults]

    def crashes(self) -> bool:
        return any(f.get("kind") == "crash" and f.get("on_startup") for f in self.canary_faults())

    @property
    def status(self) -> RolloutStatus:
        assert self.rollout is not None
        return self.rollout.status

    def analysis_runs(self, wall: Callable[[float], str]) -> list[dict[str, Any]]:
        assert self.rollout is not None
        out = []
        for name, run in self.rollout.runs.by_name.items():
            pod_hash = self.run_hashes.setdefault(name, self.status.current_pod_hash)
            results = [
                {"name": r.name, "phase": r.phase.value, "count": r.count, "successful": r.successful,
                 "failed": r.failed, "inconclusive": r.inconclusive, "error": r.error,
                 "dryRun": r.name in run.dry_run}
                for r in run.results
            ]  # fmt: skip
            out.append({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
                "metadata": {"name": name, "namespace": self.namespace, "labels": {POD_HASH_LABEL: pod_hash}},
                "status": {"phase": run.phase.value, "metricResults": results},
            })  # fmt: skip
        return out


@dataclass
class EmulatedArgoCluster(EmulatedCluster):
    """``EmulatedCluster`` that also runs Argo Rollouts (see the module docstring)."""

    rollouts: dict[str, ArgoApp] = field(default_factory=dict)
    retired: dict[str, ArgoApp] = field(default_factory=dict)  # Rollouts of deleted namespaces, for tests

    # -- hooks of the base -------------------------------------------------------------------------
    def _apps_on(self, clock: FakeClock) -> list[Any]:
        return [*super()._apps_on(clock), *(a for a in self.rollouts.values() if a.clock is clock)]

    def _app(self, namespace: str) -> Any:
        return self.rollouts[namespace] if namespace in self.rollouts else super()._app(namespace)

    def _publish(self, app: Any) -> None:
        if not isinstance(app, ArgoApp):
            super()._publish(app)
            return
        status = app.status
        if app.published and app.published[-1] == status:
            return
        app.published.append(status)
        self._rv += 1
        obj = {**copy.deepcopy(app.manifest), "status": rollout_status_dict(status, self._wall(app))}
        obj["metadata"] = {
            **obj.get("metadata", {}),
            "namespace": app.namespace,
            "resourceVersion": str(self._rv),
        }
        app.history.append((app.clock.now(), cast(CanaryObject, obj)))

    @staticmethod
    def _wall(app: ArgoApp) -> Callable[[float], str]:
        wall = ClusterClock(app.clock).wall
        return lambda at: stamp(wall(at))

    # -- ClusterApi ----------------------------------------------------------------------------------
    def delete_namespace(self, name: str) -> None:
        super().delete_namespace(name)
        with self._lock:
            if name in self.rollouts:
                self.retired[name] = self.rollouts.pop(name)

    def apply(self, namespace: str, manifests: Sequence[Mapping[str, Any]]) -> None:
        rollouts = [m for m in manifests if m.get("kind") == "Rollout"]
        if not rollouts:
            super().apply(namespace, manifests)
            return
        self._enter("apply", namespace)
        with self._lock:
            if namespace not in self.namespaces:
                raise ClusterError(f"server-side apply in {namespace}: HTTP 404 namespace not found")
            kinds = ("Rollout", "AnalysisTemplate", "TraefikService")
            bundle = parse_bundle(yaml.safe_dump_all([dict(m) for m in manifests if m.get("kind") in kinds]))
            manifest = copy.deepcopy(dict(rollouts[0]))
            template = manifest["spec"]["template"]
            container = template["spec"]["containers"][0]
            app = ArgoApp(namespace, self.run_clock(), bundle, manifest, latency_ms=self.latency_ms)
            app.template_env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
            app.template_annotations = dict(template.get("metadata", {}).get("annotations", {}))
            app.start()
            app.next_tick = ClusterClock(app.clock).now() + TICK_SECONDS
            self.rollouts[namespace] = app
            self._publish(app)

    def get_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> Mapping[str, Any] | None:
        if namespace not in self.rollouts or (group, plural) not in (
            ("argoproj.io", "rollouts"),
            ("traefik.io", "traefikservices"),
        ):
            return super().get_custom_object(group, version, plural, namespace, name)
        self._enter("get_custom_object", namespace)
        with self._lock:
            app = self.rollouts[namespace]
            if plural == "rollouts":
                return copy.deepcopy(app.history[-1][1]) if name == APP else None
            stable, canary = app.weights
        services = [{"name": f"{name}-stable", "port": 80, "weight": stable},
                    {"name": f"{name}-canary", "port": 80, "weight": canary}]  # fmt: skip
        return {
            "apiVersion": f"{group}/{version}",
            "kind": "TraefikService",
            "spec": {"weighted": {"services": services}},
        }

    def watch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, resource_version: str,
        timeout_seconds: float,
    ) -> Iterator[ObjectWatchEvent]:  # fmt: skip
        if (group, plural) != ("argoproj.io", "rollouts") or namespace not in self.rollouts:
            return super().watch_custom_object(
                group, version, plural, namespace, name, resource_version, timeout_seconds
            )
        return (
            ObjectWatchEvent(e.type, e.object)
            for e in self.watch_canary(namespace, name, resource_version, timeout_seconds)
        )

    def list_custom_objects(
        self, group: str, version: str, plural: str, namespace: str, label_selector: str = ""
    ) -> list[Mapping[str, Any]]:
        if (group, plural) != ("argoproj.io", "analysisruns") or namespace not in self.rollouts:
            return super().list_custom_objects(group, version, plural, namespace, label_selector)
        self._enter("list_custom_objects", namespace)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        with self._lock:
            app = self.rollouts[namespace]
            runs = app.analysis_runs(self._wall(app))
        return [r for r in runs if all(r["metadata"]["labels"].get(k) == v for k, v in wanted.items())]

    def list_events(self, namespace: str, involved_kind: str) -> list[EventInfo]:
        if namespace not in self.rollouts:
            return super().list_events(namespace, involved_kind)
        self._enter("list_events", namespace)
        with self._lock:
            app = self.rollouts[namespace]
            recorded = recorded_events(namespace, app.events, ClusterClock(app.clock).wall)
        return [e for e in recorded if e.involved_kind == involved_kind]

    def patch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        if (group, plural) != ("argoproj.io", "rollouts") or namespace not in self.rollouts:
            super().patch_custom_object(group, version, plural, namespace, name, patch)
            return
        self._enter("patch_custom_object", namespace)
        template = (patch.get("spec") or {}).get("template")
        with self._lock:
            app = self.rollouts[namespace]
            if template is not None:
                app.manifest["spec"]["template"] = copy.deepcopy(template)  # a merge patch replaces lists
                container = template["spec"]["containers"][0]
                app.template_env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
                app.template_annotations = dict(template.get("metadata", {}).get("annotations", {}))
                app.runtime_faults = []  # new pods

    def list_pods(self, namespace: str, label_selector: str) -> list[str]:
        if namespace not in self.rollouts:
            return super().list_pods(namespace, label_selector)
        self._enter("list_pods", namespace)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        with self._lock:
            app = self.rollouts[namespace]
            canary = app.status.current_pod_hash
            if wanted.get(POD_HASH_LABEL) != canary or canary == app.stable_hash or app.crashes():
                return []
            return [f"{APP}-{canary}-{i}" for i in range(app.canary_replicas)]

    def exec_in_pod(
        self, namespace: str, pod: str, command: Sequence[str], *, container: str | None = None
    ) -> str:
        if namespace not in self.rollouts:
            return super().exec_in_pod(namespace, pod, command, container=container)
        self._enter("exec_in_pod", namespace)
        with self._lock:
            self.rollouts[namespace].runtime_faults = list(json.loads(command[-1]))
        return "200\n"

    def crd_exists(self, group: str, plural: str) -> bool:
        return group == "argoproj.io" or super().crd_exists(group, plural)

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None:
        if (namespace, name) == ("argo-rollouts", "argo-rollouts"):
            self._enter("get_deployment", namespace)
            return DeploymentInfo(namespace, name, 1, 1, 1, 1, 1, 1)
        return super().get_deployment(namespace, name)

    def traffic(self, namespace: str) -> tuple[int, float]:
        with self._lock:
            app = self.rollouts.get(namespace)
            if app is None:
                return super().traffic(namespace)
            return app.weights[1], fault_error_rate(app.canary_faults())
