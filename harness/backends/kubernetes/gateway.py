"""The Kubernetes gateway; with ``gateway_custom`` and ``gateway_calls`` the only ``kubernetes`` importers.

``KubeGateway`` implements ``harness.backends.kubernetes.api.ClusterApi``: namespaces, apply, Deployments,
pods, Events, proxies and exec here, custom objects in its ``gateway_custom.CustomObjectCalls`` half.
Every vendor exception is wrapped into ``ClusterError`` (``gateway_calls``). Every call carries
``_request_timeout`` and urllib3 does not retry, so a half-open connection costs one timeout, never a
stalled run.

Only API present in the declared lower bound of ``kubernetes`` is used (generated ``*Api`` methods,
``DynamicClient.request`` for raw paths, ``watch``/``stream``); ``tests/kube/test_client_surface.py``
checks every vendor attribute and keyword used in the three modules against that wheel's surface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubernetes import client
from kubernetes import config as _config
from kubernetes import dynamic as _dynamic
from kubernetes import stream as _stream
from kubernetes.client.exceptions import ApiException

from harness.backends.kubernetes.api import (
    FIELD_MANAGER,
    DeploymentInfo,
    EventInfo,
    GoneError,
    NamespaceInfo,
    PodInfo,
)
from harness.backends.kubernetes.gateway_calls import call, get_or_none, is_404, wrapped
from harness.backends.kubernetes.gateway_custom import CustomObjectCalls
from harness.backends.kubernetes.wire import (
    NoDiscovery,
    deployment_info,
    event_info,
    namespace_info,
    pod_info,
    pod_serving,
    template_patch,
)
from harness.errors import ClusterError

# Parts of the client without type hints, used through ``Any`` on purpose.
config: Any = _config
dynamic: Any = _dynamic
stream: Any = _stream
DEFAULT_REQUEST_TIMEOUT = 30.0  # seconds per API call (read timeout); the watch adds its own window


class KubeGateway(CustomObjectCalls):
    """``ClusterApi`` over the official client for one kubeconfig context."""

    def __init__(
        self,
        context: str | None = None,
        *,
        kubeconfig: str | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        if request_timeout <= 0:
            raise ClusterError(f"request timeout must be positive, got {request_timeout}")
        with wrapped("load kubeconfig"):
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
            chosen = context or active["name"]
            if chosen not in {c["name"] for c in contexts}:
                raise ClusterError(f"kube context {chosen!r} (--kube-context) not found in kubeconfig")
            configuration = client.Configuration()
            config.load_kube_config(
                config_file=kubeconfig,
                context=chosen,
                client_configuration=configuration,
                persist_config=False,
            )
            configuration.retries = (
                False  # no silent urllib3 retries: one timeout per call, then ClusterError
            )
            self._api_client = client.ApiClient(configuration)
        self._context = chosen
        self._timeout = request_timeout
        self._core = client.CoreV1Api(self._api_client)
        self._apps = client.AppsV1Api(self._api_client)
        self._custom = client.CustomObjectsApi(self._api_client)
        self._ext = client.ApiextensionsV1Api(self._api_client)
        # Raw paths (service proxy) through the dynamic client's request(), without discovery.
        self._raw_client: Any = dynamic.DynamicClient(self._api_client, discoverer=NoDiscovery)
        self._dynamic: Any = None

    def current_context(self) -> str:
        return self._context

    # -- apply ---------------------------------------------------------------------------------------
    def apply(self, namespace: str, manifests: Sequence[Mapping[str, Any]]) -> None:
        dyn = self._dynamic_client()
        for manifest in manifests:
            body = dict(manifest)
            kind, name = body.get("kind", "?"), body.get("metadata", {}).get("name", "?")
            with wrapped(f"server-side apply {kind}/{name} in {namespace}"):
                resource = dyn.resources.get(api_version=body["apiVersion"], kind=kind)
                dyn.server_side_apply(
                    resource,
                    body=body,
                    namespace=namespace if resource.namespaced else None,
                    field_manager=FIELD_MANAGER,
                    force_conflicts=True,
                    _request_timeout=self._timeout,
                )

    def _dynamic_client(self) -> Any:
        if self._dynamic is None:
            self._dynamic = call(
                "discover API resources", lambda: _TimedDynamicClient(self._api_client, self._timeout)
            )
        return self._dynamic

    # -- namespaces ----------------------------------------------------------------------------------
    def create_namespace(self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        body = client.V1Namespace(
            metadata=client.V1ObjectMeta(name=name, labels=dict(labels), annotations=dict(annotations))
        )
        call(
            f"create namespace {name}",
            lambda: self._core.create_namespace(body, _request_timeout=self._timeout),
        )

    def delete_namespace(self, name: str) -> None:
        try:
            call(
                f"delete namespace {name}",
                lambda: self._core.delete_namespace(name, _request_timeout=self._timeout),
            )
        except GoneError:
            raise
        except ClusterError as exc:
            if is_404(exc):
                return  # already gone: deletion is idempotent
            raise

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        ns = get_or_none(
            f"read namespace {name}", lambda: self._core.read_namespace(name, _request_timeout=self._timeout)
        )
        return None if ns is None else namespace_info(ns)

    def list_namespaces(self, label_selector: str) -> list[NamespaceInfo]:
        items = call(
            f"list namespaces {label_selector}",
            lambda: (
                self._core.list_namespace(label_selector=label_selector, _request_timeout=self._timeout).items
            ),
        )
        return [namespace_info(ns) for ns in items]

    # -- deployments and pods ------------------------------------------------------------------------
    def patch_deployment_template(
        self, namespace: str, name: str, *, annotations: Mapping[str, str], env: Mapping[str, str]
    ) -> None:
        deployment = self._read_deployment(namespace, name)
        patch = template_patch(deployment.spec.template.spec.containers[0].name, annotations, env)
        call(
            f"patch deployment {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment(
                name, namespace, patch, field_manager=FIELD_MANAGER, _request_timeout=self._timeout
            ),
        )

    def _read_deployment(self, namespace: str, name: str) -> Any:
        return call(
            f"read deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(name, namespace, _request_timeout=self._timeout),
        )

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None:
        deployment = get_or_none(
            f"read deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(name, namespace, _request_timeout=self._timeout),
        )
        if deployment is None:
            return None
        return call(f"read deployment {namespace}/{name}", lambda: deployment_info(deployment))

    def list_deployments(self, namespace: str, label_selector: str = "") -> list[DeploymentInfo]:
        def read() -> list[DeploymentInfo]:
            listed = self._apps.list_namespaced_deployment(
                namespace, label_selector=label_selector, _request_timeout=self._timeout
            )
            return [deployment_info(d) for d in listed.items]

        return call(f"list deployments in {namespace}", read)

    def _pods(self, namespace: str, label_selector: str) -> list[Any]:
        return list(
            call(
                f"list pods {label_selector} in {namespace}",
                lambda: (
                    self._core.list_namespaced_pod(
                        namespace, label_selector=label_selector, _request_timeout=self._timeout
                    ).items
                ),
            )
        )

    def list_pods(self, namespace: str, label_selector: str) -> list[str]:
        return [str(p.metadata.name) for p in self._pods(namespace, label_selector) if pod_serving(p)]

    def list_pod_details(self, namespace: str, label_selector: str) -> list[PodInfo]:
        pods = self._pods(namespace, label_selector)
        return call(f"read pods {label_selector} in {namespace}", lambda: [pod_info(p) for p in pods])

    def list_events(self, namespace: str, involved_kind: str) -> list[EventInfo]:
        def read() -> list[EventInfo]:
            listed = self._core.list_namespaced_event(
                namespace,
                field_selector=f"involvedObject.kind={involved_kind}",
                _request_timeout=self._timeout,
            )
            return [event_info(e) for e in listed.items]

        return call(f"list {involved_kind} events in {namespace}", read)

    def pod_proxy_get(self, namespace: str, pod: str, port: int, path: str) -> str:
        resource = f"/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/{path.lstrip('/')}"
        return self._raw_get(resource, {}, f"GET {path} on pod {namespace}/{pod}:{port}")

    def read_pod_logs(self, namespace: str, label_selector: str, tail_lines: int) -> str:
        chunks = []
        for pod in self._pods(namespace, label_selector):
            name = str(pod.metadata.name)
            chunks.append(f"--- {namespace}/{name}\n{self._pod_log(namespace, name, tail_lines)}")
        return "\n".join(chunks)

    def _pod_log(self, namespace: str, pod: str, tail_lines: int) -> str:
        return str(
            call(
                f"read logs of {namespace}/{pod}",
                lambda: self._core.read_namespaced_pod_log(
                    pod, namespace, tail_lines=tail_lines, _request_timeout=self._timeout
                ),
            )
        )

    # -- discovery and proxies -----------------------------------------------------------------------
    def service_proxy_get(
        self, namespace: str, service: str, port: int, path: str, params: Mapping[str, str] | None = None
    ) -> str:
        resource = f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{path.lstrip('/')}"
        return self._raw_get(resource, params or {}, f"GET {path} on service {namespace}/{service}:{port}")

    def _raw_get(self, resource: str, params: Mapping[str, str], what: str) -> str:
        def send() -> str:
            response = self._raw_client.request(
                "GET",
                resource,
                query_params=list(params.items()),
                header_params={"Accept": "application/json, text/plain, */*"},
                serialize=False,
                _request_timeout=self._timeout,
            )
            return bytes(response.data or b"").decode("utf-8", "replace")

        try:
            return call(what, send)
        except ClusterError as exc:
            cause = exc.__cause__
            if isinstance(cause, ApiException) and not isinstance(exc, GoneError):
                raise ClusterError(f"{what}: HTTP {cause.status}: {str(cause.body or '')[:300]}") from cause
            raise

    def exec_in_pod(
        self, namespace: str, pod: str, command: Sequence[str], *, container: str | None = None
    ) -> str:
        where = {"container": container} if container is not None else {}
        return str(
            call(
                f"exec in pod {namespace}/{pod}",
                lambda: stream.stream(
                    self._core.connect_get_namespaced_pod_exec,
                    pod,
                    namespace,
                    command=list(command),
                    **where,
                    stderr=True,
                    stdin=False,
                    stdout=True,
                    tty=False,
                    _request_timeout=self._timeout,
                ),
            )
        )


class _TimedDynamicClient(dynamic.DynamicClient):  # type: ignore[misc]
    """The dynamic client with our request timeout on every call, discovery included."""

    def __init__(self, api_client: Any, timeout: float) -> None:
        self._timeout = timeout
        super().__init__(api_client)

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        params.setdefault("_request_timeout", self._timeout)
        return super().request(method, path, body, **params)
