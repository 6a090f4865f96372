"""mTLS evidence for a run namespace on Linkerd: are the app's pods meshed, and with which identities?

A pod is meshed when it runs the ``linkerd-proxy`` container and carries the injector's
``linkerd.io/proxy-version`` annotation. Its identity comes from the ``linkerd`` CLI when it is installed
(``linkerd identity -n NS POD`` prints each pod's leaf certificate; the ``Subject: CN=`` is the identity,
linkerd2 ``cli/cmd/identity.go``), else from the proxy itself: its admin port (4191) ``/metrics``, read
through the API server's pod proxy, holds ``identity_cert_expiration_timestamp_seconds`` once the identity
controller issued its certificate, and the identity is the one Linkerd derives from the pod
(``<serviceaccount>.<namespace>.serviceaccount.identity.linkerd.cluster.local``). Inbound series with
``tls="true"`` show traffic that arrived over mTLS. A namespace with an unmeshed app pod is refused, naming
the pod and what it lacks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.backends.kubernetes.api import ClusterApi, PodInfo
from harness.errors import ClusterError, InputError

PROXY_CONTAINER = "linkerd-proxy"
PROXY_VERSION_ANNOTATION = "linkerd.io/proxy-version"
INJECT_ANNOTATION = "linkerd.io/inject"
PROXY_ADMIN_PORT = 4191
TRUST_DOMAIN = "cluster.local"
_CN = re.compile(r"Subject:.*?CN=([^\s,/]+)")
_POD = re.compile(r"^POD (\S+) \(\d+ of \d+\)", re.MULTILINE)
_CERT_METRIC = "identity_cert_expiration_timestamp_seconds"
_TLS_INBOUND = re.compile(
    r'^request_total\{[^}]*direction="inbound"[^}]*tls="true"[^}]*\}\s+(\S+)', re.MULTILINE
)

LinkerdCli = Callable[[Sequence[str]], str]  # argv after `linkerd` → stdout; raises ClusterError


@dataclass(frozen=True)
class PodMesh:
    pod: str
    meshed: bool
    proxy_version: str = ""
    identity: str = ""
    identity_source: str = ""  # "linkerd identity" | "proxy metrics" | ""
    mtls_requests: float | None = None  # inbound requests over mTLS so far (proxy metrics), if read
    problem: str = ""


@dataclass(frozen=True)
class MeshEvidence:
    namespace: str
    pods: tuple[PodMesh, ...] = field(default_factory=tuple)

    @property
    def meshed(self) -> bool:
        return bool(self.pods) and all(p.meshed for p in self.pods)

    def to_data(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "meshed": self.meshed,
            "pods": [p.__dict__ for p in self.pods],
        }


def expected_identity(pod: PodInfo, namespace: str, trust_domain: str = TRUST_DOMAIN) -> str:
    account = pod.service_account or "default"
    return f"{account}.{namespace}.serviceaccount.identity.linkerd.{trust_domain}"


def cli_identities(output: str) -> dict[str, str]:
    """``linkerd identity`` output → pod → identity (the leaf certificate's CN)."""
    found: dict[str, str] = {}
    marks = list(_POD.finditer(output))
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(output)
        cn = _CN.search(output, mark.end(), end)
        if cn is not None:
            found[mark.group(1)] = cn.group(1)
    return found


def system_linkerd() -> LinkerdCli | None:
    """The installed ``linkerd`` CLI as a runner (bounded: 60 s), or None when it is not on PATH."""
    binary = shutil.which("linkerd")
    if binary is None:
        return None

    def run(args: Sequence[str]) -> str:
        try:
            done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"linkerd {' '.join(args)}: {exc}") from exc
        if done.returncode != 0:
            raise ClusterError(
                f"linkerd {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[:300]}"
            )
        return done.stdout

    return run


def mesh_evidence(
    api: ClusterApi, namespace: str, selector: str, *, cli: LinkerdCli | None = None
) -> MeshEvidence:
    """Read the evidence for the pods matching ``selector``; raises nothing for an unmeshed pod (see
    ``require_meshed``), ``ClusterError`` only when the pods cannot be listed."""
    pods = api.list_pod_details(namespace, selector)
    from_cli: dict[str, str] = {}
    cli_problem = ""
    if cli is not None and pods:
        try:
            from_cli = cli_identities(cli(["identity", "-n", namespace, *(p.name for p in pods)]))
        except ClusterError as exc:
            cli_problem = str(exc)
    return MeshEvidence(namespace, tuple(_pod(api, namespace, p, from_cli, cli_problem) for p in pods))


def _pod(
    api: ClusterApi, namespace: str, pod: PodInfo, from_cli: Mapping[str, str], cli_problem: str
) -> PodMesh:
    version = pod.annotations.get(PROXY_VERSION_ANNOTATION, "")
    if PROXY_CONTAINER not in pod.containers or not version:
        lacks = []
        if PROXY_CONTAINER not in pod.containers:
            lacks.append(f"no {PROXY_CONTAINER} container (containers: {', '.join(pod.containers)})")
        if not version:
            lacks.append(f"no {PROXY_VERSION_ANNOTATION} annotation")
        return PodMesh(pod.name, False, version, problem="; ".join(lacks))
    if pod.name in from_cli:
        return PodMesh(pod.name, True, version, from_cli[pod.name], "linkerd identity")
    try:
        metrics = api.pod_proxy_get(namespace, pod.name, PROXY_ADMIN_PORT, "metrics")
    except ClusterError as exc:
        problem = "; ".join(x for x in (cli_problem, f"proxy metrics unreadable: {exc}") if x)
        return PodMesh(pod.name, True, version, problem=problem)
    if _CERT_METRIC not in metrics:
        return PodMesh(
            pod.name, True, version, problem=f"the proxy reports no {_CERT_METRIC}: no identity issued"
        )
    mtls = sum(float(v) for v in _TLS_INBOUND.findall(metrics))
    return PodMesh(pod.name, True, version, expected_identity(pod, namespace), "proxy metrics", mtls)


def require_meshed(
    evidence: MeshEvidence,
    *,
    what: str = f"app pods (annotation {INJECT_ANNOTATION}: enabled)",
    hint: str = "Is Linkerd installed (cluster/bootstrap.sh --mesh linkerd) and its proxy injector running?",
) -> None:
    """Refuse a run whose ``what`` are not all meshed with an identity, naming each pod and what it lacks."""
    where = f"namespace {evidence.namespace}"
    if not evidence.pods:
        raise InputError(f"{where}: no {what} to check for the Linkerd proxy")
    bad = [p for p in evidence.pods if not p.meshed or not p.identity]
    if bad:
        details = "; ".join(f"pod {p.pod}: {p.problem or 'no identity'}" for p in bad)
        raise InputError(f"{where}: {what} not meshed: {details}. {hint}")
