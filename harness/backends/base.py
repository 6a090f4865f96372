"""The interface every backend implements; the runner only talks to this."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.clock import Clock
from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, MetricResult
from harness.controllers.registry import ControllerSpec
from harness.model import Ingress, Revision, StatusSample


@dataclass(frozen=True)
class ClusterTarget:
    """Where a cluster's parts are (``canary-chaos run`` options); None keeps the backend's default."""

    kube_context: str | None = None  # --kube-context (default: the kubeconfig's current context)
    ingress_url: str | None = None  # --ingress-url: Traefik's web entrypoint as reachable from here
    ingress_namespace: str | None = None  # --ingress-namespace: Linkerd: where the meshed ingress pods run
    prometheus_url: str | None = None  # --prometheus-url (default: Flagger's Prometheus via the API proxy)
    flagger_namespace: str | None = None  # --flagger-namespace
    image: str | None = None  # --image: the faulty app image the nodes can pull
    manifests: Path | None = None  # --manifests: a kustomization directory like harness/data/cluster/app
    request_timeout: float | None = None  # --kube-request-timeout: seconds per API call


@dataclass(frozen=True)
class PreflightCheck:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Observation:
    """What the backend saw since the previous ``observe()`` call."""

    samples: tuple[StatusSample, ...] = ()
    events: tuple[CanaryEvent, ...] = ()
    checks: tuple[MetricResult, ...] = ()
    queries: tuple[Mapping[str, Any], ...] = field(default=())  # raw Prometheus query results, evidence
    # Evidence the backend knows it is missing right now (e.g. Flagger events unreadable); each observation
    # replaces the previous one's, so a gap that a later read closes does not count.
    gaps: tuple[str, ...] = ()


class Backend(Protocol):
    name: str

    @property
    def clock(self) -> Clock: ...

    def preflight(self) -> Sequence[PreflightCheck]: ...

    def deploy(self, canary: ControllerSpec, stable: Revision) -> Ingress:
        """Deploy the stable revision, router and controller (its spec: a Canary, a Rollout bundle…);
        return once the controller reports the stable revision initialized."""
        ...

    def trigger(self, revision: Revision) -> float:
        """Roll out a new revision (pod-template change); return the emulated time of the change."""
        ...

    def set_canary_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        """Change the running canary's faults at run time (admin API)."""
        ...

    def observe(self) -> Observation: ...

    def status(self) -> CanaryStatus: ...

    def diagnostics(self) -> Mapping[str, str]:
        """Text blobs for the report when something times out (status, deployments, logs)."""
        ...

    def teardown(self) -> None:
        """Idempotent; stops every process / deletes the namespace the backend created."""
        ...
