"""The Linkerd part of ``EmulatedCluster``: meshed pods, their proxies' metrics, the HTTPRoute split, and
linkerd-viz' Prometheus answers.

``LinkerdInstall`` is what ``cluster/bootstrap.sh --mesh linkerd`` leaves, in memory: Flagger on
``-mesh-provider=gatewayapi:v1beta1`` (meshed), the HTTPRoute CRD, Traefik in namespace ``traefik`` (meshed
unless ``ingress_meshed=False``), and run namespaces annotated ``linkerd.io/inject: enabled`` whose pods get
the ``linkerd-proxy`` container and the ``linkerd.io/proxy-version`` annotation, with an admin ``/metrics``
(port 4191) as the proxy serves it. A ``gatewayapi:*`` Canary is routed by ``FakeHTTPRouteRouter``, and
``get_custom_object`` returns its HTTPRoute as Flagger writes it (``to_manifest``).

The split: Linkerd applies the HTTPRoute in the *client's* proxy, so a request is split only when the load
path holds (``load_path_holds``): the ingress is meshed AND the run's IngressRoute sends to the apex Service
``faulty-app`` with ``nativeLB: true`` (its ClusterIP, which the proxy resolves to the route). Otherwise
every request reaches the primary, which the apex Service selects after Flagger's initialization.

PromQL (``linkerd_answer``): the Linkerd MetricTemplates' success rate and p99 over ``response_total`` /
``response_latency_ms_bucket`` for ``deployment=~"faulty-app"`` (the canary), the series counts preflight
and the custom-metric check ask for. The canary has series only while the route sends it traffic over a
holding load path; with none Prometheus answers an empty vector (``NoValuesFound``), as linkerd-viz does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends.kubernetes.api import NamespaceInfo, PodInfo
from harness.errors import NoValuesFound
from harness.providers.linkerd.httproute import HTTPRoute, Request
from harness.providers.linkerd.route_manifest import to_manifest
from harness.scenario.flagger_canary import parse_canary
from harness.testing.emulated_app import ClusterClock, EmulatedApp, fault_error_rate
from harness.testing.http_route import FakeHTTPRouteRouter

APP = "faulty-app"
GATEWAY_FLAGGER_ARGS = (
    "-mesh-provider=gatewayapi:v1beta1",
    "-metrics-server=http://prometheus.linkerd-viz:9090",
)
PROXY_VERSION = "stable-2.14.0"
PROXY_CONTAINER = "linkerd-proxy"
INJECT = "linkerd.io/inject"
INGRESS_NAMESPACE = "traefik"
INGRESS_POD = "traefik-7f9c4-0"
FLAGGER_POD = "flagger-5c7d8-0"
PRIMARY_POD = f"{APP}-primary-7c5d8-0"
_NAMESPACE = re.compile(r'namespace="([^"]+)"')


def is_gateway(canary: Mapping[str, Any]) -> bool:
    return str(canary.get("spec", {}).get("provider", "")).startswith("gatewayapi")


def load_path_holds(ingress_meshed: bool, ingress_routes: Sequence[Mapping[str, Any]]) -> bool:
    """Traefik's proxy applies the HTTPRoute: Traefik is meshed and every IngressRoute service of the run
    is the apex Service by ClusterIP (``kind: Service``, ``nativeLB: true``)."""
    services = [
        service
        for route in ingress_routes
        for rule in route.get("spec", {}).get("routes", [])
        for service in rule.get("services", [])
    ]
    return (
        ingress_meshed
        and bool(services)
        and all(
            s.get("kind", "Service") == "Service" and s.get("name") == APP and s.get("nativeLB") is True
            for s in services
        )
    )


def split(
    route: HTTPRoute | None, headers: Sequence[tuple[str, str]], path: str, requests: int
) -> tuple[int, int, int]:
    """(to the primary, to the canary, unrouted: Linkerd's 404) of ``requests`` GETs of one user cohort
    through ``route``; no route yet: all to the primary (the apex Service selects it)."""
    if route is None:
        return requests, 0, 0
    selection = route.select(Request.of("GET", path, headers))
    if selection is None:
        return 0, 0, requests
    weights = {b.name: b.weight for b in selection.rule.backend_refs}
    total = sum(weights.values())
    if total <= 0:
        return 0, 0, requests
    canary = round(requests * weights.get(f"{APP}-canary", 0) / total)
    return requests - canary, canary, 0


def canary_weighted(route: HTTPRoute | None) -> bool:
    """Does any rule of the route send a share to the canary?"""
    return route is not None and any(
        b.name == f"{APP}-canary" and b.weight > 0 for rule in route.rules for b in rule.backend_refs
    )


def linkerd_answer(promql: str, *, canary_served: bool, canary_error_rate: float, latency_ms: float) -> float:
    """linkerd-viz' Prometheus for one run namespace (see the module docstring)."""
    canary = f'deployment=~"{APP}"' in promql
    if canary and not canary_served:
        raise NoValuesFound(f"no series for the canary (it gets no traffic): {' '.join(promql.split())}")
    if promql.lstrip().startswith("count("):
        return 6.0  # inbound series of the meshed pods (by status code, route, client)
    if "histogram_quantile" in promql:
        return latency_ms
    return 100.0 * (1.0 - canary_error_rate) if canary else 100.0


def query_namespace(promql: str) -> str:
    found = _NAMESPACE.search(promql)
    return found.group(1) if found else ""


@dataclass(frozen=True)
class LinkerdInstall:
    """What ``EmulatedCluster`` delegates to for the mesh (see the module docstring)."""

    gateway: bool = False  # Flagger runs -mesh-provider=gatewayapi:v1beta1, on Linkerd (meshed)
    ingress_meshed: bool = True

    def flagger_args(self, traefik: tuple[str, ...]) -> tuple[str, ...]:
        return GATEWAY_FLAGGER_ARGS if self.gateway else traefik

    def crd_exists(self, group: str) -> bool:
        return self.gateway and group == "gateway.networking.k8s.io"

    def traffic(self, app: EmulatedApp | None) -> tuple[bool, HTTPRoute | None, float] | None:
        """(the ingress proxy applies the HTTPRoute, the route, the canary's error rate); None: not a
        gatewayapi namespace."""
        if app is None or app.http_route is None:
            return None
        holds = load_path_holds(self.ingress_meshed, app.ingress_routes)
        return holds, app.http_route.route, fault_error_rate(app.canary_faults())

    def answer(self, app: EmulatedApp | None, promql: str, latency_ms: float) -> float:
        holds, route, rate = self.traffic(app) or (False, None, 0.0)
        served = holds and canary_weighted(route)
        return linkerd_answer(promql, canary_served=served, canary_error_rate=rate, latency_ms=latency_ms)

    def route_object(self, app: EmulatedApp | None) -> dict[str, Any] | None:
        """Flagger's HTTPRoute as the API server returns it; None before its first reconcile."""
        router = app.http_route if app is not None else None
        return None if router is None or router.route is None else to_manifest(router.route)

    def take(self, app: EmulatedApp, manifests: Sequence[Mapping[str, Any]]) -> None:
        """An apply into ``app``'s namespace: keep its IngressRoutes; a gatewayapi Canary gets the router."""
        app.ingress_routes += [copy.deepcopy(dict(m)) for m in manifests if m["kind"] == "IngressRoute"]
        canary = next((m for m in manifests if m["kind"] == "Canary"), None)
        if canary is not None and is_gateway(canary):
            spec = parse_canary(canary, default_namespace=app.namespace)
            app.http_route = FakeHTTPRouteRouter(spec, ClusterClock(app.clock), seed=app.namespace)

    def pods(
        self, namespace: NamespaceInfo | None, name: str, selector: str, app_pods: Sequence[str]
    ) -> list[PodInfo]:
        """``app_pods``: the run namespace's pods matching ``selector`` (the primary's when it selects it)."""
        if name == INGRESS_NAMESPACE:
            if selector != "app.kubernetes.io/name=traefik":
                return []
            return [_pod(INGRESS_POD, "traefik", {"app.kubernetes.io/name": "traefik"}, self.ingress_meshed)]
        if name == "flagger-system":
            if selector != "app.kubernetes.io/name=flagger":
                return []
            return [_pod(FLAGGER_POD, "flagger", {"app.kubernetes.io/name": "flagger"}, self.gateway)]
        if namespace is not None and selector == f"app={APP}-primary":
            app_pods = [PRIMARY_POD]
        meshed = namespace is not None and namespace.annotations.get(INJECT) == "enabled"
        label = selector.split("=", 1)[-1]
        return [_pod(pod, "app", {"app": label}, meshed, account="default") for pod in app_pods]

    def proxy_metrics(self, pods: Sequence[PodInfo], pod: str, port: int, path: str) -> str | None:
        """The proxy admin ``/metrics`` of ``pod`` (None: no such meshed pod, or not that port and path)."""
        found = next((p for p in pods if p.name == pod), None)
        if (port, path) != (4191, "metrics") or found is None or PROXY_CONTAINER not in found.containers:
            return None
        return "\n".join(
            [
                "# HELP identity_cert_expiration_timestamp_seconds When this proxy's certificate expires.",
                "identity_cert_expiration_timestamp_seconds 1800086400",
                f'request_total{{direction="inbound",authority="{APP}:80",tls="true"}} 120',
            ]
        )


def _pod(name: str, container: str, labels: dict[str, str], meshed: bool, account: str = "") -> PodInfo:
    containers = (container, PROXY_CONTAINER) if meshed else (container,)
    annotations = {"linkerd.io/proxy-version": PROXY_VERSION} if meshed else {}
    return PodInfo(name, containers, labels, annotations, account or container, True)
