"""In-memory ``ClusterApi`` for tests and demos: ``FakeCluster``.

``FakeCluster`` replays a scripted Canary timeline (``harness.testing.flagger_status``) on a ``FakeClock``:
times in the script are seconds after the Canary is applied. Watches advance the clock as they deliver
events (no sleeping), can be broken with HTTP 410 at a given time, and re-lists return the latest object
visible at the current time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from harness.backends.kubernetes.api import (
    CanaryObject,
    CanaryWatchEvent,
    DeploymentInfo,
    EventInfo,
    GoneError,
    NamespaceInfo,
    ObjectWatchEvent,
    PodInfo,
)
from harness.clock import FakeClock
from harness.errors import ClusterError
from harness.testing.flagger_status import ScriptedStatus


@dataclass
class FakeCluster:
    """A scripted, in-memory cluster implementing ``ClusterApi``."""

    clock: FakeClock
    context: str = "kind-canary-chaos"
    canary_script: Sequence[ScriptedStatus] = ()
    watch_breaks: Sequence[float] = ()  # script times at which an open watch gets 410 Gone
    namespaces: dict[str, NamespaceInfo] = field(default_factory=dict)
    applied: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deployments: dict[tuple[str, str], DeploymentInfo] = field(default_factory=dict)
    crds: set[tuple[str, str]] = field(
        default_factory=lambda: {
            ("traefik.io", "ingressroutes"),
            ("traefik.io", "traefikservices"),
            ("flagger.app", "canaries"),
            ("flagger.app", "metrictemplates"),
        }
    )
    receiver_events: list[dict[str, Any]] = field(default_factory=list)
    serving_pods: dict[str, list[str]] | None = None  # app label → Ready pod names (None: 2 per Deployment)
    receiver_ready_at: float = 0.0  # clock time from which the event receiver's Service answers
    traefik_services: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    prometheus_values: dict[str, float | None] = field(default_factory=dict)  # query → value (None: empty)
    flagger_logs: str = '{"level":"info","msg":"Starting canary analysis for faulty-app"}'
    fail: dict[str, ClusterError] = field(default_factory=dict)  # method name → error to raise
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    patches: list[tuple[str, str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    execs: list[tuple[str, str, list[str]]] = field(default_factory=list)
    custom_objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # (ns, plural)
    pods: dict[str, list[PodInfo]] = field(default_factory=dict)  # namespace → pods (list_pod_details)
    pod_proxy: dict[tuple[str, str, int, str], str] = field(
        default_factory=dict
    )  # (ns, pod, port, path) → body
    custom_patches: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    kube_events: dict[str, list[EventInfo]] = field(default_factory=dict)  # namespace → core/v1 Events
    _canary: list[tuple[float, CanaryObject]] = field(default_factory=list)  # (clock time, object)
    _breaks: list[float] = field(default_factory=list)
    _compacted_rv: int = 0

    def __post_init__(self) -> None:
        self.deployments[("flagger-system", "flagger")] = _ready_deployment(
            "flagger-system",
            "flagger",
            args=("-mesh-provider=traefik", "-metrics-server=http://flagger-prometheus:9090"),
        )

    def _record(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        if method in self.fail:
            raise self.fail[method]

    # -- ClusterApi ----------------------------------------------------------------------------------
    def current_context(self) -> str:
        return self.context

    def apply(self, namespace: str, manifests: Sequence[Mapping[str, Any]]) -> None:
        self._record("apply", namespace, len(manifests))
        if namespace not in self.namespaces:
            raise ClusterError(f"server-side apply in {namespace}: HTTP 404 namespace not found")
        self.applied.setdefault(namespace, []).extend(copy.deepcopy(dict(m)) for m in manifests)
        for manifest in manifests:
            if manifest["kind"] == "Deployment":
                name = manifest["metadata"]["name"]
                self.deployments[(namespace, name)] = _ready_deployment(namespace, name)
            if manifest["kind"] == "Canary":
                self._start_script(namespace, dict(manifest))

    def _start_script(self, namespace: str, manifest: dict[str, Any]) -> None:
        t0 = self.clock.now()
        base = {"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "spec": manifest["spec"]}
        meta = {"name": manifest["metadata"]["name"], "namespace": namespace}
        self._canary = [(t0, cast(CanaryObject, {**base, "metadata": {**meta, "resourceVersion": "100"}}))]
        for index, entry in enumerate(self.canary_script, start=1):
            obj = {**base, "metadata": {**meta, "resourceVersion": str(100 + index)}, "status": entry.status}
            self._canary.append((t0 + entry.at, cast(CanaryObject, obj)))
        self._breaks = sorted(t0 + at for at in self.watch_breaks)

    def create_namespace(self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        self._record("create_namespace", name)
        if name in self.namespaces:
            raise ClusterError(f"create namespace {name}: HTTP 409 AlreadyExists")
        self.namespaces[name] = NamespaceInfo(name, dict(labels), dict(annotations))

    def delete_namespace(self, name: str) -> None:
        self._record("delete_namespace", name)
        self.namespaces.pop(name, None)

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        self._record("get_namespace", name)
        return self.namespaces.get(name)

    def list_namespaces(self, label_selector: str) -> list[NamespaceInfo]:
        self._record("list_namespaces", label_selector)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        return [
            ns for ns in self.namespaces.values() if all(ns.labels.get(k) == v for k, v in wanted.items())
        ]

    def get_canary(self, namespace: str, name: str) -> CanaryObject:
        self._record("get_canary", namespace, name)
        visible = [obj for at, obj in self._canary if at <= self.clock.now()]
        if not visible or visible[-1]["metadata"]["namespace"] != namespace:
            raise ClusterError(f"get canary {namespace}/{name}: HTTP 404 not found")
        return copy.deepcopy(visible[-1])

    def get_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> Mapping[str, Any] | None:
        self._record("get_custom_object", group, plural, namespace, name)
        if (group, plural) == ("traefik.io", "traefikservices"):
            found = self.traefik_services.get((namespace, name))
            return copy.deepcopy(found) if found is not None else None
        named = [
            o for o in self.custom_objects.get((namespace, plural), []) if o["metadata"].get("name") == name
        ]
        return copy.deepcopy(named[-1]) if named else None

    def watch_canary(
        self, namespace: str, name: str, resource_version: str, timeout_seconds: float
    ) -> Iterator[CanaryWatchEvent]:
        self._record("watch_canary", namespace, name, resource_version)
        if int(resource_version or 0) < self._compacted_rv:
            raise GoneError(f"watch canary {namespace}/{name}: 410 Gone (too old resource version)")
        return self._stream(int(resource_version or 0), self.clock.now() + timeout_seconds)

    def _stream(self, after_rv: int, end: float) -> Iterator[CanaryWatchEvent]:
        for at, obj in self._canary:
            if int(obj["metadata"]["resourceVersion"]) <= after_rv:
                continue
            broken = next((b for b in self._breaks if self.clock.now() < b <= min(at, end)), None)
            if broken is not None:
                self._break(broken)
            if at > end:
                break
            self.clock.set(max(self.clock.now(), at))
            yield CanaryWatchEvent("MODIFIED", copy.deepcopy(obj))
        broken = next((b for b in self._breaks if self.clock.now() < b <= end), None)
        if broken is not None:
            self._break(broken)
        self.clock.set(max(self.clock.now(), end))

    def _break(self, at: float) -> None:
        """The watch dies with 410 at ``at``; history up to then is compacted (only re-list sees it)."""
        self.clock.set(at)
        self._breaks.remove(at)
        visible = [int(obj["metadata"]["resourceVersion"]) for t, obj in self._canary if t <= at]
        self._compacted_rv = max(visible, default=0)
        raise GoneError("watch canary: 410 Gone (too old resource version)")

    def watch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, resource_version: str,
        timeout_seconds: float,
    ) -> Iterator[ObjectWatchEvent]:  # fmt: skip
        """Every listed object newer than ``resource_version``, then the watch window passes."""
        self._record("watch_custom_object", group, plural, namespace, name, resource_version)
        after = int(resource_version or 0)
        objects = self.custom_objects.get((namespace, plural), [])
        fresh = [
            o
            for o in objects
            if o["metadata"].get("name") == name and int(o["metadata"]["resourceVersion"]) > after
        ]
        self.clock.set(self.clock.now() + timeout_seconds)
        return iter([ObjectWatchEvent("MODIFIED", copy.deepcopy(o)) for o in fresh])

    def list_custom_objects(
        self, group: str, version: str, plural: str, namespace: str, label_selector: str = ""
    ) -> list[Mapping[str, Any]]:
        self._record("list_custom_objects", group, plural, namespace, label_selector)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        found = self.custom_objects.get((namespace, plural), [])
        labels = [o.get("metadata", {}).get("labels", {}) for o in found]
        return [
            copy.deepcopy(o)
            for o, lab in zip(found, labels, strict=True)
            if all(lab.get(k) == v for k, v in wanted.items())
        ]

    def patch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        self._record("patch_custom_object", group, plural, namespace, name)
        self.custom_patches.append((namespace, plural, name, copy.deepcopy(dict(patch))))

    def list_events(self, namespace: str, involved_kind: str) -> list[EventInfo]:
        self._record("list_events", namespace, involved_kind)
        return [e for e in self.kube_events.get(namespace, []) if e.involved_kind == involved_kind]

    def list_pod_details(self, namespace: str, label_selector: str) -> list[PodInfo]:
        self._record("list_pod_details", namespace, label_selector)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        return [
            p for p in self.pods.get(namespace, []) if all(p.labels.get(k) == v for k, v in wanted.items())
        ]

    def pod_proxy_get(self, namespace: str, pod: str, port: int, path: str) -> str:
        self._record("pod_proxy_get", namespace, pod, port, path)
        body = self.pod_proxy.get((namespace, pod, port, path))
        if body is None:
            raise ClusterError(f"GET {path} on pod {namespace}/{pod}:{port}: HTTP 503 no endpoints")
        return body

    def patch_deployment_template(
        self, namespace: str, name: str, *, annotations: Mapping[str, str], env: Mapping[str, str]
    ) -> None:
        self._record("patch_deployment_template", namespace, name)
        self.patches.append((namespace, name, dict(annotations), dict(env)))

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None:
        self._record("get_deployment", namespace, name)
        return self.deployments.get((namespace, name))

    def list_deployments(self, namespace: str, label_selector: str = "") -> list[DeploymentInfo]:
        self._record("list_deployments", namespace)
        return [d for (ns, _), d in self.deployments.items() if ns == namespace]

    def read_pod_logs(self, namespace: str, label_selector: str, tail_lines: int) -> str:
        self._record("read_pod_logs", namespace, label_selector)
        return self.flagger_logs

    def list_pods(self, namespace: str, label_selector: str) -> list[str]:
        self._record("list_pods", namespace, label_selector)
        app = label_selector.removeprefix("app=")
        if self.serving_pods is not None:
            return list(self.serving_pods.get(app, []))
        return [f"{app}-abc12-{i}" for i in range(2)] if (namespace, app) in self.deployments else []

    def crd_exists(self, group: str, plural: str) -> bool:
        self._record("crd_exists", group, plural)
        return (group, plural) in self.crds

    def service_proxy_get(
        self, namespace: str, service: str, port: int, path: str, params: Mapping[str, str] | None = None
    ) -> str:
        self._record("service_proxy_get", namespace, service, path)
        params = params or {}
        if service == "event-receiver" and path == "healthz":
            if self.clock.now() < self.receiver_ready_at:
                raise ClusterError(
                    f"GET healthz on service {namespace}/{service}:{port}: HTTP 503 no endpoints"
                )
            return "ok"
        if service == "event-receiver" and path == "events":
            return json.dumps(self.receiver_events[int(params.get("since", "0")) :])
        if path == "api/v1/query":
            return _prometheus_answer(self.prometheus_values.get(params.get("query", "")))
        raise ClusterError(f"GET {path} on service {namespace}/{service}:{port}: HTTP 503 no endpoints")

    def exec_in_pod(
        self, namespace: str, pod: str, command: Sequence[str], *, container: str | None = None
    ) -> str:
        """Pretends to run the harness's fault-PUT script: records argv[-1] and answers 200. A pod with
        several containers (``pods``) needs ``container`` named, as the API server requires."""
        self._record("exec_in_pod", namespace, pod)
        details = [p for p in self.pods.get(namespace, []) if p.name == pod]
        containers = details[0].containers if details else ()
        if container is None and len(containers) > 1:
            raise ClusterError(
                f"exec in pod {namespace}/{pod}: 400 a container name must be specified, choose one of "
                f"{list(containers)}"
            )
        if container is not None and containers and container not in containers:
            raise ClusterError(f"exec in pod {namespace}/{pod}: 400 container {container} is not valid")
        self.execs.append((namespace, pod, list(command)))
        return "200\n"


def _matches(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())


def _prometheus_answer(value: float | None) -> str:
    result = [] if value is None else [{"metric": {}, "value": [0, repr(value)]}]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


def _ready_deployment(namespace: str, name: str, args: tuple[str, ...] = ()) -> DeploymentInfo:
    return DeploymentInfo(
        namespace=namespace,
        name=name,
        replicas=1,
        ready_replicas=1,
        updated_replicas=1,
        available_replicas=1,
        generation=1,
        observed_generation=1,
        container_args=args,
    )
