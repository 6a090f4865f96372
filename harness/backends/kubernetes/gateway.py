"""The Kubernetes gateway: the only module that imports ``kubernetes``.

``KubeGateway`` implements ``harness.backends.kubernetes.api.ClusterApi``. Every vendor exception
(``ApiException``, urllib3 errors, kubeconfig errors) is wrapped into ``ClusterError`` with
``raise ... from exc``; a watch that gets HTTP 410 raises ``GoneError`` so the caller re-lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import urllib3.exceptions
from kubernetes import client
from kubernetes import config as _config
from kubernetes import dynamic as _dynamic
from kubernetes import stream as _stream
from kubernetes import watch as _watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from harness.backends.kubernetes.api import (
    FIELD_MANAGER,
    CanaryObject,
    CanaryWatchEvent,
    DeploymentInfo,
    GoneError,
    NamespaceInfo,
)
from harness.backends.kubernetes.backend import KubernetesBackend, KubernetesOptions
from harness.clock import Clock
from harness.errors import ClusterError

# Parts of the client without type hints, used through ``Any`` on purpose.
config: Any = _config
dynamic: Any = _dynamic
watch: Any = _watch
stream: Any = _stream

FLAGGER_GROUP, FLAGGER_VERSION, CANARY_PLURAL = "flagger.app", "v1beta1", "canaries"
_T = TypeVar("_T")


@contextmanager
def _wrapped(what: str) -> Iterator[None]:
    """Translate vendor exceptions raised inside the block into ``ClusterError``."""
    try:
        yield
    except ApiException as exc:
        if exc.status == 410:
            raise GoneError(f"{what}: 410 Gone ({exc.reason})") from exc
        raise ClusterError(f"{what}: HTTP {exc.status} {exc.reason}: {_body_message(exc)}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ClusterError(f"{what}: cannot reach the API server: {exc}") from exc
    except ConfigException as exc:
        raise ClusterError(f"{what}: kubeconfig problem: {exc}") from exc


def _body_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message", ""))[:500]
    except (ValueError, AttributeError):
        return str(exc.body or "")[:500]


def _call(what: str, fn: Callable[[], _T]) -> _T:
    with _wrapped(what):
        return fn()


class KubeGateway:
    """``ClusterApi`` over the official client for one kubeconfig context."""

    def __init__(self, context: str | None = None, *, kubeconfig: str | None = None) -> None:
        with _wrapped("load kubeconfig"):
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
            chosen = context or active["name"]
            if chosen not in {c["name"] for c in contexts}:
                raise ClusterError(f"kube context {chosen!r} not found in kubeconfig")
            self._api_client = config.new_client_from_config(config_file=kubeconfig, context=chosen)
        self._context = chosen
        self._core = client.CoreV1Api(self._api_client)
        self._apps = client.AppsV1Api(self._api_client)
        self._custom = client.CustomObjectsApi(self._api_client)
        self._ext = client.ApiextensionsV1Api(self._api_client)
        self._dynamic: Any = None

    def current_context(self) -> str:
        return self._context

    # -- apply ---------------------------------------------------------------------------------------
    def apply(self, namespace: str, manifests: Sequence[Mapping[str, Any]]) -> None:
        dyn = self._dynamic_client()
        for manifest in manifests:
            body = dict(manifest)
            kind, name = body.get("kind", "?"), body.get("metadata", {}).get("name", "?")
            with _wrapped(f"server-side apply {kind}/{name} in {namespace}"):
                resource = dyn.resources.get(api_version=body["apiVersion"], kind=kind)
                dyn.server_side_apply(
                    resource,
                    body=body,
                    namespace=namespace if resource.namespaced else None,
                    field_manager=FIELD_MANAGER,
                    force_conflicts=True,
                )

    def _dynamic_client(self) -> Any:
        if self._dynamic is None:
            self._dynamic = _call("discover API resources", lambda: dynamic.DynamicClient(self._api_client))
        return self._dynamic

    # -- namespaces ----------------------------------------------------------------------------------
    def create_namespace(self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        body = client.V1Namespace(
            metadata=client.V1ObjectMeta(name=name, labels=dict(labels), annotations=dict(annotations))
        )
        _call(f"create namespace {name}", lambda: self._core.create_namespace(body))

    def delete_namespace(self, name: str) -> None:
        try:
            _call(f"delete namespace {name}", lambda: self._core.delete_namespace(name))
        except GoneError:
            raise
        except ClusterError as exc:
            if isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404:
                return  # already gone: deletion is idempotent
            raise

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        try:
            ns = _call(f"read namespace {name}", lambda: self._core.read_namespace(name))
        except ClusterError as exc:
            if isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404:
                return None
            raise
        return _namespace_info(ns)

    def list_namespaces(self, label_selector: str) -> list[NamespaceInfo]:
        items = _call(
            f"list namespaces {label_selector}",
            lambda: self._core.list_namespace(label_selector=label_selector).items,
        )
        return [_namespace_info(ns) for ns in items]

    # -- canary --------------------------------------------------------------------------------------
    def get_canary(self, namespace: str, name: str) -> CanaryObject:
        obj = _call(
            f"get canary {namespace}/{name}",
            lambda: self._custom.get_namespaced_custom_object(
                FLAGGER_GROUP, FLAGGER_VERSION, namespace, CANARY_PLURAL, name
            ),
        )
        return cast(CanaryObject, obj)

    def watch_canary(
        self, namespace: str, name: str, resource_version: str, timeout_seconds: float
    ) -> Iterator[CanaryWatchEvent]:
        stream = watch.Watch().stream(
            self._custom.list_namespaced_custom_object,
            FLAGGER_GROUP,
            FLAGGER_VERSION,
            namespace,
            CANARY_PLURAL,
            field_selector=f"metadata.name={name}",
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=max(1, int(timeout_seconds)),
        )
        while True:
            with _wrapped(f"watch canary {namespace}/{name} from {resource_version}"):
                event = next(stream, None)
            if event is None:
                return
            if event["type"] == "ERROR":
                code = event["raw_object"].get("code")
                message = event["raw_object"].get("message", "")
                if code == 410:
                    raise GoneError(f"watch canary {namespace}/{name}: 410 Gone ({message})")
                raise ClusterError(f"watch canary {namespace}/{name}: error event {code}: {message}")
            yield CanaryWatchEvent(type=event["type"], object=cast(CanaryObject, event["raw_object"]))

    # -- deployments and pods ------------------------------------------------------------------------
    def patch_deployment_template(
        self, namespace: str, name: str, *, annotations: Mapping[str, str], env: Mapping[str, str]
    ) -> None:
        deployment = self._read_deployment(namespace, name)
        container = deployment.spec.template.spec.containers[0].name
        patch = {
            "spec": {
                "template": {
                    "metadata": {"annotations": dict(annotations)},
                    "spec": {
                        "containers": [
                            {"name": container, "env": [{"name": k, "value": v} for k, v in env.items()]}
                        ]
                    },
                }
            }
        }
        _call(
            f"patch deployment {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment(
                name, namespace, patch, field_manager=FIELD_MANAGER
            ),
        )

    def _read_deployment(self, namespace: str, name: str) -> Any:
        return _call(
            f"read deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(name, namespace),
        )

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None:
        try:
            return _deployment_info(self._read_deployment(namespace, name))
        except ClusterError as exc:
            if isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404:
                return None
            raise

    def list_deployments(self, namespace: str, label_selector: str = "") -> list[DeploymentInfo]:
        items = _call(
            f"list deployments in {namespace}",
            lambda: self._apps.list_namespaced_deployment(namespace, label_selector=label_selector).items,
        )
        return [_deployment_info(d) for d in items]

    def list_pods(self, namespace: str, label_selector: str) -> list[str]:
        items = _call(
            f"list pods {label_selector} in {namespace}",
            lambda: self._core.list_namespaced_pod(namespace, label_selector=label_selector).items,
        )
        running = [p for p in items if p.metadata and p.status and p.status.phase == "Running"]
        return [str(p.metadata.name) for p in running if p.metadata]

    def read_pod_logs(self, namespace: str, label_selector: str, tail_lines: int) -> str:
        chunks = []
        for pod in self.list_pods(namespace, label_selector):
            text = self._pod_log(namespace, pod, tail_lines)
            chunks.append(f"--- {namespace}/{pod}\n{text}")
        return "\n".join(chunks)

    def _pod_log(self, namespace: str, pod: str, tail_lines: int) -> str:
        return str(
            _call(
                f"read logs of {namespace}/{pod}",
                lambda: self._core.read_namespaced_pod_log(pod, namespace, tail_lines=tail_lines),
            )
        )

    # -- discovery and proxies -----------------------------------------------------------------------
    def crd_exists(self, group: str, plural: str) -> bool:
        try:
            _call(
                f"read CRD {plural}.{group}",
                lambda: self._ext.read_custom_resource_definition(f"{plural}.{group}"),
            )
        except ClusterError as exc:
            if isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404:
                return False
            raise
        return True

    def service_proxy_get(
        self, namespace: str, service: str, port: int, path: str, params: Mapping[str, str] | None = None
    ) -> str:
        resource = f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{path.lstrip('/')}"
        status, body = self._raw("GET", resource, query=params or {})
        if status >= 400:
            raise ClusterError(
                f"GET {path} on service {namespace}/{service}:{port}: HTTP {status}: {body[:300]}"
            )
        return body

    def exec_in_pod(self, namespace: str, pod: str, command: Sequence[str]) -> str:
        return str(
            _call(
                f"exec in pod {namespace}/{pod}",
                lambda: stream.stream(
                    self._core.connect_get_namespaced_pod_exec,
                    pod,
                    namespace,
                    command=list(command),
                    stderr=True,
                    stdin=False,
                    stdout=True,
                    tty=False,
                    _request_timeout=30,
                ),
            )
        )

    def _raw(
        self,
        method: str,
        resource: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> tuple[int, str]:
        """One authenticated request to the API server; returns (status, body) without raising on 4xx/5xx."""
        api: Any = self._api_client

        def send() -> tuple[int, str]:
            serialized = api.param_serialize(
                method,
                resource,
                query_params=list((query or {}).items()),
                header_params=dict(headers or {}),
                body=body,
                auth_settings=["BearerToken"],
            )
            response = api.call_api(*serialized, _request_timeout=10)
            response.read()
            return int(response.status), bytes(response.data or b"").decode("utf-8", "replace")

        try:
            return _call(f"{method} {resource}", send)
        except ClusterError as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, ApiException)
                and cause.status is not None
                and not isinstance(exc, GoneError)
            ):
                return int(cause.status), str(cause.body or "")
            raise


def _namespace_info(ns: Any) -> NamespaceInfo:
    return NamespaceInfo(
        name=ns.metadata.name,
        labels=dict(ns.metadata.labels or {}),
        annotations=dict(ns.metadata.annotations or {}),
        phase=(ns.status.phase if ns.status else None) or "Active",
    )


def _deployment_info(d: Any) -> DeploymentInfo:
    status, template = d.status, d.spec.template
    first = template.spec.containers[0]
    return DeploymentInfo(
        namespace=d.metadata.namespace,
        name=d.metadata.name,
        replicas=d.spec.replicas if d.spec.replicas is not None else 1,
        ready_replicas=status.ready_replicas or 0,
        updated_replicas=status.updated_replicas or 0,
        available_replicas=status.available_replicas or 0,
        generation=d.metadata.generation or 0,
        observed_generation=status.observed_generation or 0,
        container_args=tuple(first.args or ()),
        template_annotations=dict(template.metadata.annotations or {}),
        template_env={e.name: e.value for e in (first.env or ()) if e.value is not None},
        conditions=tuple((c.type, c.status, c.reason or "") for c in (status.conditions or ())),
    )


def connect_backend(
    options: KubernetesOptions, *, context: str | None = None, clock: Clock | None = None
) -> KubernetesBackend:
    """The Kubernetes backend on a real cluster (kubeconfig ``context``, or the current one).

    The context allowlist is checked before any other API call.
    """
    return KubernetesBackend(KubeGateway(context), options, clock=clock)
