"""What a Canary's ``provider`` means on a cluster: its manifests, Prometheus, CRDs, router and load path.

The kubernetes backend runs Flagger on two providers, each with the install ``cluster/bootstrap.sh`` makes:

- ``traefik``: Flagger writes a TraefikService; the load enters Traefik and Traefik splits it. Flagger's
  bundled Prometheus (``flagger-system/flagger-prometheus``) scrapes Traefik.
- ``gatewayapi:*`` on Linkerd (``--mesh linkerd``): Flagger writes an HTTPRoute attached to the apex Service,
  and Linkerd splits in the *client's* outbound proxy. The load still enters Traefik, which is meshed
  and routes to the apex Service's ClusterIP (``nativeLB``), so Traefik's proxy applies the HTTPRoute.
  Linkerd-viz' Prometheus (``linkerd-viz/prometheus``, 10 s scrapes) holds ``response_total``.

Pure: the backend asks ``cluster_provider(name)`` and reads the answer; nothing here talks to a cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.backends.kubernetes.manifests import APP_NAME, PACKAGED_MANIFESTS, Manifest, find
from harness.backends.kubernetes.router_weights import RouterObject
from harness.backends.kubernetes.status import httproute_weights, traefik_weights
from harness.errors import InputError

LINKERD_MANIFESTS = PACKAGED_MANIFESTS.parent / "linkerd"
INGRESS_NAMESPACE = "traefik"  # where bootstrap.sh installs Traefik
INGRESS_SELECTOR = "app.kubernetes.io/name=traefik"  # the Traefik chart's pod label


@dataclass(frozen=True)
class ClusterProvider:
    """One provider's cluster facts (see the module docstring)."""

    name: str  # "traefik" | "gatewayapi"
    meshed: bool  # the run namespace is injected and the load must pass through a meshed ingress
    manifests_dir: Path  # the packaged kustomization for this provider
    prometheus: tuple[str, str, int] | None  # (namespace, service, port); None: Flagger's own (options)
    scrape_interval_seconds: float  # that Prometheus' scrape interval, for the time-scale floor
    flagger_providers: tuple[str | None, ...]  # Flagger -mesh-provider values this install runs with
    crds: tuple[tuple[str, str], ...]  # (group, plural) the manifests and the router need
    series: str  # a metric Prometheus must hold once traffic has passed (preflight)
    router: RouterObject

    def accepts_flagger_provider(self, provider: str | None) -> bool:
        if provider is not None and provider.startswith("gatewayapi"):
            provider = "gatewayapi"
        return provider in self.flagger_providers


_COMMON_CRDS = (
    ("traefik.io", "ingressroutes"),
    ("flagger.app", "canaries"),
    ("flagger.app", "metrictemplates"),
)

TRAEFIK = ClusterProvider(
    name="traefik",
    meshed=False,
    manifests_dir=PACKAGED_MANIFESTS,
    prometheus=None,
    scrape_interval_seconds=5.0,  # Flagger's chart
    flagger_providers=(None, "traefik"),
    crds=(*_COMMON_CRDS, ("traefik.io", "traefikservices")),
    series="traefik_service_requests_total",
    router=RouterObject("traefik.io", "v1alpha1", "traefikservices", traefik_weights),
)

LINKERD = ClusterProvider(
    name="gatewayapi",
    meshed=True,
    manifests_dir=LINKERD_MANIFESTS,
    prometheus=("linkerd-viz", "prometheus", 9090),
    scrape_interval_seconds=10.0,  # linkerd-viz chart: global scrape_interval 10s
    flagger_providers=("gatewayapi",),
    crds=(*_COMMON_CRDS, ("gateway.networking.k8s.io", "httproutes")),
    series="response_total",
    router=RouterObject("gateway.networking.k8s.io", "v1beta1", "httproutes", httproute_weights),
)


def cluster_provider(provider: str) -> ClusterProvider:
    """The cluster facts for a Canary's ``provider`` (traefik or gatewayapi:*); InputError for others."""
    if provider == "traefik":
        return TRAEFIK
    if provider.startswith("gatewayapi"):
        return LINKERD
    raise InputError(
        f"provider {provider!r}: the kubernetes backend runs traefik and gatewayapi:v1beta1 (Linkerd)"
    )


def require_provider(manifests: Sequence[Manifest], expected: str, where: Path) -> None:
    """The Canary of ``manifests`` must route with the scenario's provider, else a different router runs."""
    found = str(find(manifests, "Canary", APP_NAME).get("spec", {}).get("provider", ""))
    wanted = cluster_provider(expected)
    if cluster_provider(found or "traefik") is not wanted:
        raise InputError(
            f"{where}: Canary/{APP_NAME} spec.provider: expected {expected} (the scenario's provider), "
            f"found {found or 'none'}; the packaged manifests for it: --manifests {wanted.manifests_dir}"
        )


def require_mesh_load_path(manifests: Sequence[Manifest], where: Path) -> None:
    """On Linkerd the IngressRoute must send to the apex Service's ClusterIP (``kind: Service`` with
    ``nativeLB: true``): only then does Traefik's proxy see the Service and apply the HTTPRoute split."""
    routes = [m for m in manifests if m.get("kind") == "IngressRoute"]
    if not routes:
        raise InputError(f"{where}: no IngressRoute: the load has no way into the mesh through Traefik")
    for route in routes:
        name = route.get("metadata", {}).get("name")
        for r_index, rule in enumerate(route.get("spec", {}).get("routes", [])):
            for s_index, service in enumerate(rule.get("services", [])):
                at = f"IngressRoute/{name} spec.routes[{r_index}].services[{s_index}]"
                kind = service.get("kind", "Service")
                if kind != "Service" or service.get("name") != APP_NAME:
                    raise InputError(
                        f"{where}: {at}: expected kind Service name {APP_NAME} (the apex Service the "
                        f"HTTPRoute is attached to), found {kind} {service.get('name')}"
                    )
                if service.get("nativeLB") is not True:
                    raise InputError(
                        f"{where}: {at}.nativeLB: expected true, found {service.get('nativeLB')!r}: "
                        "without it Traefik sends to pod endpoints, Linkerd honours that choice and the "
                        "canary gets no split traffic"
                    )


def scrape_interval_for(provider: str, given: float | None) -> float:
    """``given`` (--scrape-interval), else the scrape interval of the provider's Prometheus."""
    return given if given is not None else cluster_provider(provider).scrape_interval_seconds
