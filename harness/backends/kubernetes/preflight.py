"""Preflight of the Kubernetes backend: is the cluster ready for a run, before anything is written?

Checks, in order: the kube context, Flagger (deployment ready, mesh provider unset or ``traefik``), the
CRDs the app manifests use, Prometheus answering, and Traefik series in it; then each user-settable
option (``--manifests``, ``--image``, ``--ingress-url``), named in the check so a wrong one is obvious. A
check that raises a ``HarnessError`` becomes a failed ``PreflightCheck`` carrying the message; nothing
here raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.backends.base import PreflightCheck
from harness.backends.kubernetes.api import ClusterApi, DeploymentInfo
from harness.backends.kubernetes.manifests import (
    ADMIN_SECRET,
    APP_NAME,
    EVENT_RECEIVER,
    find,
    render_kustomization,
)
from harness.backends.kubernetes.observe import (
    PromQuery,
    flagger_provider,
    probe_http,
    series_count,
    single_value,
)
from harness.errors import ClusterError, HarnessError

REQUIRED_CRDS = (
    ("traefik.io", "ingressroutes"),
    ("traefik.io", "traefikservices"),
    ("flagger.app", "canaries"),
    ("flagger.app", "metrictemplates"),
)


REQUIRED_OBJECTS = (
    ("Deployment", APP_NAME),
    ("Service", APP_NAME),
    ("IngressRoute", APP_NAME),
    ("Canary", APP_NAME),
    ("Secret", ADMIN_SECRET),
    ("Deployment", EVENT_RECEIVER),
    ("Service", EVENT_RECEIVER),
)
_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/:-]*(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class Where:
    """The user-settable locations preflight checks (``KubernetesOptions``)."""

    flagger_namespace: str
    flagger_deployment: str
    manifests_dir: Path
    ingress_url: str | None  # None: not probed (an in-process fake cluster has no Traefik)
    ingress_host: str
    image: str | None = None
    prometheus_url: str | None = None


def preflight_checks(api: ClusterApi, prometheus: PromQuery, where: Where) -> list[PreflightCheck]:
    """Every readiness check of the cluster, failed checks included (the caller decides what is fatal)."""
    checks = [PreflightCheck("kube-context", True, f"--kube-context {api.current_context()}")]
    checks += _flagger_checks(api, where.flagger_namespace, where.flagger_deployment)
    checks += [_crd_check(api, group, plural) for group, plural in REQUIRED_CRDS]
    via = f"--prometheus-url {where.prometheus_url}" if where.prometheus_url else "Flagger's Prometheus"
    checks.append(_guard("prometheus", lambda: _prometheus_online(prometheus), via))
    checks.append(_guard("prometheus:traefik-series", lambda: _traefik_series(prometheus)))
    checks.append(_guard("option:--manifests", lambda: _manifests(where.manifests_dir)))
    checks.append(_guard("option:--image", lambda: _image(where.image)))
    ingress = where.ingress_url
    if ingress is not None:
        checks.append(_guard("option:--ingress-url", lambda: ingress_answers(ingress, where.ingress_host)))
    return checks


def _manifests(directory: Path) -> tuple[bool, str]:
    objects = render_kustomization(directory)
    for kind, name in REQUIRED_OBJECTS:
        find(objects, kind, name)
    return True, f"{len(objects)} objects from {directory}"


def _image(image: str | None) -> tuple[bool, str]:
    if image is None:
        return True, "the image the manifests name"
    if not _IMAGE.fullmatch(image):
        return False, f"{image!r}: expected a reference with a tag or a sha256 digest, e.g. registry/app:1.2"
    if image.endswith(":latest"):
        return False, f"{image!r}: pin a version or digest, not :latest (the run must be reproducible)"
    return True, image


def ingress_answers(url: str, host: str) -> tuple[bool, str]:
    if not url.startswith(("http://", "https://")):
        return False, f"{url!r}: expected an http:// or https:// URL of Traefik's web entrypoint"
    status = probe_http(url, host=host)
    return True, f"{url} answers (HTTP {status} for Host {host}, before the route exists)"


def _crd_check(api: ClusterApi, group: str, plural: str) -> PreflightCheck:
    name = f"crd:{plural}.{group}"
    return _guard(name, lambda: (api.crd_exists(group, plural), ""))


def _flagger_checks(api: ClusterApi, namespace: str, name: str) -> list[PreflightCheck]:
    deployment: DeploymentInfo | ClusterError | None
    try:
        deployment = api.get_deployment(namespace, name)
    except ClusterError as exc:
        deployment = exc
    if not isinstance(deployment, ClusterError) and deployment is not None:
        provider = flagger_provider(deployment.container_args)
        return [
            PreflightCheck("flagger-ready", deployment.ready, deployment.summary()),
            PreflightCheck(
                "flagger-provider",
                provider in (None, "traefik"),
                f"-mesh-provider={provider}" if provider else "default; the Canary sets provider: traefik",
            ),
        ]
    detail = str(deployment) if deployment else f"deployment {namespace}/{name} not found"
    return [PreflightCheck("flagger-ready", False, f"{detail} (--flagger-namespace {namespace})")]


def _prometheus_online(prometheus: PromQuery) -> tuple[bool, str]:
    value = single_value(prometheus.query("vector(1)"))
    return value == 1, f"vector(1) = {value:g}"


def _traefik_series(prometheus: PromQuery) -> tuple[bool, str]:
    service_series = series_count(prometheus, "traefik_service_requests_total")
    if service_series:
        return True, f"{service_series} traefik_service_requests_total series"
    any_traefik = series_count(prometheus, '{__name__=~"traefik_.+"}')
    detail = (
        f"Traefik is scraped ({any_traefik} series) but has no traefik_service_requests_total yet "
        "(no request has passed through a Traefik service)"
        if any_traefik
        else "no traefik_* series: check the Traefik pod's prometheus.io annotations (port 9100)"
    )
    return any_traefik > 0, detail


def _guard(name: str, check: Callable[[], tuple[bool, str]], via: str = "") -> PreflightCheck:
    prefix = f"{via}: " if via else ""
    try:
        ok, detail = check()
    except HarnessError as exc:
        return PreflightCheck(name, False, f"{prefix}{exc}")
    return PreflightCheck(name, ok, f"{prefix}{detail}")
