"""An in-process cluster behind our ``ClusterApi`` port, whose Canaries are run by our Flagger emulation.

``EmulatedCluster`` models namespaces, the app's Deployments (target and ``-primary``), their pods, the
TraefikService weights and an event receiver per namespace. Applying a Canary starts a
``harness.controllers.flagger.controller.FlaggerController`` for it, ticking on Flagger's grid in
*cluster* (real) seconds: the harness's ``FakeClock`` runs at the run's time scale S, so cluster
time = clock time / S, exactly as on a real cluster at ``--time-scale S``. Nothing sleeps: watches
move the clock forward and every call first runs the ticks that came due. ``ClusterLoad`` is the
matching load driver: per second, requests split by the current TraefikService weights, failing at the
canary's fault rate.

Failure injection (times are run-clock seconds): ``watch_breaks`` (410 Gone or a silently dropped
watch), ``hang_from`` (a call that never answers: it returns ``ClusterError`` after
``request_timeout_seconds`` of cluster time, as the gateway's request timeout does), ``events_lost_from``
(the event receiver answers 503).

Linkerd (``flagger_provider="gatewayapi:v1beta1"``): the HTTPRoute router, meshed pods, proxy metrics, the
load path and linkerd-viz' answers are ``harness.testing.emulated_mesh.LinkerdInstall``.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

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
from harness.controllers.flagger.controller import FlaggerController
from harness.errors import ClusterError
from harness.providers.linkerd.httproute import HTTPRoute
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.metric_templates import parse_metric_templates
from harness.testing.emulated_app import (
    APP,
    ClusterClock,
    EmulatedApp,
    app_deployments,
    canary_status_dict,
    fault_error_rate,
)
from harness.testing.emulated_mesh import LinkerdInstall
from harness.testing.emulated_prometheus import answer as prometheus_answer
from harness.testing.emulated_prometheus import query_namespace, query_response

FLAGGER_ARGS = ("-mesh-provider=traefik", "-metrics-server=http://flagger-prometheus:9090")
PICKUP_SECONDS = 1.0  # cluster seconds from apply to the Canary's first tick (Flagger's control loop)


@dataclass
class WatchBreak:
    at: float  # run-clock seconds
    kind: Literal["gone", "drop"] = "gone"


@dataclass
class EmulatedCluster:
    """``ClusterApi`` in memory; thread-safe, so parallel runs can share it.

    Each namespace lives on the run clock of the run that created it (``bind_clock`` in that run's thread;
    ``clock`` otherwise): parallel runs share the cluster's state, not their virtual time, so no run's
    watch moves another run's clock past the states it must react to.
    """

    clock: FakeClock
    context: str = "kind-canary-chaos"
    request_timeout_seconds: float = 30.0  # cluster seconds a hung call takes before it errors
    latency_ms: float = 12.0
    watch_breaks: list[WatchBreak] = field(default_factory=list)
    hang_from: dict[str, float] = field(default_factory=dict)  # method → run-clock time it starts hanging
    events_lost_from: float | None = None
    flagger_provider: str = "traefik"  # Flagger's -mesh-provider: traefik, or gatewayapi:v1beta1 (Linkerd)
    ingress_meshed: bool = True  # Linkerd: Traefik runs a linkerd-proxy (bootstrap --mesh linkerd)
    namespaces: dict[str, NamespaceInfo] = field(default_factory=dict)
    apps: dict[str, EmulatedApp] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, namespace)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _rv: int = 100
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _compacted_rv: int = 0

    @property
    def mesh(self) -> LinkerdInstall:
        return LinkerdInstall(self.flagger_provider.startswith("gatewayapi"), self.ingress_meshed)

    def bind_clock(self, clock: FakeClock) -> None:
        """The calling thread's run lives on ``clock``: the namespaces it creates tick on it."""
        self._local.clock = clock

    def run_clock(self) -> FakeClock:
        """The calling thread's run clock (``clock`` unless ``bind_clock`` was called in this thread)."""
        clock: FakeClock = getattr(self._local, "clock", self.clock)
        return clock

    # -- time --------------------------------------------------------------------------------------
    def _enter(self, method: str, namespace: str = "") -> None:
        with self._lock:
            self.calls.append((method, namespace))
            self._run_ticks(self.run_clock().now())
        clock = self.run_clock()
        hangs_at = self.hang_from.get(method)
        if hangs_at is not None and clock.now() >= hangs_at:
            clock.advance(self.request_timeout_seconds * clock.scale)
            raise ClusterError(
                f"{method}: no answer within the {self.request_timeout_seconds:g}s request timeout"
            )

    def _run_ticks(self, until: float) -> None:
        """Tick every controller on this run's clock whose next grid time is ≤ ``until``, in time order."""
        clock = self.run_clock()
        while True:
            due = [a for a in self._apps_on(clock) if a.next_tick * clock.scale <= until]
            if not due:
                return
            app = min(due, key=lambda a: a.next_tick)
            clock.set(max(clock.now(), app.next_tick * clock.scale))
            assert app.controller is not None
            app.controller.tick()
            app.next_tick += app.controller.interval
            self._publish(app)

    def _publish(self, app: EmulatedApp) -> None:
        assert app.controller is not None
        status = app.controller.status
        if status == app.last_status:
            return
        app.last_status = status
        self._rv += 1
        obj = {**copy.deepcopy(app.manifest), "status": canary_status_dict(status, app.clock)}
        obj["metadata"] = {
            **obj.get("metadata", {}),
            "namespace": app.namespace,
            "resourceVersion": str(self._rv),
        }
        app.history.append((app.clock.now(), cast(CanaryObject, obj)))

    def _apps_on(self, clock: FakeClock) -> list[EmulatedApp]:
        return [a for a in self.apps.values() if a.controller is not None and a.clock is clock]

    def answer(self, namespace: str, promql: str) -> float:
        """What Prometheus answers for ``namespace`` (``emulated_prometheus.answer``)."""
        return prometheus_answer(self.apps.get(namespace), self.mesh, self.latency_ms, promql)

    def _app(self, namespace: str) -> EmulatedApp:
        app = self.apps.get(namespace)
        if app is None or app.controller is None:
            raise ClusterError(f"get canary {namespace}/{APP}: HTTP 404 not found")
        return app

    # -- ClusterApi --------------------------------------------------------------------------------
    def current_context(self) -> str:
        return self.context

    def create_namespace(self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        self._enter("create_namespace", name)
        with self._lock:
            if name in self.namespaces:
                raise ClusterError(f"create namespace {name}: HTTP 409 AlreadyExists")
            self.namespaces[name] = NamespaceInfo(name, dict(labels), dict(annotations))
            self.apps[name] = EmulatedApp(name, self.answer, clock=self.run_clock())

    def delete_namespace(self, name: str) -> None:
        self._enter("delete_namespace", name)
        with self._lock:
            self.namespaces.pop(name, None)
            self.apps.pop(name, None)

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        self._enter("get_namespace", name)
        return self.namespaces.get(name)

    def list_namespaces(self, label_selector: str) -> list[NamespaceInfo]:
        self._enter("list_namespaces")
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        return [n for n in self.namespaces.values() if all(n.labels.get(k) == v for k, v in wanted.items())]

    def apply(self, namespace: str, manifests: Sequence[Mapping[str, Any]]) -> None:
        self._enter("apply", namespace)
        with self._lock:
            app = self.apps.get(namespace)
            if app is None:
                raise ClusterError(f"server-side apply in {namespace}: HTTP 404 namespace not found")
            for manifest in manifests:
                if manifest["kind"] == "Deployment" and manifest["metadata"]["name"] == APP:
                    spec = manifest["spec"]
                    container = spec["template"]["spec"]["containers"][0]
                    app.template_env = {
                        e["name"]: e["value"] for e in container.get("env", []) if "value" in e
                    }
                    app.template_annotations = dict(
                        spec["template"].get("metadata", {}).get("annotations", {})
                    )
                    app.declared_replicas = app.canary_replicas = int(spec.get("replicas", 1))
            self.mesh.take(app, manifests)
            templates = [t for m in manifests for t in parse_metric_templates(m, default_namespace=namespace)]
            canary = next((m for m in manifests if m["kind"] == "Canary"), None)
            if canary is None:
                return  # e.g. the event receiver, applied before the app
            app.manifest = copy.deepcopy(dict(canary))
            spec = parse_canary(app.manifest, default_namespace=namespace)
            app.controller = FlaggerController(
                spec,
                router=app,
                workloads=app,
                metrics=app,
                webhooks=app,
                clock=ClusterClock(app.clock),
                events=app,
                templates={t.name: t for t in templates},
            )
            app.next_tick = ClusterClock(app.clock).now() + PICKUP_SECONDS
            self._publish(app)

    def get_canary(self, namespace: str, name: str) -> CanaryObject:
        self._enter("get_canary", namespace)
        with self._lock:
            return copy.deepcopy(self._app(namespace).history[-1][1])

    def get_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> Mapping[str, Any] | None:
        """The TraefikService Flagger weights, as the emulated router holds them (canary entry only > 0),
        or on Linkerd the HTTPRoute Flagger wrote (None before its first reconcile)."""
        self._enter("get_custom_object", namespace)
        with self._lock:
            if (group, plural) == ("gateway.networking.k8s.io", "httproutes"):
                return self.mesh.route_object(self.apps.get(namespace))
            if (group, plural) != ("traefik.io", "traefikservices") or namespace not in self.apps:
                return None
            primary, canary = self.apps[namespace].weights
        services = [{"name": f"{name}-primary", "port": 80, "weight": primary}]
        if canary > 0:
            services.append({"name": f"{name}-canary", "port": 80, "weight": canary})
        return {
            "apiVersion": f"{group}/{version}",
            "kind": "TraefikService",
            "spec": {"weighted": {"services": services}},
        }

    def watch_canary(
        self, namespace: str, name: str, resource_version: str, timeout_seconds: float
    ) -> Iterator[CanaryWatchEvent]:
        self._enter("watch_canary", namespace)
        if int(resource_version or 0) < self._compacted_rv:
            raise GoneError(f"watch canary {namespace}/{name}: 410 Gone (too old resource version)")
        clock = self.run_clock()
        end = clock.now() + timeout_seconds * clock.scale
        return self._stream(namespace, int(resource_version or 0), end)

    def _stream(self, namespace: str, after_rv: int, end: float) -> Iterator[CanaryWatchEvent]:
        sent = after_rv
        while True:
            with self._lock:
                app = self._app(namespace)
                fresh = [o for _, o in app.history if int(o["metadata"]["resourceVersion"]) > sent]
                if not fresh:
                    clock = self.run_clock()
                    now = clock.now()
                    step = min([end] + [a.next_tick * clock.scale for a in self._apps_on(clock)])
                    broken = next((b for b in self.watch_breaks if now < b.at <= step), None)
                    if broken is not None:
                        self._break(broken)
                        if broken.kind == "drop":
                            return  # the connection closed silently: the stream just ends
                    if step >= end:
                        clock.set(max(now, end))
                        return
                    self._run_ticks(step)
                    continue
            for obj in fresh:
                sent = int(obj["metadata"]["resourceVersion"])
                yield CanaryWatchEvent("MODIFIED", copy.deepcopy(obj))

    def _break(self, watch_break: WatchBreak) -> None:
        self.watch_breaks.remove(watch_break)
        self._run_ticks(watch_break.at)
        clock = self.run_clock()
        clock.set(max(clock.now(), watch_break.at))
        if watch_break.kind == "gone":
            self._compacted_rv = self._rv  # history compacted: only a re-list sees it
            raise GoneError("watch canary: 410 Gone (too old resource version)")

    def watch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, resource_version: str,
        timeout_seconds: float,
    ) -> Iterator[ObjectWatchEvent]:  # fmt: skip
        self._enter("watch_custom_object", namespace)
        raise ClusterError(f"watch {plural}.{group} {namespace}/{name}: HTTP 404 not served here")

    def list_custom_objects(
        self, group: str, version: str, plural: str, namespace: str, label_selector: str = ""
    ) -> list[Mapping[str, Any]]:
        self._enter("list_custom_objects", namespace)
        raise ClusterError(f"list {plural}.{group} in {namespace}: HTTP 404 not served here")

    def list_events(self, namespace: str, involved_kind: str) -> list[EventInfo]:
        self._enter("list_events", namespace)
        return []  # Flagger's events reach the run through its webhook (the event receiver), not Events

    def patch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        self._enter("patch_custom_object", namespace)
        raise ClusterError(f"patch {plural}.{group} {namespace}/{name}: HTTP 404 not served here")

    def patch_deployment_template(
        self, namespace: str, name: str, *, annotations: Mapping[str, str], env: Mapping[str, str]
    ) -> None:
        self._enter("patch_deployment_template", namespace)
        with self._lock:
            app = self.apps[namespace]
            app.template_annotations.update(annotations)
            app.template_env.update(env)
            app.runtime_faults = []  # new pods

    def _deployments(self, namespace: str) -> list[DeploymentInfo]:
        return app_deployments(self.apps.get(namespace), namespace)

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None:
        self._enter("get_deployment", namespace)
        if (namespace, name) == ("flagger-system", "flagger"):
            args = self.mesh.flagger_args(FLAGGER_ARGS)
            return DeploymentInfo(namespace, name, 1, 1, 1, 1, 1, 1, container_args=args)
        return next((d for d in self._deployments(namespace) if d.name == name), None)

    def list_deployments(self, namespace: str, label_selector: str = "") -> list[DeploymentInfo]:
        self._enter("list_deployments", namespace)
        return self._deployments(namespace)

    def read_pod_logs(self, namespace: str, label_selector: str, tail_lines: int) -> str:
        self._enter("read_pod_logs", namespace)
        return '{"level":"info","msg":"emulated Flagger"}'

    def list_pods(self, namespace: str, label_selector: str) -> list[str]:
        self._enter("list_pods", namespace)
        app = self.apps.get(namespace)
        if app is None or label_selector != f"app={APP}" or app.crashes():
            return []
        return [f"{APP}-6d4f9-{i}" for i in range(app.canary_replicas)]

    def list_pod_details(self, namespace: str, label_selector: str) -> list[PodInfo]:
        names = self.list_pods(namespace, label_selector)
        return self.mesh.pods(self.namespaces.get(namespace), namespace, label_selector, names)

    def pod_proxy_get(self, namespace: str, pod: str, port: int, path: str) -> str:
        self._enter("pod_proxy_get", namespace)
        selectors = (f"app={APP}", f"app={APP}-primary", "app.kubernetes.io/name=traefik",
                     "app.kubernetes.io/name=flagger")  # fmt: skip
        pods = [p for s in selectors for p in self.list_pod_details(namespace, s)]
        metrics = self.mesh.proxy_metrics(pods, pod, port, path)
        if metrics is not None:
            return metrics
        raise ClusterError(f"GET {path} on pod {namespace}/{pod}:{port}: HTTP 503 no such port")

    def crd_exists(self, group: str, plural: str) -> bool:
        self._enter("crd_exists")
        return group in ("flagger.app", "traefik.io") or self.mesh.crd_exists(group)

    def service_proxy_get(
        self, namespace: str, service: str, port: int, path: str, params: Mapping[str, str] | None = None
    ) -> str:
        self._enter("service_proxy_get", namespace)
        params = params or {}
        if service == "event-receiver" and path == "healthz":
            return "ok"
        if path == "api/v1/query":
            query = params.get("query", "")
            return query_response(lambda: self.answer(query_namespace(query), query))
        if service == "event-receiver" and path == "events":
            if self.events_lost_from is not None and self.run_clock().now() >= self.events_lost_from:
                raise ClusterError(
                    f"GET events on service {namespace}/{service}:{port}: HTTP 503 no endpoints"
                )
            with self._lock:
                events = self.apps[namespace].events if namespace in self.apps else []
                return json.dumps(events[int(params.get("since", "0")) :])
        raise ClusterError(f"GET {path} on service {namespace}/{service}:{port}: HTTP 503 no endpoints")

    def exec_in_pod(
        self, namespace: str, pod: str, command: Sequence[str], *, container: str | None = None
    ) -> str:
        """The harness's fault PUT: argv[-1] is the faults JSON; the canary pods take it (until restarted)."""
        self._enter("exec_in_pod", namespace)
        with self._lock:
            self.apps[namespace].runtime_faults = list(json.loads(command[-1]))
        return "200\n"

    # -- for the load driver and tests ---------------------------------------------------------------
    def mesh_traffic(self, namespace: str) -> tuple[bool, HTTPRoute | None, float] | None:
        """Linkerd: (the ingress proxy applies the HTTPRoute, the route, canary error rate); None: not a
        gatewayapi namespace."""
        with self._lock:
            return self.mesh.traffic(self.apps.get(namespace))

    def traffic(self, namespace: str) -> tuple[int, float]:
        """(canary weight %, canary error rate) right now."""
        with self._lock:
            app = self.apps.get(namespace)
            if app is None:
                return 0, 0.0
            return app.weights[1], fault_error_rate(app.canary_faults())
