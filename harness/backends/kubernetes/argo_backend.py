"""``ArgoRolloutsBackend``: a real Argo Rollouts controller, Traefik routing, on a cluster via ``ClusterApi``.

The run namespace, ownership labels, teardown and run-time faults are the Flagger backend's
(``safety``, ``faults``); the app is ``harness/data/cluster/argo`` with the scenario's strategy and
AnalysisTemplates adopted (``argo_manifests``), durations divided by the time scale. The Rollout and its
AnalysisRuns are followed with the Canary's watch machinery (``argo_follow``) and reported as ``CanaryStatus``
through the mapping the local plug-in uses; Argo's Kubernetes Events become the run's events
(``argo_events``). An update is a pod-template change (JSON merge patch of the
Rollout's template). Router weights come from the TraefikService Argo writes.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.backends.base import Observation, PreflightCheck
from harness.backends.kubernetes.api import ClusterApi
from harness.backends.kubernetes.argo_events import RolloutEvents
from harness.backends.kubernetes.argo_follow import POD_HASH_LABEL, RolloutFollower
from harness.backends.kubernetes.argo_manifests import (
    PACKAGED_ARGO_MANIFESTS,
    ROLLOUT_GROUP,
    ROLLOUT_VERSION,
    adopt_rollout,
    rollout_template_patch,
    scale_argo,
    tailor_argo,
)
from harness.backends.kubernetes.backend import KubernetesOptions
from harness.backends.kubernetes.cluster_run import ClusterRun, deployed, run_clock
from harness.backends.kubernetes.faults import FaultInjector
from harness.backends.kubernetes.manifests import (
    APP_NAME,
    DEFAULT_HOST,
    REVISION_ANNOTATION,
    render_kustomization,
    revision_env,
)
from harness.backends.kubernetes.observe import PromQuery, ProxyPrometheus, single_value
from harness.backends.kubernetes.preflight import ingress_answers
from harness.backends.kubernetes.router_weights import RouterObject, RouterWeights
from harness.backends.kubernetes.safety import check_context, new_ownership
from harness.clock import Clock
from harness.controllers.argo_rollouts.model import RolloutBundle
from harness.controllers.flagger.model import Phase
from harness.controllers.registry import ControllerSpec
from harness.errors import ClusterError, HarnessError, InputError
from harness.model import Ingress, Revision

ARGO_NAMESPACE, ARGO_DEPLOYMENT = "argo-rollouts", "argo-rollouts"
ARGO_CRDS = (
    ("argoproj.io", "rollouts"),
    ("argoproj.io", "analysistemplates"),
    ("argoproj.io", "analysisruns"),
)
TRAEFIK_CRDS = (("traefik.io", "ingressroutes"), ("traefik.io", "traefikservices"))
DEPLOY_BUDGET_SECONDS = 240.0  # real seconds: the stable ReplicaSet ready and the Rollout Healthy


@dataclasses.dataclass(frozen=True)
class AppliedRollout:
    """The Rollout and templates as applied, and what the time scale rewrote (for the journal)."""

    manifests: tuple[Mapping[str, Any], ...]  # the Rollout first, then its AnalysisTemplates
    changes: tuple[tuple[str, str, str], ...]  # (field path, before, after)
    scale: float
    scrape_interval_seconds: float

    def to_data(self) -> dict[str, Any]:
        """The journal's ``cluster_canary`` shape (``plan.cluster_scale.ClusterCanary.to_data``)."""
        return {
            "scale": self.scale,
            "scrape_interval_seconds": self.scrape_interval_seconds,
            "changes": [{"path": p, "before": b, "after": a} for p, b, a in self.changes],
            "manifest": dict(self.manifests[0]),
            "templates": [dict(m) for m in self.manifests[1:]],
        }


class ArgoRolloutsBackend(ClusterRun):
    """The ``Backend`` for Argo Rollouts on a cluster; refuses non-allowlisted contexts at construction."""

    def __init__(
        self,
        api: ClusterApi,
        options: KubernetesOptions,
        *,
        clock: Clock | None = None,
        epoch: Callable[[], float] = time.time,
        prometheus: PromQuery | None = None,
    ) -> None:
        check_context(api.current_context(), options.context_allow)
        super().__init__(api, options.run_id or secrets.token_hex(4), keep=options.keep)
        self.api, self.options, self._epoch = api, options, epoch
        self.clock = run_clock(clock, options.time_scale)
        self._prometheus = prometheus or ProxyPrometheus(
            api, options.flagger_namespace, options.prometheus_service, options.prometheus_port
        )
        self.cluster_canary: AppliedRollout | None = None
        self._follower: RolloutFollower | None = None
        self._events: RolloutEvents | None = None
        self._revisions = 0
        self._router = RouterWeights(api, ARGO_ROUTER, self.clock, self._diagnostics)

    # -- preflight -----------------------------------------------------------------------------------
    def preflight(self) -> Sequence[PreflightCheck]:
        checks = [self._crd(group, plural) for group, plural in ARGO_CRDS + TRAEFIK_CRDS]
        checks.append(self._guard("argo-rollouts controller", self._controller_ready))
        checks.append(
            self._guard("prometheus", lambda: (single_value(self._prometheus.query("vector(1)")) == 1, ""))
        )
        if self.options.check_ingress:
            host = f"canary-chaos-{self.run_id}.{DEFAULT_HOST}"
            checks.append(
                self._guard("--ingress-url", lambda: ingress_answers(self.options.ingress_url, host))
            )
        return checks

    def _crd(self, group: str, plural: str) -> PreflightCheck:
        return self._guard(
            f"crd {plural}.{group}", lambda: (self.api.crd_exists(group, plural), "not installed")
        )

    def _controller_ready(self) -> tuple[bool, str]:
        found = self.api.get_deployment(ARGO_NAMESPACE, ARGO_DEPLOYMENT)
        if found is None:
            hint = "install it with cluster/bootstrap.sh --controller argo-rollouts"
            return False, f"no deployment {ARGO_NAMESPACE}/{ARGO_DEPLOYMENT}: {hint}"
        return found.ready, found.summary()

    @staticmethod
    def _guard(name: str, check: Callable[[], tuple[bool, str]]) -> PreflightCheck:
        try:
            ok, detail = check()
        except HarnessError as exc:
            return PreflightCheck(name, False, str(exc))
        return PreflightCheck(name, ok, detail)

    # -- deploy / trigger ----------------------------------------------------------------------------
    def deploy(self, canary: ControllerSpec, stable: Revision) -> Ingress:
        if not isinstance(canary, RolloutBundle):
            raise InputError("the Argo Rollouts backend runs a Rollout bundle (scenario `rollout:`)")
        opts = self.options
        namespace = f"canary-chaos-{self.run_id}"
        host = f"{namespace}.{DEFAULT_HOST}"
        address = f"http://{opts.prometheus_service}.{opts.flagger_namespace}:{opts.prometheus_port}"
        packaged = render_kustomization(PACKAGED_ARGO_MANIFESTS)
        adopted = (
            adopt_rollout(packaged, [dict(m) for m in canary.manifests], prometheus_address=address)
            if canary.manifests
            else packaged
        )
        tailored = tailor_argo(
            adopted, namespace=namespace, host=host, stable=stable, admin_token=secrets.token_urlsafe(24),
            image=opts.image,
        )  # fmt: skip
        # A refused scale (CanarySpecError) stops here, before anything is created on the cluster.
        manifests, changes = scale_argo(
            tailored, opts.time_scale, scrape_interval=opts.scrape_interval_seconds
        )
        applied = [m for m in manifests if m["kind"] == "Rollout"] + [
            m for m in manifests if m["kind"] == "AnalysisTemplate"
        ]
        self.cluster_canary = AppliedRollout(
            tuple(applied), tuple(changes), opts.time_scale, opts.scrape_interval_seconds
        )
        ownership = new_ownership(self.run_id, self._epoch(), opts.ttl_seconds)
        self._run_namespace.create(namespace, ownership.labels(), ownership.annotations())
        self.api.apply(namespace, manifests)
        self._follower = RolloutFollower(self.api, namespace, APP_NAME, self.clock)
        self._events = RolloutEvents(self.api, namespace, self.clock, self._diagnostics)
        self._follower.wait_until(
            lambda s: s.phase == Phase.INITIALIZED,
            budget_seconds=DEPLOY_BUDGET_SECONDS * opts.time_scale,
            what="phase Healthy (stable revision)",
            on_timeout=self.collect_diagnostics,
        )
        return Ingress(url=opts.ingress_url, host_header=host)

    def trigger(self, revision: Revision) -> float:
        """A new pod template (annotation + env): Argo creates the canary ReplicaSet and starts the steps."""
        namespace = self._ensure_ours()
        follower = self._follower_or_raise()
        follower.relist()
        rollout = follower.last_object
        if rollout is None:
            raise ClusterError(f"rollout {namespace}/{APP_NAME} not readable before the trigger")
        self._revisions += 1
        annotations = {REVISION_ANNOTATION: f"{revision.version}-{self._revisions}"}
        patch = rollout_template_patch(dict(rollout), annotations, revision_env(revision))
        follower.mark_update()
        self.api.patch_custom_object(ROLLOUT_GROUP, ROLLOUT_VERSION, "rollouts", namespace, APP_NAME, patch)
        return self.clock.now()

    def set_canary_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        """Run-time faults on the canary ReplicaSet's serving pods (its pod-template hash label)."""
        namespace = self._ensure_ours()
        follower = self._follower_or_raise()
        pod_hash = str(((follower.last_object or {}).get("status") or {}).get("currentPodHash") or "")
        selector = f"app={APP_NAME},{POD_HASH_LABEL}={pod_hash}"
        self._faults = FaultInjector(self.api, namespace, selector, self.clock)
        self._faults.set(faults)

    # -- observing -----------------------------------------------------------------------------------
    def observe(self) -> Observation:
        follower = self._follower_or_raise()
        follower.poll(self.options.observe_watch_seconds)
        try:
            follower.refresh_runs()
        except ClusterError as exc:
            self._diagnostics["analysisruns-error"] = str(exc)
        if self._faults is not None:
            self._faults.retry()
        samples = self._router.attach(self.namespace or "", list(follower.drain()), follower.last)
        reader = deployed(self._events)
        events = reader.read(follower.last.phase if follower.last else Phase.INITIALIZED)
        gaps = (reader.gap,) if reader.gap else ()
        return Observation(samples=tuple(samples), events=tuple(events), gaps=gaps)

    # -- diagnostics and teardown --------------------------------------------------------------------
    def collect_diagnostics(self) -> None:
        ns = self.namespace or ""
        sources: dict[str, Callable[[], str]] = {
            "rollout": lambda: json.dumps(
                self.api.get_custom_object(ROLLOUT_GROUP, ROLLOUT_VERSION, "rollouts", ns, APP_NAME),
                indent=2,
                default=str,
            ),
            "analysisruns": lambda: json.dumps(
                self.api.list_custom_objects(ROLLOUT_GROUP, ROLLOUT_VERSION, "analysisruns", ns),
                indent=2,
                default=str,
            ),
            "argo-rollouts-logs": lambda: self.api.read_pod_logs(
                ARGO_NAMESPACE, "app.kubernetes.io/name=argo-rollouts", self.options.log_tail_lines
            ),
        }
        self._collect(sources)

    def _status_follower(self) -> RolloutFollower:
        return self._follower_or_raise()

    def _follower_or_raise(self) -> RolloutFollower:
        return deployed(self._follower)


def _argo_weights(service: Mapping[str, Any], apex: str) -> tuple[int, int] | None:
    """(stable, canary) from the TraefikService Argo rewrites (entries ``<apex>-stable``/``-canary``)."""
    entries = (service.get("spec") or {}).get("weighted", {}).get("services")
    if not isinstance(entries, list):
        return None
    weights = {e.get("name"): e.get("weight") for e in entries if isinstance(e, dict)}
    stable, canary = weights.get(f"{apex}-stable"), weights.get(f"{apex}-canary")
    if stable is None and canary is None:
        return None  # not written by the controller yet
    return int(stable or 0), int(canary or 0)


ARGO_ROUTER = RouterObject("traefik.io", "v1alpha1", "traefikservices", _argo_weights)
