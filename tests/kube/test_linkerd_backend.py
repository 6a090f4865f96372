"""The kubernetes backend on Linkerd (provider gatewayapi:*): its setup, and the load path into the mesh.

Linkerd splits by HTTPRoute in the *client's* proxy, so the verdict is only true when the load enters a
meshed ingress that sends to the apex Service's ClusterIP. Each way that path can be missing is refused
before a run judges a canary that saw no traffic: an unmeshed ingress (preflight), an IngressRoute without
nativeLB or to another service, and manifests whose Canary routes with another provider (deploy).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from harness.backends.kubernetes.api import PodInfo
from harness.backends.kubernetes.cluster_provider import LINKERD, LINKERD_MANIFESTS, TRAEFIK
from harness.backends.kubernetes.faults import FaultInjector
from harness.backends.kubernetes.manifests import PACKAGED_MANIFESTS
from harness.backends.kubernetes.status import httproute_weights
from harness.errors import ClusterError, InputError
from harness.testing.cluster import FakeCluster, _ready_deployment
from tests.kube.conftest import NAMESPACE, canary_spec
from tests.kube.test_mesh import METRICS, meshed

GATEWAY = "gatewayapi:v1beta1"
TRAEFIK_POD = "traefik-6d9f-x"
FLAGGER_POD = "flagger-5c7-y"
TRAEFIK_METRICS = "identity_cert_expiration_timestamp_seconds 1800086400\n"


def linkerd_spec():  # type: ignore[no-untyped-def]
    return dataclasses.replace(canary_spec(), provider=GATEWAY)


def traefik_pod(*containers: str, version: str = "stable-2.14.0") -> PodInfo:
    annotations = {"linkerd.io/proxy-version": version} if version else {}
    return PodInfo(
        TRAEFIK_POD, containers, {"app.kubernetes.io/name": "traefik"}, annotations, "traefik", True
    )


def linkerd_cluster(cluster: FakeCluster, *, ingress_meshed: bool = True) -> FakeCluster:
    """What `cluster/bootstrap.sh --mesh linkerd` leaves: Flagger on gatewayapi, the HTTPRoute CRD,
    linkerd-viz' Prometheus with proxy series, Traefik meshed (or not), the app pods meshed."""
    cluster.deployments[("flagger-system", "flagger")] = _ready_deployment(
        "flagger-system",
        "flagger",
        args=("-mesh-provider=gatewayapi:v1beta1", "-metrics-server=http://prometheus.linkerd-viz:9090"),
    )
    cluster.crds.add(("gateway.networking.k8s.io", "httproutes"))
    cluster.prometheus_values.update({"vector(1)": 1.0, 'count(response_total{direction="inbound"})': 6.0})
    containers = ("traefik", "linkerd-proxy") if ingress_meshed else ("traefik",)
    cluster.pods["traefik"] = [traefik_pod(*containers, version="stable-2.14.0" if ingress_meshed else "")]
    cluster.pod_proxy[("traefik", TRAEFIK_POD, 4191, "metrics")] = TRAEFIK_METRICS
    cluster.pods[NAMESPACE] = [meshed("faulty-app-primary-1")]
    cluster.pod_proxy[(NAMESPACE, "faulty-app-primary-1", 4191, "metrics")] = METRICS
    flagger = PodInfo(FLAGGER_POD, ("flagger", "linkerd-proxy"), {"app.kubernetes.io/name": "flagger"},
                      {"linkerd.io/proxy-version": "stable-2.14.0"}, "flagger", True)  # fmt: skip
    cluster.pods["flagger-system"] = [flagger]
    cluster.pod_proxy[("flagger-system", FLAGGER_POD, 4191, "metrics")] = TRAEFIK_METRICS
    return cluster


def on_linkerd(make_backend, **overrides):  # type: ignore[no-untyped-def]
    options = {
        "provider": GATEWAY,
        "manifests_dir": None,
        "check_custom_metrics": False,
        "check_ingress": False,
    }
    options.update(overrides)
    backend = make_backend(**options)
    backend._linkerd = None  # no CLI here: the proxies' own metrics
    return backend


class TestSetup:
    def test_the_provider_picks_manifests_prometheus_and_router(self, make_backend, cluster):
        backend = on_linkerd(make_backend)
        assert backend.provider is LINKERD
        assert backend.manifests_dir == LINKERD_MANIFESTS
        linkerd_cluster(cluster)
        backend.preflight()
        queried = {args[:2] for method, args in cluster.calls if method == "service_proxy_get"}
        assert queried == {("linkerd-viz", "prometheus")}  # not Flagger's bundled one
        assert make_backend().provider is TRAEFIK

    def test_preflight_is_green_on_a_linkerd_bootstrap(self, make_backend, cluster):
        linkerd_cluster(cluster)
        checks = {c.name: c for c in on_linkerd(make_backend).preflight()}
        assert all(c.ok for c in checks.values()), checks
        assert checks["flagger-provider"].detail == "-mesh-provider=gatewayapi:v1beta1"
        assert "crd:httproutes.gateway.networking.k8s.io" in checks
        assert "prometheus:traefik-series" not in checks
        assert checks["prometheus:linkerd-series"].detail == "6 inbound response_total series"
        assert TRAEFIK_POD in checks["ingress-meshed"].detail

    def test_a_traefik_install_fails_the_flagger_provider_check(self, make_backend, cluster):
        linkerd_cluster(cluster)
        cluster.deployments[("flagger-system", "flagger")] = _ready_deployment(
            "flagger-system", "flagger", args=("-mesh-provider=traefik",)
        )
        check = {c.name: c for c in on_linkerd(make_backend).preflight()}["flagger-provider"]
        assert not check.ok
        assert "cluster/bootstrap.sh --mesh linkerd" in check.detail


class TestTheLoadPathIntoTheMesh:
    def test_an_unmeshed_ingress_fails_preflight_naming_the_pod_and_the_consequence(
        self, make_backend, cluster
    ):
        linkerd_cluster(cluster, ingress_meshed=False)
        check = {c.name: c for c in on_linkerd(make_backend).preflight()}["ingress-meshed"]
        assert not check.ok
        assert f"pod {TRAEFIK_POD}: no linkerd-proxy container (containers: traefik)" in check.detail
        assert "every one reaches the primary" in check.detail
        assert "--ingress-namespace traefik" in check.detail

    def test_an_unmeshed_flagger_fails_preflight_it_would_roll_back_every_canary(self, make_backend, cluster):
        linkerd_cluster(cluster)
        cluster.pods["flagger-system"] = [
            PodInfo(FLAGGER_POD, ("flagger",), {"app.kubernetes.io/name": "flagger"})
        ]
        check = {c.name: c for c in on_linkerd(make_backend).preflight()}["flagger-meshed"]
        assert not check.ok
        assert f"pod {FLAGGER_POD}: no linkerd-proxy container" in check.detail
        assert "every check would fail" in check.detail

    def test_a_refused_prometheus_names_the_port_forward(self, make_backend, cluster):
        linkerd_cluster(cluster)
        del cluster.prometheus_values["vector(1)"]
        check = {c.name: c for c in on_linkerd(make_backend).preflight()}["prometheus"]
        assert not check.ok
        assert "port-forward svc/prometheus 19090:9090" in check.detail
        assert "--prometheus-url http://127.0.0.1:19090" in check.detail

    def test_no_ingress_pods_fails_preflight(self, make_backend, cluster):
        linkerd_cluster(cluster)
        backend = on_linkerd(make_backend, ingress_namespace="edge")
        check = {c.name: c for c in backend.preflight()}["ingress-meshed"]
        assert (check.ok, "namespace edge: no ingress pods" in check.detail) == (False, True)

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"nativeLB": False}, r"services\[0\]\.nativeLB: expected true, found False"),
            ({"nativeLB": None}, r"services\[0\]\.nativeLB: expected true, found None"),
            ({"kind": "TraefikService"}, r"services\[0\]: expected kind Service name faulty-app"),
            ({"name": "faulty-app-primary"}, r"found Service faulty-app-primary"),
        ],
    )
    def test_an_ingressroute_that_bypasses_the_split_is_refused_before_anything_is_created(
        self, make_backend, cluster, stable, tmp_path, change, expected
    ):
        manifests = copy_linkerd_manifests(tmp_path)
        path = manifests / "ingressroute.yaml"
        route = yaml.safe_load(path.read_text())
        service = route["spec"]["routes"][0]["services"][0]
        service.update(change)
        for key in [k for k, v in service.items() if v is None]:
            del service[key]
        path.write_text(yaml.safe_dump(route))
        linkerd_cluster(cluster)
        backend = on_linkerd(make_backend, manifests_dir=manifests)
        with pytest.raises(InputError, match=expected) as caught:
            backend.deploy(linkerd_spec(), stable)
        assert f"{manifests}: IngressRoute/faulty-app spec.routes[0]" in str(caught.value)
        assert cluster.namespaces == {}
        assert not {c.name: c for c in backend.preflight()}["option:--manifests"].ok

    def test_traefik_manifests_for_a_linkerd_scenario_are_refused(self, make_backend, cluster, stable):
        linkerd_cluster(cluster)
        backend = on_linkerd(make_backend, manifests_dir=PACKAGED_MANIFESTS)
        with pytest.raises(InputError, match=r"spec\.provider: expected gatewayapi:v1beta1 .* found traefik"):
            backend.deploy(linkerd_spec(), stable)
        assert cluster.namespaces == {}

    def test_a_backend_set_up_for_traefik_refuses_a_linkerd_canary(self, make_backend, cluster, stable):
        with pytest.raises(InputError, match="provider is gatewayapi:v1beta1, but this backend"):
            make_backend().deploy(linkerd_spec(), stable)


def copy_linkerd_manifests(tmp_path: Path) -> Path:
    """harness/data/cluster as a tree under tmp_path (the linkerd kustomization refers to ../app)."""
    shutil.copytree(LINKERD_MANIFESTS.parent, tmp_path / "cluster")
    return tmp_path / "cluster" / "linkerd"


class TestDeployOnLinkerd:
    def test_namespace_injected_mesh_evidence_of_app_and_ingress_journaled(
        self, make_backend, cluster, stable
    ):
        linkerd_cluster(cluster)
        backend = on_linkerd(make_backend)
        backend.deploy(linkerd_spec(), stable)
        assert cluster.namespaces[NAMESPACE].annotations["linkerd.io/inject"] == "enabled"
        data = backend.cluster_canary.to_data()
        assert data["mesh"]["meshed"] is True
        ingress = data["ingress_mesh"]
        assert (ingress["namespace"], ingress["meshed"]) == ("traefik", True)
        assert (
            ingress["pods"][0]["identity"] == "traefik.traefik.serviceaccount.identity.linkerd.cluster.local"
        )
        applied = {m["kind"] for m in cluster.applied[NAMESPACE]}
        assert {"HTTPRoute", "IngressRoute", "Canary"} <= applied

    def test_an_unmeshed_app_stops_the_run_and_the_namespace_is_cleaned(self, make_backend, cluster, stable):
        linkerd_cluster(cluster)
        cluster.pods[NAMESPACE] = [PodInfo("faulty-app-primary-1", ("app",), {"app": "faulty-app-primary"})]
        backend = on_linkerd(make_backend)
        with pytest.raises(InputError, match="pod faulty-app-primary-1: no linkerd-proxy container"):
            backend.deploy(linkerd_spec(), stable)
        backend.teardown()
        assert NAMESPACE not in cluster.namespaces

    def test_router_weights_come_from_the_httproute(self, make_backend, cluster, stable):
        linkerd_cluster(cluster)
        backend = on_linkerd(make_backend)
        backend.deploy(linkerd_spec(), stable)
        cluster.custom_objects[(NAMESPACE, "httproutes")] = [httproute(primary=80, canary=20)]
        observation = backend.observe()
        assert observation.samples[-1].router_weights == (80, 20)
        assert not [c for m, c in cluster.calls if m == "get_custom_object" and "traefikservices" in c]


def httproute(primary: int, canary: int, ab: bool = False) -> dict:
    both = [
        {"name": "faulty-app-primary", "port": 80, "weight": primary},
        {"name": "faulty-app-canary", "port": 80, "weight": canary},
    ]
    rules = [{"backendRefs": both}]
    if ab:  # Flagger's A/B route: the cohort rule to the canary, then a primary-only rule
        rules = [
            {"matches": [{"headers": [{"name": "x-canary", "value": "insider"}]}], "backendRefs": both},
            {"backendRefs": [{"name": "faulty-app-primary", "port": 80, "weight": 100}]},
        ]
    return {"metadata": {"name": "faulty-app", "resourceVersion": "7"}, "spec": {"rules": rules}}


class TestHttpRouteWeights:
    def test_weighted_route(self):
        assert httproute_weights(httproute(90, 10), "faulty-app") == (90, 10)

    def test_ab_route_skips_the_primary_only_rule(self):
        assert httproute_weights(httproute(0, 100, ab=True), "faulty-app") == (0, 100)

    def test_not_reconciled_yet(self):
        assert httproute_weights({"spec": {}}, "faulty-app") is None
        one = {"spec": {"rules": [{"backendRefs": [{"name": "faulty-app-primary", "weight": 100}]}]}}
        assert httproute_weights(one, "faulty-app") is None

    def test_an_omitted_weight_is_one_as_in_the_gateway_api(self):
        route = httproute(5, 5)
        for ref in route["spec"]["rules"][0]["backendRefs"]:
            del ref["weight"]
        assert httproute_weights(route, "faulty-app") == (1, 1)


class TestFaultsInAMeshedPod:
    def test_the_fault_put_runs_in_the_app_container(self, cluster, clock):
        cluster.pods[NAMESPACE] = [meshed("faulty-app-abc12-0"), meshed("faulty-app-abc12-1")]
        cluster.deployments[(NAMESPACE, "faulty-app")] = _ready_deployment(NAMESPACE, "faulty-app")
        injector = FaultInjector(cluster, NAMESPACE, "app=faulty-app", clock)
        injector.set([{"kind": "error", "rate": 0.5}])
        assert injector.problems == []
        assert len(cluster.execs) == 2

    def test_the_fake_refuses_an_unnamed_container_as_the_api_server_does(self, cluster):
        cluster.pods[NAMESPACE] = [meshed("p-1")]
        with pytest.raises(ClusterError, match="a container name must be specified"):
            cluster.exec_in_pod(NAMESPACE, "p-1", ["true"])
