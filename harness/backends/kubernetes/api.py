"""The cluster port: what the Kubernetes backend needs from a cluster, and the raw shapes it returns.

``harness.backends.kubernetes.gateway.KubeGateway`` implements ``ClusterApi`` with the official client (the
only module that imports ``kubernetes``); ``harness.testing.cluster.FakeCluster`` implements it in memory for
tests. The TypedDicts mirror the JSON the API server returns for a Flagger ``Canary`` (semantics spec §1.2).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, TypedDict

from harness.errors import ClusterError

FIELD_MANAGER = "canary-chaos"


class GoneError(ClusterError):
    """HTTP 410 Gone on a watch: the resourceVersion is too old; re-list and watch from the new one."""


class ConditionDict(TypedDict):
    """``status.conditions[]`` of a Canary (only ``type: Promoted`` exists)."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: NotRequired[str]
    lastTransitionTime: NotRequired[str]  # RFC 3339, e.g. "2026-01-01T00:01:00Z"
    lastUpdateTime: NotRequired[str]


class CanaryStatusDict(TypedDict, total=False):
    """``status`` of a Canary exactly as Flagger writes it."""

    phase: str
    canaryWeight: int
    failedChecks: int
    iterations: int
    lastAppliedSpec: str
    lastPromotedSpec: str
    lastTransitionTime: str
    trackedConfigs: dict[str, str]
    conditions: list[ConditionDict]


class ObjectMetaDict(TypedDict, total=False):
    name: str
    namespace: str
    resourceVersion: str
    generation: int
    labels: dict[str, str]
    annotations: dict[str, str]


class CanaryObject(TypedDict):
    """A ``flagger.app/v1beta1`` Canary as the API server returns it."""

    apiVersion: str
    kind: str
    metadata: ObjectMetaDict
    spec: dict[str, Any]
    status: NotRequired[CanaryStatusDict]


@dataclass(frozen=True)
class CanaryWatchEvent:
    """One watch event: ``ADDED``/``MODIFIED``/``DELETED`` and the object after it."""

    type: Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
    object: CanaryObject


@dataclass(frozen=True)
class ObjectWatchEvent:
    """One watch event on any custom object (e.g. an Argo Rollout), its JSON after the event."""

    type: Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
    object: Mapping[str, Any]


@dataclass(frozen=True)
class EventInfo:
    """One core/v1 Event as the port reads it. A repeated event is one object whose ``count`` grows and
    whose ``last_time`` moves (client-go's EventCorrelator; ``series`` on events.k8s.io writers)."""

    uid: str
    involved_kind: str  # involvedObject.kind, e.g. "Rollout", "AnalysisRun"
    involved_name: str
    type: Literal["Normal", "Warning"]
    reason: str
    message: str
    count: int  # occurrences so far (>= 1)
    first_time: str  # RFC 3339 (the first occurrence); "" when the writer set none
    last_time: str  # RFC 3339 (the latest occurrence); "" when the writer set none


@dataclass(frozen=True)
class PodInfo:
    """What preflight reads of a pod: its containers, labels and annotations (e.g. the Linkerd proxy's)."""

    name: str
    containers: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    service_account: str = ""
    serving: bool = False  # Running, Ready and not terminating


@dataclass(frozen=True)
class NamespaceInfo:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    phase: str = "Active"  # "Terminating" while being deleted


@dataclass(frozen=True)
class DeploymentInfo:
    """The Deployment fields the backend reports and checks (readiness, args, template)."""

    namespace: str
    name: str
    replicas: int
    ready_replicas: int
    updated_replicas: int
    available_replicas: int
    generation: int
    observed_generation: int
    container_args: tuple[str, ...] = ()
    template_annotations: Mapping[str, str] = field(default_factory=dict)
    template_env: Mapping[str, str] = field(default_factory=dict)  # first container, literal values only
    conditions: tuple[tuple[str, str, str], ...] = ()  # (type, status, reason)

    @property
    def ready(self) -> bool:
        """Rollout complete: observed, all replicas updated and available (``kubectl rollout status``)."""
        return (
            self.observed_generation >= self.generation
            and self.updated_replicas >= self.replicas
            and self.available_replicas >= self.replicas
            and self.ready_replicas >= self.replicas
        )

    def summary(self) -> str:
        return (
            f"{self.namespace}/{self.name}: replicas {self.replicas}, updated {self.updated_replicas}, "
            f"ready {self.ready_replicas}, available {self.available_replicas}, "
            f"generation {self.generation}/{self.observed_generation}, conditions {list(self.conditions)}"
        )


class ClusterApi(Protocol):
    """The thin cluster API. Every method raises ``ClusterError`` (never a vendor exception), and returns
    or raises within the implementation's request timeout, so a half-open connection never stalls a run
    (``KubeGateway``: the client's ``_request_timeout``; ``EmulatedCluster``: ``request_timeout_seconds``)."""

    def current_context(self) -> str: ...

    def apply(self, namespace: str, manifests: Sequence[Mapping[str, Any]]) -> None:
        """Server-side apply (field manager ``canary-chaos``) of each manifest into ``namespace``."""
        ...

    def create_namespace(
        self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
    ) -> None: ...

    def delete_namespace(self, name: str) -> None: ...

    def get_namespace(self, name: str) -> NamespaceInfo | None: ...

    def list_namespaces(self, label_selector: str) -> list[NamespaceInfo]: ...

    def get_canary(self, namespace: str, name: str) -> CanaryObject: ...

    def get_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> Mapping[str, Any] | None:
        """A namespaced custom object as JSON (e.g. the TraefikService Flagger weights); None if absent."""
        ...

    def watch_canary(
        self, namespace: str, name: str, resource_version: str, timeout_seconds: float
    ) -> Iterator[CanaryWatchEvent]:
        """Events after ``resource_version`` until the timeout; raises ``GoneError`` on 410."""
        ...

    def watch_custom_object(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str,
        name: str,
        resource_version: str,
        timeout_seconds: float,
    ) -> Iterator[ObjectWatchEvent]:
        """``watch_canary`` for any namespaced custom object (an Argo Rollout)."""
        ...

    def list_custom_objects(
        self, group: str, version: str, plural: str, namespace: str, label_selector: str = ""
    ) -> list[Mapping[str, Any]]:
        """The namespaced custom objects matching the selector (e.g. a Rollout's AnalysisRuns)."""
        ...

    def patch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        """JSON merge patch (field manager ``canary-chaos``) of a namespaced custom object."""
        ...

    def list_events(self, namespace: str, involved_kind: str) -> list[EventInfo]:
        """The namespace's core/v1 Events about objects of this kind (field selector
        ``involvedObject.kind``), all of them: a list has no "since", the caller dedupes by uid and count."""
        ...

    def patch_deployment_template(
        self,
        namespace: str,
        name: str,
        *,
        annotations: Mapping[str, str],
        env: Mapping[str, str],
    ) -> None:
        """Strategic-merge the pod template's annotations and the first container's env values."""
        ...

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None: ...

    def list_deployments(self, namespace: str, label_selector: str = "") -> list[DeploymentInfo]: ...

    def read_pod_logs(self, namespace: str, label_selector: str, tail_lines: int) -> str:
        """The last ``tail_lines`` of every matching pod, ready or not."""
        ...

    def list_pods(self, namespace: str, label_selector: str) -> list[str]:
        """Names of the pods matching the selector that serve: Running, Ready and not terminating."""
        ...

    def list_pod_details(self, namespace: str, label_selector: str) -> list[PodInfo]:
        """Every matching pod, serving or not, with its containers, labels and annotations."""
        ...

    def pod_proxy_get(self, namespace: str, pod: str, port: int, path: str) -> str:
        """GET through the API server's pod proxy (e.g. a linkerd-proxy's admin port 4191 ``/metrics``)."""
        ...

    def crd_exists(self, group: str, plural: str) -> bool: ...

    def service_proxy_get(
        self, namespace: str, service: str, port: int, path: str, params: Mapping[str, str] | None = None
    ) -> str:
        """GET through the API server's service proxy; returns the body text."""
        ...

    def exec_in_pod(
        self, namespace: str, pod: str, command: Sequence[str], *, container: str | None = None
    ) -> str:
        """Run ``command`` in ``container`` (None: the pod's only container; the API server refuses None for
        a pod with several, e.g. one with Linkerd's proxy); returns its stdout (and stderr)."""
        ...
