"""Linkerd scenarios (provider gatewayapi:v1beta1) through ScenarioRun + KubernetesBackend against
EmulatedCluster on Flagger's Gateway API router: the load enters meshed Traefik, whose proxy applies the
HTTPRoute Flagger writes (weights, header and cookie matches) — and when that path is missing, no run that
judges a canary which saw no traffic comes out GO."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any, ClassVar

import yaml

from harness.backends.kubernetes.backend import KubernetesBackend, KubernetesOptions
from harness.backends.kubernetes.cluster_provider import LINKERD_MANIFESTS
from harness.clock import FakeClock
from harness.model import Decision
from harness.run.execute import run_scenarios
from harness.run.options import RunOptions
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.loader import load_scenario
from harness.testing.cluster_load import ClusterLoad
from harness.testing.emulated_cluster import EmulatedCluster
from harness.testing.emulated_mesh import INGRESS_POD
from harness.testing.http_route import FakeHTTPRouteRouter

REPO = Path(__file__).resolve().parents[2]
SCALE = 2.0  # linkerd-viz scrapes every 10 s: a 1m check window stays ≥ 2 scrapes up to scale 3
GATEWAY = "gatewayapi:v1beta1"


def run(tmp_path: Path, cluster: EmulatedCluster, names: list[str], manifests_dir: Path = LINKERD_MANIFESTS):  # type: ignore[no-untyped-def]
    def backend(s, options, run_dir):  # type: ignore[no-untyped-def]
        cluster.bind_clock(cluster.clock)
        opts = KubernetesOptions(
            context_allow=("kind-canary-chaos",),
            manifests_dir=manifests_dir,
            provider=GATEWAY,
            run_id=s.id,
            time_scale=SCALE,
            scrape_interval_seconds=10.0,
            check_ingress=False,  # load goes to the emulated cluster, not through a Traefik on 127.0.0.1
        )
        return KubernetesBackend(
            cluster, opts, clock=cluster.clock, epoch=lambda: 1_800_000_000.0, linkerd=lambda argv: ""
        )

    def load(options, run_dir, backend):  # type: ignore[no-untyped-def]
        return lambda s, ingress: ClusterLoad.for_ingress(cluster, s, ingress)

    options = RunOptions(backend="kubernetes", time_scale=SCALE, report_dir=tmp_path, progress=False)
    scenarios = [load_scenario(REPO / "scenarios" / f"{n}.yaml") for n in names]
    return run_scenarios(scenarios, options, backend_factory=backend, load_factory=load)


def linkerd_cluster(**kwargs: Any) -> EmulatedCluster:
    return EmulatedCluster(clock=FakeClock(scale=SCALE), flagger_provider=GATEWAY, **kwargs)


def served(record: Any, workload: str, cohort: str | None = None) -> int:
    return sum(
        b.requests for b in record.load if b.workload == workload and (cohort is None or b.cohort == cohort)
    )


def test_a_bad_canary_on_linkerd_is_rolled_back_with_the_mesh_evidence(tmp_path: Path) -> None:
    cluster = linkerd_cluster()
    record = run(tmp_path, cluster, ["linkerd-5xx"]).records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert any("Rolling back" in e.message for e in record.events)
    assert 0 < served(record, "canary") < served(record, "primary")  # the HTTPRoute's 10 % reached it
    assert cluster.namespaces == {}  # cleaned up
    assert record.cluster_canary is not None
    mesh = record.cluster_canary["mesh"]
    assert mesh["meshed"] is True
    assert mesh["namespace"].startswith("canary-chaos-")
    assert mesh["pods"][0]["identity"] == (
        f"default.{mesh['namespace']}.serviceaccount.identity.linkerd.cluster.local"
    )
    assert record.cluster_canary["ingress_mesh"]["pods"][0]["pod"] == INGRESS_POD
    # the router weights the backend read are the HTTPRoute's: the canary walked only its first step
    assert max(s.router_weights[1] for s in record.samples if s.router_weights) == 10


def test_a_healthy_canary_on_linkerd_is_promoted(tmp_path: Path) -> None:
    record = run(tmp_path, linkerd_cluster(), ["linkerd-control"]).records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert any(m.kind == "promotion" for m in record.marks)


def test_an_ab_header_fault_hurts_only_the_cohort_and_is_rolled_back(tmp_path: Path) -> None:
    record = run(tmp_path, linkerd_cluster(), ["linkerd-ab-header"]).records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert served(record, "canary", "insider") > 0
    assert served(record, "canary") == served(record, "canary", "insider")  # the header rule only


def test_a_dropped_prefix_match_leaks_past_the_cohort_and_is_no_go_as_declared(tmp_path: Path) -> None:
    record = run(tmp_path, linkerd_cluster(), ["linkerd-cohort-leak"]).records[0]
    assert record.verdict is not None, record.incomplete_reason
    assert record.decision == Decision.NO_GO
    failed = {m.name for m in record.verdict.measures if m.passed is False}
    assert "cohort_boundary" in failed, record.verdict
    assert record.verdict.as_expected
    assert record.counted_decision == Decision.GO
    assert served(record, "canary", "-") > 0  # users in no cohort reached the canary


def test_with_the_ingress_not_meshed_a_fault_run_is_not_go_and_names_the_traefik_pod(tmp_path: Path) -> None:
    """Unmeshed Traefik: no request is split, the canary sees none, Flagger's checks find no values. A
    rollback for that reason must not pass the fault scenario: the run is refused at preflight."""
    cluster = linkerd_cluster(ingress_meshed=False)
    record = run(tmp_path, cluster, ["linkerd-5xx"]).records[0]
    assert record.decision != Decision.GO
    reason = record.incomplete_reason or ""
    assert f"pod {INGRESS_POD}: no linkerd-proxy container" in reason, reason
    assert "ingress pods" in reason
    assert not any(m == "create_namespace" for m, _ in cluster.calls)  # refused before anything is written


def test_an_ingressroute_to_pod_endpoints_is_refused(tmp_path: Path) -> None:
    manifests = tmp_path / "linkerd"
    shutil.copytree(LINKERD_MANIFESTS, manifests)
    shutil.copytree(LINKERD_MANIFESTS.parent / "app", tmp_path / "app")
    shutil.copytree(LINKERD_MANIFESTS.parent / "event-receiver", tmp_path / "event-receiver")
    route = manifests / "ingressroute.yaml"
    route.write_text(route.read_text().replace("nativeLB: true", "nativeLB: false"))
    cluster = linkerd_cluster()
    record = run(tmp_path / "out", cluster, ["linkerd-5xx"], manifests_dir=manifests).records[0]
    assert record.decision != Decision.GO
    assert "nativeLB: expected true, found False" in (record.incomplete_reason or ""), (
        record.incomplete_reason
    )
    assert cluster.namespaces == {}


class TestLoadPath:
    """ClusterLoad splits through the HTTPRoute only when the mesh path holds (what a real cluster does)."""

    ROUTE: ClassVar[dict[str, Any]] = {"kind": "IngressRoute", "spec": {"routes": [{"services": [
        {"kind": "Service", "name": "faulty-app", "port": 80, "nativeLB": True}]}]}}  # fmt: skip

    def canary_share(self, *, ingress_meshed: bool = True, route: dict[str, Any] | None = None) -> float:
        scenario = load_scenario(REPO / "scenarios" / "linkerd-5xx.yaml")
        cluster = linkerd_cluster(ingress_meshed=ingress_meshed)
        ns = "canary-chaos-l0ad"
        cluster.create_namespace(ns, {}, {"linkerd.io/inject": "enabled"})
        spec = parse_canary(
            yaml.safe_load((LINKERD_MANIFESTS / "canary.yaml").read_text()), default_namespace=ns
        )
        app = cluster.apps[ns]
        app.http_route = FakeHTTPRouteRouter(spec)
        app.ingress_routes = [route or self.ROUTE]
        app.set_routes(70, 30)
        load = ClusterLoad(cluster, scenario, ns)
        load.start()
        cluster.clock.advance(10.0)
        buckets = load.collect()
        total = sum(b.requests for b in buckets)
        assert total == 10 * 200
        return sum(b.requests for b in buckets if b.workload == "canary") / total

    def test_a_meshed_ingress_to_the_apex_service_splits_by_the_route(self) -> None:
        assert self.canary_share() == 0.3

    def test_an_unmeshed_ingress_sends_everything_to_the_primary(self) -> None:
        assert self.canary_share(ingress_meshed=False) == 0.0

    def test_an_ingressroute_without_native_lb_sends_everything_to_the_primary(self) -> None:
        endpoints: Any = copy.deepcopy(self.ROUTE)
        endpoints["spec"]["routes"][0]["services"][0]["nativeLB"] = False
        assert self.canary_share(route=endpoints) == 0.0
