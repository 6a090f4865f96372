"""Linkerd mTLS evidence: meshed pods and identities (CLI or proxy metrics), refusal of an unmeshed app."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.kubernetes.api import PodInfo
from harness.backends.kubernetes.manifests import PACKAGED_MANIFESTS
from harness.backends.kubernetes.mesh import (
    cli_identities,
    mesh_evidence,
    require_meshed,
)
from harness.errors import ClusterError, InputError
from harness.testing.cluster import FakeCluster

NS = "canary-chaos-t3st"
LINKERD_MANIFESTS = PACKAGED_MANIFESTS.parent / "linkerd"
IDENTITY = f"default.{NS}.serviceaccount.identity.linkerd.cluster.local"
# `linkerd identity` prints "POD <name> (i of n)", then each leaf certificate as text
# (linkerd2 cli/cmd/identity.go)
CLI_OUTPUT = f"""
POD faulty-app-primary-7d9-a (1 of 2)

Certificate:
    Data:
        Version: 3 (0x2)
        Issuer: CN=identity.linkerd.cluster.local
        Subject: CN={IDENTITY}

POD faulty-app-primary-7d9-b (2 of 2)

Certificate:
    Data:
        Subject: CN=other.{NS}.serviceaccount.identity.linkerd.cluster.local
"""
INBOUND = 'direction="inbound",authority="faulty-app:80",target_addr="10.0.0.5:8080"'
TRAEFIK_ID = "traefik.traefik.serviceaccount.identity.linkerd.cluster.local"
METRICS = "\n".join(
    [
        "# HELP identity_cert_expiration_timestamp_seconds Time when this proxy's certificate will expire.",
        "identity_cert_expiration_timestamp_seconds 1800086400",
        f'request_total{{{INBOUND},tls="true",client_id="{TRAEFIK_ID}"}} 120',
        f'request_total{{{INBOUND},tls="no_identity"}} 3',
    ]
)


def meshed(name: str, account: str = "default") -> PodInfo:
    return PodInfo(name, ("app", "linkerd-proxy"), {"app": "faulty-app-primary"},
                   {"linkerd.io/proxy-version": "stable-2.14.0"}, account, True)  # fmt: skip


def cluster(pods: list[PodInfo], **kwargs: object) -> FakeCluster:
    from harness.clock import FakeClock

    fake = FakeCluster(clock=FakeClock(), **kwargs)  # type: ignore[arg-type]
    fake.pods[NS] = pods
    return fake


class TestEvidence:
    def test_identities_from_the_linkerd_cli(self):
        assert cli_identities(CLI_OUTPUT) == {
            "faulty-app-primary-7d9-a": IDENTITY,
            "faulty-app-primary-7d9-b": f"other.{NS}.serviceaccount.identity.linkerd.cluster.local",
        }
        fake = cluster([meshed("faulty-app-primary-7d9-a")])
        calls: list[list[str]] = []
        evidence = mesh_evidence(
            fake, NS, "app=faulty-app-primary", cli=lambda argv: calls.append(list(argv)) or CLI_OUTPUT
        )
        assert calls == [["identity", "-n", NS, "faulty-app-primary-7d9-a"]]
        pod = evidence.pods[0]
        assert (pod.meshed, pod.identity, pod.identity_source) == (True, IDENTITY, "linkerd identity")
        require_meshed(evidence)
        assert evidence.to_data()["meshed"] is True

    def test_without_the_cli_the_proxy_metrics_are_read_through_the_pod_proxy(self):
        fake = cluster([meshed("p-1")], pod_proxy={(NS, "p-1", 4191, "metrics"): METRICS})
        pod = mesh_evidence(fake, NS, "app=faulty-app-primary").pods[0]
        assert (pod.identity, pod.identity_source, pod.mtls_requests) == (IDENTITY, "proxy metrics", 120.0)

    def test_a_failing_cli_falls_back_to_the_proxy(self):
        def broken(argv: object) -> str:
            raise ClusterError("linkerd identity: exit 1: port-forward failed")

        fake = cluster([meshed("p-1")], pod_proxy={(NS, "p-1", 4191, "metrics"): METRICS})
        assert mesh_evidence(fake, NS, "app=faulty-app-primary", cli=broken).pods[0].identity == IDENTITY

    def test_a_proxy_without_a_certificate_has_no_identity(self):
        fake = cluster([meshed("p-1")], pod_proxy={(NS, "p-1", 4191, "metrics"): "request_total 1\n"})
        evidence = mesh_evidence(fake, NS, "app=faulty-app-primary")
        with pytest.raises(InputError, match="pod p-1: the proxy reports no identity_cert_expiration"):
            require_meshed(evidence)


class TestRefusal:
    def test_an_unmeshed_pod_is_refused_naming_it_and_what_it_lacks(self):
        plain = PodInfo("faulty-app-primary-1", ("app",), {"app": "faulty-app-primary"}, {}, "default", True)
        evidence = mesh_evidence(
            cluster([meshed("ok-1"), plain], pod_proxy={(NS, "ok-1", 4191, "metrics"): METRICS}),
            NS,
            "app=faulty-app-primary",
        )
        with pytest.raises(InputError) as caught:
            require_meshed(evidence)
        message = str(caught.value)
        assert f"namespace {NS}" in message
        assert "pod faulty-app-primary-1: no linkerd-proxy container (containers: app)" in message
        assert "no linkerd.io/proxy-version annotation" in message
        assert "ok-1" not in message

    def test_no_pods_is_refused(self):
        with pytest.raises(InputError, match="no app pods"):
            require_meshed(mesh_evidence(cluster([]), NS, "app=faulty-app-primary"))


def test_the_linkerd_manifests_route_through_an_httproute_on_the_apex_service():
    from harness.backends.kubernetes.manifests import find, render_kustomization

    objects = render_kustomization(Path(LINKERD_MANIFESTS))
    route = find(objects, "HTTPRoute", "faulty-app")
    assert route["spec"]["parentRefs"] == [{"group": "core", "kind": "Service", "name": "faulty-app"}]
    canary = find(objects, "Canary", "faulty-app")
    assert canary["spec"]["provider"] == "gatewayapi:v1beta1"
    assert {m["metadata"]["name"] for m in objects if m["kind"] == "MetricTemplate"} == {
        "success-rate",
        "latency",
    }
