"""``KubernetesBackend``: real Flagger + Traefik on a cluster, driven through the ``ClusterApi`` port.

Each run gets a fresh namespace labelled as ours (run id + expiry); nothing else is written to or
deleted. The app manifests are ``cluster/app``, or ``cluster/linkerd`` for a ``gatewayapi:*`` provider
(``cluster_provider``; rendered by ``manifests``); the readiness checks live in ``preflight``. Load goes
through Traefik with a per-run Host header; on Linkerd, Traefik is meshed and routes to the apex Service,
so its proxy applies the HTTPRoute. Waits have deadlines derived from the Canary spec and dump
diagnostics when they expire.

Time: the run clock runs at ``options.time_scale`` S, as in local mode. The Canary applied on the cluster
has its durations divided by S (``harness.plan.cluster_scale``); the app pods get ``TIME_SCALE=S`` for their
fault windows; cluster timestamps and real waits are converted to run-clock seconds (× S).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.backends.base import Observation, PreflightCheck
from harness.backends.kubernetes.api import ClusterApi
from harness.backends.kubernetes.cluster_provider import (
    INGRESS_NAMESPACE,
    INGRESS_SELECTOR,
    ClusterProvider,
    cluster_provider,
    require_mesh_load_path,
    require_provider,
)
from harness.backends.kubernetes.cluster_run import ClusterRun, deployed, run_clock
from harness.backends.kubernetes.evidence import ClusterEvidence, wait_for_receiver
from harness.backends.kubernetes.faults import FaultInjector
from harness.backends.kubernetes.follow import CanaryFollower
from harness.backends.kubernetes.manifests import (
    APP_NAME,
    DEFAULT_HOST,
    EVENT_RECEIVER,
    EVENT_RECEIVER_PORT,
    REVISION_ANNOTATION,
    apply_time_scale,
    find,
    render_kustomization,
    revision_env,
    tailor,
)
from harness.backends.kubernetes.mesh import (
    INJECT_ANNOTATION,
    LinkerdCli,
    MeshEvidence,
    mesh_evidence,
    require_meshed,
    system_linkerd,
)
from harness.backends.kubernetes.metric_check import custom_queries, require_primary_series
from harness.backends.kubernetes.observe import HttpxPrometheus, PromQuery, ProxyPrometheus
from harness.backends.kubernetes.preflight import FLAGGER_SELECTOR, Where, preflight_checks
from harness.backends.kubernetes.router_weights import RouterWeights
from harness.backends.kubernetes.safety import check_context, new_ownership
from harness.backends.kubernetes.status import Deadlines, deadlines_for
from harness.clock import Clock
from harness.controllers.flagger.model import CanarySpec, CanaryStatus, Phase
from harness.controllers.registry import ControllerSpec
from harness.errors import ClusterError, InputError
from harness.model import Ingress, Revision
from harness.plan.cluster_scale import ClusterCanary


@dataclass(frozen=True)
class AppliedCanary:
    """The journal's ``cluster_canary``: the scaled Canary, plus the mesh evidence on Linkerd (the app's
    pods and the ingress pods the load enters through)."""

    canary: ClusterCanary
    mesh: MeshEvidence | None = None
    ingress_mesh: MeshEvidence | None = None

    def to_data(self) -> dict[str, Any]:
        data = self.canary.to_data()
        if self.mesh is not None:
            data["mesh"] = self.mesh.to_data()
        if self.ingress_mesh is not None:
            data["ingress_mesh"] = self.ingress_mesh.to_data()
        return data


CANARY_SELECTOR = f"app={APP_NAME}"
PRIMARY_SELECTOR = f"app={APP_NAME}-primary"  # Flagger labels the primary pods so; they serve after init


@dataclass(frozen=True)
class KubernetesOptions:
    """Where things are in the cluster, and how careful to be."""

    context_allow: tuple[str, ...]
    kube_context: str | None = None  # None: the kubeconfig's current context
    request_timeout: float = 30.0  # seconds per API call (the gateway's _request_timeout)
    image: str | None = None  # None: the image the manifests name (canary-chaos/faulty-app:<version>)
    manifests_dir: Path | None = None  # --manifests: a kustomization directory; None: the provider's
    provider: str = "traefik"  # the scenario Canary's provider: traefik or gatewayapi:* (Linkerd)
    flagger_namespace: str = "flagger-system"
    flagger_deployment: str = "flagger"
    prometheus_url: str | None = None  # None: through the API server's service proxy
    # Traefik: Flagger's bundled Prometheus; Linkerd: linkerd-viz/prometheus:9090 (cluster_provider)
    prometheus_service: str = "flagger-prometheus"
    prometheus_port: int = 9090
    ingress_url: str = "http://127.0.0.1:18080"  # Traefik web entrypoint (kind port mapping)
    ingress_namespace: str = INGRESS_NAMESPACE  # Linkerd: the ingress pods that must be meshed
    ingress_selector: str = INGRESS_SELECTOR
    keep: bool = False
    ttl_seconds: float = 6 * 3600
    run_id: str | None = None
    # --canary-spec: a team's real Canary (parsed); its analysis replaces the scenario's in deploy()
    analysis_from: CanarySpec | None = None
    rollout_seconds: float = 180.0  # budget for a Deployment rollout (primary or canary)
    check_ingress: bool = True  # preflight: an HTTP answer from ingress_url (off for in-process fakes)
    check_custom_metrics: bool = True  # trigger(): custom queries must read series the primary has
    receiver_ready_seconds: float = 120.0  # budget for the event receiver to serve before the Canary
    observe_watch_seconds: float = 1.0
    log_tail_lines: int = 200
    time_scale: float = 1.0  # run-clock seconds per real second; the applied Canary is divided by it
    scrape_interval_seconds: float = 5.0  # the cluster Prometheus' scrape interval (Flagger's chart: 5 s)


@dataclass
class _RunState:
    spec: CanarySpec | None = None
    cluster_canary: ClusterCanary | None = None  # the Canary as applied, and what the scale rewrote
    evidence_windows: dict[str, str] = field(default_factory=dict)  # metric name → applied interval
    deadlines: Deadlines | None = None
    follower: CanaryFollower | None = None
    revision_count: int = 0
    evidence: ClusterEvidence | None = None
    router: RouterWeights | None = None  # the TraefikService's or HTTPRoute's weights on the samples
    mesh: MeshEvidence | None = None  # Linkerd: are the app pods meshed, with which identities
    ingress_mesh: MeshEvidence | None = None  # Linkerd: the ingress pods the load passes through
    templates: dict[str, str] = field(default_factory=dict)  # deployed MetricTemplate name → query


class KubernetesBackend(ClusterRun):
    """The ``Backend`` for a real cluster; refuses non-allowlisted contexts at construction."""

    def __init__(
        self,
        api: ClusterApi,
        options: KubernetesOptions,
        *,
        clock: Clock | None = None,
        epoch: Callable[[], float] = time.time,
        prometheus: PromQuery | None = None,
        linkerd: LinkerdCli | None = None,
    ) -> None:
        check_context(api.current_context(), options.context_allow)
        self.provider: ClusterProvider = cluster_provider(options.provider)
        self.manifests_dir = options.manifests_dir or self.provider.manifests_dir
        self._linkerd = linkerd if linkerd is not None else system_linkerd()
        clock = run_clock(clock, options.time_scale)
        super().__init__(api, options.run_id or secrets.token_hex(4), keep=options.keep)
        self.api, self.options, self.clock, self._epoch = api, options, clock, epoch
        where = self.provider.prometheus or (
            options.flagger_namespace,
            options.prometheus_service,
            options.prometheus_port,
        )
        self._prometheus = prometheus or (
            HttpxPrometheus(options.prometheus_url)
            if options.prometheus_url
            else ProxyPrometheus(api, *where)
        )
        self._run = _RunState()

    @property
    def deadlines(self) -> Deadlines | None:
        return self._run.deadlines

    @property
    def cluster_canary(self) -> AppliedCanary | None:
        """The Canary as applied on the cluster (after ``deploy``) and any mesh evidence, for the journal."""
        applied = self._run.cluster_canary
        return None if applied is None else AppliedCanary(applied, self._run.mesh, self._run.ingress_mesh)

    # -- preflight -----------------------------------------------------------------------------------
    def preflight(self) -> Sequence[PreflightCheck]:
        opts = self.options
        where = Where(
            flagger_namespace=opts.flagger_namespace,
            flagger_deployment=opts.flagger_deployment,
            manifests_dir=self.manifests_dir,
            ingress_url=opts.ingress_url if opts.check_ingress else None,
            ingress_host=f"canary-chaos-{self.run_id}.{DEFAULT_HOST}",
            image=opts.image,
            prometheus_url=opts.prometheus_url,
            provider=self.provider,
            ingress_namespace=opts.ingress_namespace,
            ingress_selector=opts.ingress_selector,
            linkerd=self._linkerd,
        )
        return preflight_checks(self.api, self._prometheus, where)

    # -- deploy / trigger ----------------------------------------------------------------------------
    def deploy(self, canary: ControllerSpec, stable: Revision) -> Ingress:
        if not isinstance(canary, CanarySpec):
            raise InputError(
                "the kubernetes backend runs Flagger Canaries only (Argo Rollouts: local backend)"
            )
        if cluster_provider(canary.provider) is not self.provider:
            raise InputError(
                f"the scenario's provider is {canary.provider}, but this backend was set up for "
                f"{self.options.provider} (KubernetesOptions.provider)"
            )
        run = self._run
        canary = self.options.analysis_from or canary
        namespace = f"canary-chaos-{self.run_id}"
        admin_token = secrets.token_urlsafe(24)
        host = f"{namespace}.{DEFAULT_HOST}"
        analysis = canary.manifest.get("spec", {}).get("analysis") if canary.manifest else None
        manifests = tailor(
            render_kustomization(self.manifests_dir),
            namespace=namespace,
            host=host,
            stable=stable,
            admin_token=admin_token,
            analysis_from=canary.manifest if analysis else None,
            progress_deadline_seconds=canary.progress_deadline_seconds,
            image=self.options.image,
        )
        deployed = find(manifests, "Canary", APP_NAME)
        require_provider(manifests, canary.provider, self.manifests_dir)
        if self.provider.meshed:
            require_mesh_load_path(manifests, self.manifests_dir)
        progress_deadline = int(deployed["spec"].get("progressDeadlineSeconds", 600))  # scenario seconds
        # A refused scale (CanarySpecError) stops here, before anything is created on the cluster.
        opts = self.options
        run.cluster_canary, run.evidence_windows = apply_time_scale(
            manifests, deployed, opts.time_scale, opts.scrape_interval_seconds
        )
        run.templates = {
            m["metadata"]["name"]: str(m.get("spec", {}).get("query", ""))
            for m in manifests
            if m.get("kind") == "MetricTemplate"
        }
        run.spec = dataclasses.replace(
            canary,
            name=APP_NAME,
            namespace=namespace,
            target_name=APP_NAME,
            service_name=APP_NAME,
            progress_deadline_seconds=progress_deadline,
        )
        run.deadlines = deadlines_for(
            run.spec, rollout_seconds=self.options.rollout_seconds, time_scale=self.options.time_scale
        )
        ownership = new_ownership(self.run_id, self._epoch(), self.options.ttl_seconds)
        # Linkerd (Flagger's gatewayapi provider): the run namespace has its pods injected with the proxy
        meshed = self.provider.meshed
        annotations = {**ownership.annotations(), **({INJECT_ANNOTATION: "enabled"} if meshed else {})}
        self._run_namespace.create(namespace, ownership.labels(), annotations)
        receiver = [m for m in manifests if m.get("metadata", {}).get("name") == EVENT_RECEIVER]
        self.api.apply(namespace, receiver)
        # before the Canary: Flagger's first events must not be lost
        wait_for_receiver(
            self.api, self.clock, namespace, self.options.receiver_ready_seconds, self.collect_diagnostics
        )
        self.api.apply(namespace, [m for m in manifests if m not in receiver])
        run.follower = CanaryFollower(self.api, namespace, APP_NAME, self.clock)
        run.evidence = ClusterEvidence(
            self.api,
            self._prometheus,
            self.clock,
            namespace,
            self._diagnostics,
            dict(run.evidence_windows),
            builtin_evidence=not self.provider.meshed,
        )
        run.router = RouterWeights(self.api, self.provider.router, self.clock, self._diagnostics)
        status = run.follower.wait_until(
            lambda s: s.phase in (Phase.INITIALIZED, Phase.FAILED),
            budget_seconds=run.deadlines.initialized,
            what="phase Initialized",
            on_timeout=self.collect_diagnostics,
        )
        if status.phase == Phase.FAILED:
            self.collect_diagnostics()
            raise ClusterError(
                f"canary {namespace}/{APP_NAME} failed during initialization (primary not ready)"
            )
        if meshed:  # mTLS evidence into the journal; an unmeshed app is refused, naming the pod
            run.mesh = mesh_evidence(self.api, namespace, PRIMARY_SELECTOR, cli=self._linkerd)
            require_meshed(run.mesh)
            # preflight refused an unmeshed ingress; this is the evidence, read once the route exists
            run.ingress_mesh = mesh_evidence(
                self.api, opts.ingress_namespace, opts.ingress_selector, cli=self._linkerd
            )
        return Ingress(url=self.options.ingress_url, host_header=host)

    def trigger(self, revision: Revision) -> float:
        """Before the new revision: every custom metric must read series the primary has (else
        ``MetricsError`` naming the metric, its template and query); then patch the pod template."""
        namespace = self._ensure_ours()
        if self._run.spec is not None and self.options.check_custom_metrics:
            require_primary_series(
                self._prometheus, self._run.spec, custom_queries(self._run.spec, self._run.templates)
            )
        self._run.revision_count += 1
        self.api.patch_deployment_template(
            namespace,
            APP_NAME,
            annotations={REVISION_ANNOTATION: f"{revision.version}-{self._run.revision_count}"},
            env=revision_env(revision),
        )
        return self.clock.now()

    def set_canary_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        """Run-time faults on every serving canary pod (``faults``); pods missing now are retried."""
        namespace = self._ensure_ours()
        if self._faults is None:
            self._faults = FaultInjector(self.api, namespace, CANARY_SELECTOR, self.clock)
        self._faults.set(faults)

    # -- waiting and observing -----------------------------------------------------------------------
    def wait_for_progressing(self) -> CanaryStatus:
        """After ``trigger``: the run started (or was gated/failed) within interval + control loop."""
        return self._follower().wait_until(
            lambda s: s.phase in (Phase.PROGRESSING, Phase.WAITING, Phase.FAILED),
            budget_seconds=self._deadlines().progressing,
            what="phase Progressing",
            on_timeout=self.collect_diagnostics,
            include_current=False,
        )

    def wait_for_terminal(self) -> CanaryStatus:
        """After Progressing: Succeeded or Failed within (n + threshold + 3 + slack)·interval + deadline."""
        return self._follower().wait_until(
            lambda s: s.phase in (Phase.SUCCEEDED, Phase.FAILED),
            budget_seconds=self._deadlines().terminal,
            what="phase Succeeded or Failed",
            on_timeout=self.collect_diagnostics,
        )

    def observe(self) -> Observation:
        follower = self._follower()
        follower.poll(self.options.observe_watch_seconds)
        if self._faults is not None:
            self._faults.retry()
        evidence = self._evidence()
        checks, queries = evidence.metric_evidence(self._run.spec, follower.last)
        events = tuple(evidence.new_events())
        samples = deployed(self._run.router).attach(evidence.namespace, list(follower.drain()), follower.last)
        gaps = (evidence.events_gap,) if evidence.events_gap else ()
        return Observation(samples=tuple(samples), events=events, checks=checks, queries=queries, gaps=gaps)

    # -- diagnostics and teardown --------------------------------------------------------------------
    def collect_diagnostics(self) -> None:
        """Snapshot Canary, Deployments, Flagger logs and events into ``diagnostics()``."""
        opts, ns = self.options, self.namespace or ""
        sources: dict[str, Callable[[], str]] = {
            "canary": lambda: json.dumps(self.api.get_canary(ns, APP_NAME), indent=2, default=str),
            "deployments": lambda: "\n".join(d.summary() for d in self.api.list_deployments(ns)),
            "flagger-logs": lambda: self.api.read_pod_logs(
                opts.flagger_namespace, FLAGGER_SELECTOR, opts.log_tail_lines
            ),
            "events": lambda: self.api.service_proxy_get(ns, EVENT_RECEIVER, EVENT_RECEIVER_PORT, "events"),
        }
        router = self.provider.router
        sources[router.plural] = lambda: json.dumps(
            self.api.get_custom_object(router.group, router.version, router.plural, ns, APP_NAME),
            indent=2,
            default=str,
        )
        self._collect(sources)

    # -- helpers -------------------------------------------------------------------------------------
    def _status_follower(self) -> CanaryFollower:
        return self._follower()

    def _follower(self) -> CanaryFollower:
        return deployed(self._run.follower)

    def _evidence(self) -> ClusterEvidence:
        return deployed(self._run.evidence)

    def _deadlines(self) -> Deadlines:
        return deployed(self._run.deadlines)
