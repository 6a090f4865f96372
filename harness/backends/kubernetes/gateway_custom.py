"""The custom-object half of ``KubeGateway`` (Canaries, Rollouts, AnalysisRuns, TraefikServices, CRDs).

A mixin over the handles ``KubeGateway.__init__`` creates (``_custom``, ``_ext``, ``_timeout``); every call
goes through ``gateway_calls`` (timeout on each, vendor errors wrapped). A watch that gets HTTP 410 raises
``GoneError`` so the caller re-lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from kubernetes import watch as _watch

from harness.backends.kubernetes.api import FIELD_MANAGER, CanaryObject, CanaryWatchEvent, ObjectWatchEvent
from harness.backends.kubernetes.gateway_calls import call, get_or_none, wrapped
from harness.backends.kubernetes.wire import watch_error
from harness.errors import ClusterError

watch: Any = _watch  # no type hints in this part of the client

FLAGGER_GROUP, FLAGGER_VERSION, CANARY_PLURAL = "flagger.app", "v1beta1", "canaries"


class CustomObjectCalls:
    """``ClusterApi``'s custom-object methods over the official client."""

    _custom: Any  # client.CustomObjectsApi
    _ext: Any  # client.ApiextensionsV1Api
    _timeout: float

    def get_canary(self, namespace: str, name: str) -> CanaryObject:
        obj = self.get_custom_object(FLAGGER_GROUP, FLAGGER_VERSION, CANARY_PLURAL, namespace, name)
        if obj is None:
            raise ClusterError(f"get canary {namespace}/{name}: HTTP 404 not found")
        return cast(CanaryObject, obj)

    def get_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str
    ) -> Mapping[str, Any] | None:
        obj = get_or_none(
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
        for event in self.watch_custom_object(
            FLAGGER_GROUP, FLAGGER_VERSION, CANARY_PLURAL, namespace, name, resource_version, timeout_seconds
        ):
            yield CanaryWatchEvent(type=event.type, object=cast(CanaryObject, event.object))

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
        window = max(1, int(timeout_seconds))
        kind = "canary" if plural == CANARY_PLURAL else f"{plural}.{group}"
        what = f"watch {kind} {namespace}/{name} from {resource_version}"
        with wrapped(what):
            stream = watch.Watch().stream(
                self._custom.list_namespaced_custom_object,
                group,
                version,
                namespace,
                plural,
                field_selector=f"metadata.name={name}",
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=window,
                # read timeout: the server ends the watch after `window`; silence beyond that is a dead link
                _request_timeout=(self._timeout, window + self._timeout),
            )
        while True:
            with wrapped(what):
                event = next(stream, None)
            if event is None:
                return
            if event["type"] == "ERROR":
                raise watch_error(event["raw_object"], f"watch {kind} {namespace}/{name}")
            yield ObjectWatchEvent(type=event["type"], object=event["raw_object"])

    def list_custom_objects(
        self, group: str, version: str, plural: str, namespace: str, label_selector: str = ""
    ) -> list[Mapping[str, Any]]:
        listed = call(
            f"list {plural}.{group} {label_selector} in {namespace}",
            lambda: self._custom.list_namespaced_custom_object(
                group,
                version,
                namespace,
                plural,
                label_selector=label_selector,
                _request_timeout=self._timeout,
            ),
        )
        items = listed.get("items") if isinstance(listed, dict) else None
        if not isinstance(items, list):
            raise ClusterError(f"list {plural}.{group} in {namespace}: expected a list, got {listed!r:.200}")
        return [item for item in items if isinstance(item, dict)]

    def patch_custom_object(
        self, group: str, version: str, plural: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> None:
        call(
            f"patch {plural}.{group} {namespace}/{name}",
            lambda: self._custom.patch_namespaced_custom_object(
                group,
                version,
                namespace,
                plural,
                name,
                dict(patch),
                field_manager=FIELD_MANAGER,
                _request_timeout=self._timeout,
            ),
        )

    def crd_exists(self, group: str, plural: str) -> bool:
        found = get_or_none(
            f"read CRD {plural}.{group}",
            lambda: self._ext.read_custom_resource_definition(
                f"{plural}.{group}", _request_timeout=self._timeout
            ),
        )
        return found is not None
