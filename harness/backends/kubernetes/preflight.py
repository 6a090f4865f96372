"""Preflight of the Kubernetes backend: is the cluster ready for a run, before anything is written?

Checks, in order: the kube context, Flagger (deployment ready, mesh provider the install of the scenario's
provider: unset or ``traefik``, or ``gatewayapi:*`` on Linkerd), the CRDs the app manifests and the router
use, Prometheus answering, and the provider's series in it; on Linkerd, the ingress pods are meshed (the
HTTPRoute split happens in their proxy); then each user-settable option (``--manifests``, ``--image``,
``--ingress-url``), named in the check so a wrong one is obvious. A check that raises a ``HarnessError``
becomes a failed ``PreflightCheck`` carrying the message; nothing here raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.backends.base import PreflightCheck
from harness.backends.kubernetes.api import ClusterApi, DeploymentInfo
from harness.backends.kubernetes.cluster_provider import (
    TRAEFIK,
    ClusterProvider,
    require_mesh_load_path,
    require_provider,
)
from harness.backends.kubernetes.manifests import (
    ADMIN_SECRET,
    APP_NAME,
    EVENT_RECEIVER,
    find,
    render_kustomization,
)
from harness.backends.kubernetes.mesh import LinkerdCli, mesh_evidence, require_meshed
from harness.backends.kubernetes.observe import (
    PromQuery,
    flagger_provider,
    probe_http,
    series_count,
    single_value,
)
from harness.errors import ClusterError, HarnessError

REQUIRED_OBJECTS = (
    ("Deployment", APP_NAME),
    ("Service", APP_NAME),
    ("IngressRoute", APP_NAME),
    ("Canary", APP_NAME),
    ("Secret", ADMIN_SECRET),
    ("Deployment", EVENT_RECEIVER),
    ("Service", EVENT_RECEIVER),
)
FLAGGER_SELECTOR = "app.kubernetes.io/name=flagger"  # the Flagger chart's pod label
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
    provider: ClusterProvider = TRAEFIK
    ingress_namespace: str = "traefik"  # Linkerd: where the meshed ingress pods run
    ingress_selector: str = "app.kubernetes.io/name=traefik"
    linkerd: LinkerdCli | None = None  # the linkerd CLI, for the ingress pods' identities


def preflight_checks(api: ClusterApi, prometheus: PromQuery, where: Where) -> list[PreflightCheck]:
    """Every readiness check of the cluster, failed checks included (the caller decides what is fatal)."""
    provider = where.provider
    checks = [PreflightCheck("kube-context", True, f"--kube-context {api.current_context()}")]
    checks += _flagger_checks(api, where.flagger_namespace, where.flagger_deployment, provider)
    checks += [_crd_check(api, group, plural) for group, plural in provider.crds]
    via = f"--prometheus-url {where.prometheus_url}" if where.prometheus_url else _prometheus_name(provider)
    online = _guard("prometheus", lambda: _prometheus_online(prometheus), via)
    if provider.meshed and not online.ok and not where.prometheus_url:
        online = PreflightCheck(online.name, False, f"{online.detail}. {VIZ_PROMETHEUS_HINT}")
    checks.append(online)
    if provider.meshed:
        checks.append(_guard("prometheus:linkerd-series", lambda: _linkerd_series(prometheus)))
        checks.append(_guard("ingress-meshed", lambda: _ingress_meshed(api, where)))
        checks.append(_guard("flagger-meshed", lambda: _flagger_meshed(api, where)))
    else:
        checks.append(_guard("prometheus:traefik-series", lambda: _traefik_series(prometheus)))
    checks.append(_guard("option:--manifests", lambda: _manifests(where.manifests_dir, provider)))
    checks.append(_guard("option:--image", lambda: _image(where.image)))
    ingress = where.ingress_url
    if ingress is not None:
        checks.append(_guard("option:--ingress-url", lambda: ingress_answers(ingress, where.ingress_host)))
    return checks


def _prometheus_name(provider: ClusterProvider) -> str:
    if provider.prometheus is None:
        return "Flagger's Prometheus"
    namespace, service, port = provider.prometheus
    return f"Prometheus {namespace}/{service}:{port}"


def _manifests(directory: Path, provider: ClusterProvider) -> tuple[bool, str]:
    objects = render_kustomization(directory)
    for kind, name in REQUIRED_OBJECTS:
        find(objects, kind, name)
    require_provider(objects, provider.name, directory)
    if provider.meshed:
        require_mesh_load_path(objects, directory)
    return True, f"{len(objects)} objects from {directory}"


VIZ_PROMETHEUS_HINT = (
    "linkerd-viz' Prometheus admits only the meshed clients its AuthorizationPolicies name (Server "
    "prometheus-admin), and the API server's service proxy is not one: port-forward it (kubectl -n "
    "linkerd-viz port-forward svc/prometheus 19090:9090; port-forwarded traffic skips the proxy) and pass "
    "--prometheus-url http://127.0.0.1:19090"
)


def _flagger_meshed(api: ClusterApi, where: Where) -> tuple[bool, str]:
    """On Linkerd Flagger queries linkerd-viz' Prometheus, which admits it by its mTLS identity only
    (the chart's linkerdAuthPolicy): an unmeshed Flagger gets 403 on every check and rolls back every
    canary, faulty or not, which would pass a fault scenario for the wrong reason."""
    return _pods_meshed(
        api,
        where,
        where.flagger_namespace,
        FLAGGER_SELECTOR,
        what=f"Flagger pods ({FLAGGER_SELECTOR}, --flagger-namespace {where.flagger_namespace})",
        hint=(
            "linkerd-viz' Prometheus admits Flagger by its mesh identity only, so every check would fail "
            "and every canary be rolled back. cluster/bootstrap.sh --mesh linkerd injects flagger-system, as "
            "Flagger's kustomize/linkerd does; on your own cluster annotate Flagger's namespace "
            "linkerd.io/inject: enabled and restart it."
        ),
    )


def _ingress_meshed(api: ClusterApi, where: Where) -> tuple[bool, str]:
    """Linkerd splits by HTTPRoute in the client's proxy: the ingress the load enters must run one."""
    return _pods_meshed(
        api,
        where,
        where.ingress_namespace,
        where.ingress_selector,
        what=f"ingress pods ({where.ingress_selector}, --ingress-namespace {where.ingress_namespace})",
        hint=(
            "Without a linkerd-proxy in the ingress no request is split by the HTTPRoute: every one reaches "
            "the primary and the canary is judged on no traffic. cluster/bootstrap.sh --mesh linkerd meshes "
            "Traefik (cluster/linkerd/traefik-values.yaml); on your own cluster annotate the ingress pods "
            "linkerd.io/inject: enabled and restart them."
        ),
    )


def _pods_meshed(
    api: ClusterApi, where: Where, namespace: str, selector: str, *, what: str, hint: str
) -> tuple[bool, str]:
    """Every pod of ``selector`` runs the proxy with an identity (else ``require_meshed``'s InputError)."""
    evidence = mesh_evidence(api, namespace, selector, cli=where.linkerd)
    require_meshed(evidence, what=what, hint=hint)
    return True, "meshed: " + ", ".join(f"{p.pod} as {p.identity}" for p in evidence.pods)


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


def _flagger_checks(
    api: ClusterApi, namespace: str, name: str, expected: ClusterProvider
) -> list[PreflightCheck]:
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
                expected.accepts_flagger_provider(provider),
                (f"-mesh-provider={provider}" if provider else "default; the Canary sets its provider")
                + ("" if expected.accepts_flagger_provider(provider) else _install_hint(expected)),
            ),
        ]
    detail = str(deployment) if deployment else f"deployment {namespace}/{name} not found"
    return [PreflightCheck("flagger-ready", False, f"{detail} (--flagger-namespace {namespace})")]


def _install_hint(expected: ClusterProvider) -> str:
    if expected.meshed:
        return (
            ": a gatewayapi:* scenario needs Flagger installed for Linkerd (cluster/bootstrap.sh --mesh "
            "linkerd: -mesh-provider=gatewayapi:v1beta1, -metrics-server linkerd-viz' Prometheus)"
        )
    return (
        ": a traefik scenario needs Flagger installed for Traefik (cluster/bootstrap.sh without --mesh); "
        "its builtin checks query Flagger's -metrics-server"
    )


def _linkerd_series(prometheus: PromQuery) -> tuple[bool, str]:
    count = series_count(prometheus, 'response_total{direction="inbound"}')
    if count:
        return True, f"{count} inbound response_total series"
    return False, (
        "no inbound response_total series: this Prometheus scrapes no linkerd-proxy (it should be "
        "linkerd-viz' Prometheus, with meshed pods running)"
    )


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
