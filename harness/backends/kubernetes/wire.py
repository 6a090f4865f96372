"""The gateway's half without a ``kubernetes`` import: response models → port shapes, bodies, errors.

``harness.backends.kubernetes.gateway`` is the only module importing ``kubernetes``; what it does with the
client's response objects (read by attribute, duck-typed) and the JSON it sends lives here, so each half
stays small and this half is testable without the client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import urllib3.exceptions

from harness.backends.kubernetes.api import DeploymentInfo, EventInfo, GoneError, NamespaceInfo, PodInfo
from harness.errors import ClusterError


def transport_problem(exc: Exception) -> str:
    reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
    timed_out = isinstance(reason, urllib3.exceptions.TimeoutError | TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )
    return f"{'timed out talking to' if timed_out else 'cannot reach'} the API server: {reason}"


class NoDiscovery:
    """A ``DynamicClient`` discoverer that discovers nothing: only ``request()`` is used on it."""

    def __init__(self, client: Any, cache_file: str | None = None) -> None:
        del client, cache_file


def body_message(body: object) -> str:
    """The ``message`` of a metav1.Status body, else the body itself (both cut to 500 characters)."""
    try:
        return str(json.loads(str(body or "{}")).get("message", ""))[:500]
    except (ValueError, AttributeError):
        return str(body or "")[:500]


def watch_error(raw_object: Mapping[str, Any], what: str) -> ClusterError:
    """The exception for a watch ``ERROR`` event: ``GoneError`` for 410 (re-list), else ``ClusterError``."""
    code = raw_object.get("code")
    message = raw_object.get("message", "")
    if code == 410:
        return GoneError(f"{what}: 410 Gone ({message})")
    return ClusterError(f"{what}: error event {code}: {message}")


def template_patch(container: str, annotations: Mapping[str, str], env: Mapping[str, str]) -> dict[str, Any]:
    """A strategic-merge patch of a pod template: its annotations and one container's env values."""
    return {
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


def pod_serving(pod: Any) -> bool:
    """Running, Ready and not terminating: the pods that take traffic and can take a fault."""
    if pod.metadata is None or pod.status is None or pod.metadata.deletion_timestamp is not None:
        return False
    ready = any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or ()))
    return bool(pod.status.phase == "Running" and ready)


def pod_info(pod: Any) -> PodInfo:
    containers = tuple(str(c.name) for c in (pod.spec.containers if pod.spec else None) or ())
    return PodInfo(
        name=str(pod.metadata.name),
        containers=containers,
        labels=dict(pod.metadata.labels or {}),
        annotations=dict(pod.metadata.annotations or {}),
        service_account=str((pod.spec.service_account_name if pod.spec else "") or ""),
        serving=pod_serving(pod),
    )


def namespace_info(ns: Any) -> NamespaceInfo:
    return NamespaceInfo(
        name=ns.metadata.name,
        labels=dict(ns.metadata.labels or {}),
        annotations=dict(ns.metadata.annotations or {}),
        phase=(ns.status.phase if ns.status else None) or "Active",
    )


def deployment_info(d: Any) -> DeploymentInfo:
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


def event_info(e: Any) -> EventInfo:
    """A ``V1Event``: ``series`` (events.k8s.io writers) wins over the legacy ``count``/``lastTimestamp``
    that client-go's core/v1 recorder (Argo Rollouts') keeps; ``eventTime`` fills an absent first time."""
    series = e.series
    count = (series.count if series is not None else None) or e.count or 1
    last = (series.last_observed_time if series is not None else None) or e.last_timestamp
    first = e.first_timestamp or e.event_time
    involved = e.involved_object
    return EventInfo(
        uid=str(e.metadata.uid or e.metadata.name),
        involved_kind=str(involved.kind or ""),
        involved_name=str(involved.name or ""),
        type="Warning" if e.type == "Warning" else "Normal",
        reason=str(e.reason or ""),
        message=str(e.message or ""),
        count=int(count),
        first_time=rfc3339(first),
        last_time=rfc3339(last or first),
    )


def rfc3339(moment: datetime | None) -> str:
    """An aware (or naive UTC) datetime as RFC 3339 with its microseconds; "" for None."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
