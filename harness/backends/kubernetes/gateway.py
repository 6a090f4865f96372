"""The Kubernetes gateway: the only module that imports ``kubernetes``.

``KubeGateway`` implements ``harness.backends.kubernetes.api.ClusterApi``. Every vendor exception
(``ApiException``, urllib3 errors and timeouts, kubeconfig errors, the dynamic client's discovery errors,
model validation errors) is wrapped into ``ClusterError`` with ``raise ... from exc``; a watch that gets
HTTP 410 raises ``GoneError`` so the caller re-lists. Every call carries ``_request_timeout`` and urllib3
does not retry, so a half-open connection costs one timeout, never a stalled run.

Only API present in the declared lower bound of ``kubernetes`` is used (generated ``*Api`` methods,
``DynamicClient.request`` for raw paths, ``watch``/``stream``); ``tests/kube/test_client_surface.py``
checks every vendor attribute and keyword used here against that wheel's surface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import pydantic
import urllib3.exceptions
from kubernetes import client
from kubernetes import config as _config
from kubernetes import dynamic as _dynamic
from kubernetes import stream as _stream
from kubernetes import watch as _watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.dynamic import exceptions as _dynamic_exceptions

from harness.backends.kubernetes.api import (
    FIELD_MANAGER,
    CanaryObject,
    CanaryWatchEvent,
    DeploymentInfo,
    GoneError,
    NamespaceInfo,
)
from harness.backends.kubernetes.wire import (
    NoDiscovery,
    body_message,
    deployment_info,
    namespace_info,
    pod_serving,
    template_patch,
    transport_problem,
    watch_error,
)
from harness.errors import ClusterError

# Parts of the client without type hints, used through ``Any`` on purpose.
config: Any = _config
dynamic: Any = _dynamic
watch: Any = _watch
stream: Any = _stream

FLAGGER_GROUP, FLAGGER_VERSION, CANARY_PLURAL = "flagger.app", "v1beta1", "canaries"
DEFAULT_REQUEST_TIMEOUT = 30.0  # seconds per API call (read timeout); the watch adds its own window
_T = TypeVar("_T")


@contextmanager
def _wrapped(what: str) -> Iterator[None]:
    """Translate vendor exceptions raised inside the block into ``ClusterError``."""
    try:
        yield
    except ApiException as exc:
        if exc.status == 410:
            raise GoneError(f"{what}: 410 Gone ({exc.reason})") from exc
        raise ClusterError(f"{what}: HTTP {exc.status} {exc.reason}: {body_message(exc.body)}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ClusterError(f"{what}: {transport_problem(exc)}") from exc
    except ConfigException as exc:
        raise ClusterError(f"{what}: kubeconfig problem: {exc}") from exc
    except (_dynamic_exceptions.ResourceNotFoundError, _dynamic_exceptions.ResourceNotUniqueError) as exc:
        raise ClusterError(f"{what}: the API server does not serve this kind: {exc}") from exc
    except (pydantic.ValidationError, ValueError, TypeError, KeyError) as exc:
        # The client's models validate responses (pydantic in newer wheels, setters in older ones).
        raise ClusterError(f"{what}: unexpected response from the API server: {exc}") from exc


def _call(what: str, fn: Callable[[], _T]) -> _T:
    with _wrapped(what):
        return fn()


class KubeGateway:
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
        with _wrapped("load kubeconfig"):
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
            with _wrapped(f"server-side apply {kind}/{name} in {namespace}"):
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
            self._dynamic = _call(
                "discover API resources", lambda: _TimedDynamicClient(self._api_client, self._timeout)
            )
        return self._dynamic

    # -- namespaces ----------------------------------------------------------------------------------
    def create_namespace(self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        body = client.V1Namespace(
            metadata=client.V1ObjectMeta(name=name, labels=dict(labels), annotations=dict(annotations))
        )
        _call(
            f"create namespace {name}",
            lambda: self._core.create_namespace(body, _request_timeout=self._timeout),
        )

    def delete_namespace(self, name: str) -> None:
        try:
            _call(
                f"delete namespace {name}",
                lambda: self._core.delete_namespace(name, _request_timeout=self._timeout),
            )
        except GoneError:
            raise
        except ClusterError as exc:
            if _is_404(exc):
                return  # already gone: deletion is idempotent
            raise

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        ns = _get_or_none(
            f"read namespace {name}", lambda: self._core.read_namespace(name, _request_timeout=self._timeout)
        )
        return None if ns is None else namespace_info(ns)

    def list_namespaces(self, label_selector: str) -> list[NamespaceInfo]:
        items = _call(
            f"list namespaces {label_selector}",
            lambda: (
                self._core.list_namespace(label_selector=label_selector, _request_timeout=self._timeout).items
            ),
        )
        return [namespace_info(ns) for ns in items]

    # -- custom objects ------------------------------------------------------------------------------
    def get_canary(self, namespace: str, name: str) -> CanaryObject:
        obj = self.get_custom_object(FLAGGER_GROUP, FLAGGER_VERSION, CANARY_PLURAL, namespace, name)
        if obj is None:
            raise ClusterError(f"get canary {namespace}/{name}: HTTP 404 not found")
        return cast(CanaryObject, obj)

    def get_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> Mapping[str, Any] | None:
        obj = _get_or_none(
            f"get {plural}.{group} {namespace}/{name}",
            lambda: self._custom.get_namespaced_custom_object(
                group, version, namespace, plural, name, _request_timeout=self._timeout
            ),
        )
        if obj is None:
            return None
        if not isinstance(obj, dict):
            raise ClusterError(
                f"get {plural}.{group} {namespace}/{name}: expected an object, got {obj!r:.200}"
            )
        return obj

    def watch_canary(
        self, namespace: str, name: str, resource_version: str, timeout_seconds: float
    ) -> Iterator[CanaryWatchEvent]:
        window = max(1, int(timeout_seconds))
        what = f"watch canary {namespace}/{name} from {resource_version}"
        with _wrapped(what):
            stream = watch.Watch().stream(
                self._custom.list_namespaced_custom_object,
                FLAGGER_GROUP,
                FLAGGER_VERSION,
                namespace,
                CANARY_PLURAL,
                field_selector=f"metadata.name={name}",
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=window,
                # read timeout: the server ends the watch after `window`; silence beyond that is a dead link
                _request_timeout=(self._timeout, window + self._timeout),
            )
        while True:
            with _wrapped(what):
                event = next(stream, None)
            if event is None:
                return
            if event["type"] == "ERROR":
                raise watch_error(event["raw_object"], f"watch canary {namespace}/{name}")
            yield CanaryWatchEvent(type=event["type"], object=cast(CanaryObject, event["raw_object"]))

    # -- deployments and pods ------------------------------------------------------------------------
    def patch_deployment_template(
        self, namespace: str, name: str, *, annotations: Mapping[str, str], env: Mapping[str, str]
    ) -> None:
        deployment = self._read_deployment(namespace, name)
        patch = template_patch(deployment.spec.template.spec.containers[0].name, annotations, env)
        _call(
            f"patch deployment {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment(
                name, namespace, patch, field_manager=FIELD_MANAGER, _request_timeout=self._timeout
            ),
        )

    def _read_deployment(self, namespace: str, name: str) -> Any:
        return _call(
            f"read deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(name, namespace, _request_timeout=self._timeout),
        )

    def get_deployment(self, namespace: str, name: str) -> DeploymentInfo | None:
        deployment = _get_or_none(
            f"read deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(name, namespace, _request_timeout=self._timeout),
        )
        if deployment is None:
            return None
        return _call(f"read deployment {namespace}/{name}", lambda: deployment_info(deployment))

    def list_deployments(self, namespace: str, label_selector: str = "") -> list[DeploymentInfo]:
        def read() -> list[DeploymentInfo]:
            listed = self._apps.list_namespaced_deployment(
                namespace, label_selector=label_selector, _request_timeout=self._timeout
            )
            return [deployment_info(d) for d in listed.items]

        return _call(f"list deployments in {namespace}", read)

    def _pods(self, namespace: str, label_selector: str) -> list[Any]:
        return list(
            _call(
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

    def read_pod_logs(self, namespace: str, label_selector: str, tail_lines: int) -> str:
        chunks = []
        for pod in self._pods(namespace, label_selector):
            name = str(pod.metadata.name)
            chunks.append(f"--- {namespace}/{name}\n{self._pod_log(namespace, name, tail_lines)}")
        return "\n".join(chunks)

    def _pod_log(self, namespace: str, pod: str, tail_lines: int) -> str:
        return str(
            _call(
                f"read logs of {namespace}/{pod}",
                lambda: self._core.read_namespaced_pod_log(
                    pod, namespace, tail_lines=tail_lines, _request_timeout=self._timeout
                ),
            )
        )

    # -- discovery and proxies -----------------------------------------------------------------------
    def crd_exists(self, group: str, plural: str) -> bool:
        found = _get_or_none(
            f"read CRD {plural}.{group}",
            lambda: self._ext.read_custom_resource_definition(
                f"{plural}.{group}", _request_timeout=self._timeout
            ),
        )
        return found is not None

    def service_proxy_get(
        self, namespace: str, service: str, port: int, path: str, params: Mapping[str, str] | None = None
    ) -> str:
        resource = f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{path.lstrip('/')}"
        what = f"GET {path} on service {namespace}/{service}:{port}"

        def send() -> str:
            response = self._raw_client.request(
                "GET",
                resource,
                query_params=list((params or {}).items()),
                header_params={"Accept": "application/json, text/plain, */*"},
                serialize=False,
                _request_timeout=self._timeout,
            )
            return bytes(response.data or b"").decode("utf-8", "replace")

        try:
            return _call(what, send)
        except ClusterError as exc:
            cause = exc.__cause__
            if isinstance(cause, ApiException) and not isinstance(exc, GoneError):
                raise ClusterError(f"{what}: HTTP {cause.status}: {str(cause.body or '')[:300]}") from cause
            raise

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


def _is_404(exc: ClusterError) -> bool:
    return isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404


def _get_or_none(what: str, fn: Callable[[], _T]) -> _T | None:
    """``_call``, with HTTP 404 as None."""
    try:
        return _call(what, fn)
    except ClusterError as exc:
        if _is_404(exc):
            return None
        raise
