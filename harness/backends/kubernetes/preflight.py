"""Preflight of the Kubernetes backend: is the cluster ready for a run, before anything is written?

Checks, in order: the kube context, Flagger (deployment ready, mesh provider unset or ``traefik``), the
CRDs the app manifests use, Prometheus answering, and Traefik series in it. A check that raises a
``ClusterError`` or ``MetricsError`` becomes a failed ``PreflightCheck`` carrying the message; nothing
here raises.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.backends.base import PreflightCheck
from harness.backends.kubernetes.api import ClusterApi, DeploymentInfo
from harness.backends.kubernetes.observe import PromQuery, flagger_provider, series_count, single_value
from harness.errors import ClusterError, MetricsError

REQUIRED_CRDS = (
    ("traefik.io", "ingressroutes"),
    ("traefik.io", "traefikservices"),
    ("flagger.app", "canaries"),
    ("flagger.app", "metrictemplates"),
)


def preflight_checks(
    api: ClusterApi,
    prometheus: PromQuery,
    *,
    flagger_namespace: str,
    flagger_deployment: str,
) -> list[PreflightCheck]:
    """Every readiness check of the cluster, failed checks included (the caller decides what is fatal)."""
    checks = [PreflightCheck("kube-context", True, api.current_context())]
    checks += _flagger_checks(api, flagger_namespace, flagger_deployment)
    checks += [_crd_check(api, group, plural) for group, plural in REQUIRED_CRDS]
    checks.append(_guard("prometheus", lambda: _prometheus_online(prometheus)))
    checks.append(_guard("prometheus:traefik-series", lambda: _traefik_series(prometheus)))
    return checks


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
    return [PreflightCheck("flagger-ready", False, detail)]


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


def _guard(name: str, check: Callable[[], tuple[bool, str]]) -> PreflightCheck:
    try:
        ok, detail = check()
    except (ClusterError, MetricsError) as exc:
        return PreflightCheck(name, False, str(exc))
    return PreflightCheck(name, ok, detail)
