"""The Linkerd stand-in process: Flagger's HTTPRoute applied per request, linkerd-proxy's metrics.

Every request goes to 127.0.0.1 and every loop is bounded by its count (``send``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from harness.backends.local.routers import HTTPRouteRouter
from harness.controllers.flagger.gateway_api import flagger_httproute
from harness.controllers.flagger.model import CanarySpec
from harness.errors import ProcessError
from harness.processes.ports import free_port
from harness.processes.procs import ProcessGroup
from harness.providers.linkerd.httproute import BackendRef, HTTPRoute, HTTPRouteRule
from harness.providers.linkerd.metrics import LATENCY_BUCKETS_MS
from harness.providers.linkerd.route_manifest import to_manifest
from harness.providers.linkerd.router_client import LinkerdRouterProcess, start_linkerd_router
from harness.providers.stand_in_config import WORKLOAD_HEADER
from harness.scenario.flagger_canary import parse_canary

CANARY = """
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  provider: gatewayapi:v1beta1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service:
    port: 9898
    gatewayRefs: [{name: podinfo, namespace: test, group: core, kind: Service, port: 9898}]
  analysis:
    interval: 1m
    threshold: 2
    iterations: 10
    match:
      - headers: {x-canary: {exact: insider}}
      - headers: {cookie: {regex: "^(.*?;)?(canary=always)(;.*)?$"}}
"""


def canary(**analysis: Any) -> CanarySpec:
    doc = yaml.safe_load(CANARY)
    doc["spec"]["analysis"].update(analysis)
    for key in [k for k, v in doc["spec"]["analysis"].items() if v is None]:
        del doc["spec"]["analysis"][key]
    return parse_canary(doc, "canary.yaml")


@dataclass(frozen=True)
class Rig:
    router: LinkerdRouterProcess
    v1: str
    v2: str
    broken: str  # answers every page with 500
    slow: str  # answers after 2 s
    group: ProcessGroup

    def flagger(self, spec: CanarySpec) -> HTTPRouteRouter:
        return HTTPRouteRouter(self.router.client, spec)


@pytest.fixture(scope="module")
def rig(
    tmp_path_factory: pytest.TempPathFactory, launch_standin: Callable[..., tuple[object, str]]
) -> Iterator[Rig]:
    group = ProcessGroup(tmp_path_factory.mktemp("linkerd-router"), stop_timeout=3.0)
    try:
        _, v1 = launch_standin(group, "v1")
        _, v2 = launch_standin(group, "v2")
        _, broken = launch_standin(group, "broken", {"STANDIN_MODE": "errors"})
        _, slow = launch_standin(group, "slow", {"STANDIN_MODE": "slow", "STANDIN_DELAY_MS": "2000"})
        router = start_linkerd_router(group, namespace="test", service="podinfo", seed="t")
        yield Rig(router, v1, v2, broken, slow, group)
        router.client.close()
    finally:
        group.stop_all()


def send(url: str, n: int, **headers: str) -> list[httpx.Response]:
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        return [http.get(f"{url}/api/orders", headers=headers) for _ in range(n)]


def served(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    return Counter((r.status_code, r.headers.get(WORKLOAD_HEADER)) for r in responses)


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


class TestRouting:
    def test_before_the_first_route_the_apex_service_selects_the_primary(
        self, rig: Rig, launch_standin: Callable[..., tuple[object, str]]
    ) -> None:
        """No HTTPRoute yet (before Flagger's Reconcile): everything reaches the primary pods."""
        group = ProcessGroup(rig.group.run_dir / "fresh", stop_timeout=3.0)
        try:
            fresh = start_linkerd_router(group, namespace="test", service="podinfo")
            fresh.client.set_endpoints([rig.v1], [rig.v2])
            assert fresh.client.route() is None
            assert served(send(fresh.url, 10)) == Counter({(200, "primary"): 10})
            fresh.client.close()
        finally:
            group.stop_all()

    def test_ab_iteration_sends_the_cohort_only_to_the_canary(self, rig: Rig) -> None:
        """SetRoutes(0, 100) of an A/B Canary: header and cookie cohorts → canary, the rest → primary."""
        rig.router.client.set_endpoints([rig.v1], [rig.v2])
        rig.flagger(canary()).set_routes(0, 100)
        assert served(send(rig.router.url, 10)) == Counter({(200, "primary"): 10})
        assert served(send(rig.router.url, 10, **{"x-canary": "insider"})) == Counter({(200, "canary"): 10})
        assert served(send(rig.router.url, 5, cookie="canary=always")) == Counter({(200, "canary"): 5})
        # the documented regex needs ';' without a space before the cookie (docs/linkerd-gateway-api-…)
        assert served(send(rig.router.url, 5, cookie="a=1; canary=always")) == Counter({(200, "primary"): 5})
        assert served(send(rig.router.url, 5, **{"x-canary": "Insider"})) == Counter({(200, "primary"): 5})
        assert {r.headers["X-App-Version"] for r in send(rig.router.url, 3, cookie="canary=always")} == {"v2"}

    def test_rollback_routes_the_cohort_back_to_the_primary(self, rig: Rig) -> None:
        """SetRoutes(100, 0) after an A/B iteration: the cohort rule keeps matching, weight 0 for canary."""
        router = rig.flagger(canary())
        rig.router.client.set_endpoints([rig.v1], [rig.v2])
        router.set_routes(0, 100)
        router.set_routes(100, 0)
        assert router.get_routes() == (100, 0)
        assert served(send(rig.router.url, 10, **{"x-canary": "insider"})) == Counter({(200, "primary"): 10})

    def test_canary_step_splits_by_weight_at_random(self, rig: Rig) -> None:
        """A 50/50 canary step: a binomial share (Linkerd draws per request), both sides served."""
        router = rig.flagger(canary(match=None, iterations=None, maxWeight=50, stepWeight=50))
        rig.router.client.set_endpoints([rig.v1], [rig.v2])
        router.set_routes(50, 50)
        assert router.get_routes() == (50, 50)
        got = served(send(rig.router.url, 200))
        assert set(got) == {(200, "primary"), (200, "canary")}
        assert 60 <= got[(200, "canary")] <= 140  # P(outside) < 1e-8 for Binomial(200, 0.5)

    def test_a_canary_without_endpoints_sends_its_share_to_the_primary(self, rig: Rig) -> None:
        """An unavailable backend is redrawn: no 503s while the primary has endpoints."""
        router = rig.flagger(canary(match=None, iterations=None, maxWeight=50, stepWeight=50))
        rig.router.client.set_endpoints([rig.v1], [])
        router.set_routes(50, 50)
        assert served(send(rig.router.url, 20)) == Counter({(200, "primary"): 20})
        rig.router.client.set_endpoints([], [])
        assert served(send(rig.router.url, 3)) == Counter({(503, None): 3})

    def test_a_request_no_rule_matches_is_a_404(self, rig: Rig) -> None:
        """hostnames the client's Host misses: the proxy's synthetic 404, no workload named."""
        rig.router.client.set_endpoints([rig.v1], [rig.v2])
        route = HTTPRoute(
            "podinfo", "test", (HTTPRouteRule((), (BackendRef("podinfo-primary", 100, 9898),)),),
            hostnames=("podinfo.test",),
        )  # fmt: skip
        rig.router.client.put_route(route)
        assert served(send(rig.router.url, 3)) == Counter({(404, None): 3})
        assert served(send(rig.router.url, 3, host="podinfo.test")) == Counter({(200, "primary"): 3})

    def test_a_route_the_stand_in_cannot_apply_is_refused(self, rig: Rig) -> None:
        """A lookahead regex (RE2 has none) fails SetRoutes; sent anyway it is a 400; the route stays."""
        router = rig.flagger(canary())
        router.set_routes(0, 100)
        before = rig.router.client.config()
        bad = canary(match=[{"headers": {"x-canary": {"regex": "(?=a)a"}}}])
        with pytest.raises(ProcessError, match="lookaround"):
            rig.flagger(bad).set_routes(0, 100)
        manifest = to_manifest(flagger_httproute(canary(), 0, 100))
        manifest["spec"]["rules"][0]["matches"][0]["headers"][0].update(
            type="RegularExpression", value="(?=a)"
        )
        with pytest.raises(ProcessError, match=r"HTTP 400.*lookaround"):
            rig.router.client._put({"route": manifest})
        assert rig.router.client.config() == before


class TestMetrics:
    def test_response_total_carries_classification(self, rig: Rig) -> None:
        """A 500-answering canary: response_total of deployment=podinfo is classification=failure,
        the primary's is success; latency buckets are Linkerd's, labelled as linkerd-viz stores them."""
        rig.router.client.set_endpoints([rig.v1], [rig.broken])
        rig.flagger(canary()).set_routes(0, 100)
        send(rig.router.url, 7, **{"x-canary": "insider"})
        send(rig.router.url, 5)
        text = rig.router.client.metrics_text()
        totals = samples(text, "response_total")
        by_class: Counter[tuple[str, str, str]] = Counter()
        for labels, value in totals:
            assert labels["direction"] == "inbound"
            assert labels["namespace"] == "test"
            by_class[labels["deployment"], labels["classification"], labels["status_code"]] += int(value)
        assert by_class[("podinfo", "failure", "500")] >= 7
        assert by_class[("podinfo-primary", "success", "200")] >= 5
        assert not any(c == "failure" for d, c, _ in by_class if d == "podinfo-primary")
        bounds = {labels["le"] for labels, _ in samples(text, "response_latency_ms_bucket")}
        assert bounds == {str(b) for b in LATENCY_BUCKETS_MS} | {"+Inf"}

    def test_a_refused_connection_is_a_failure_without_status_code(self, rig: Rig) -> None:
        """A canary endpoint nobody listens on: 502 to the client, failure with error="unclassified"."""
        dead = f"http://127.0.0.1:{free_port()}"
        rig.router.client.set_endpoints([rig.v1], [dead])
        rig.flagger(canary()).set_routes(0, 100)
        assert served(send(rig.router.url, 3, **{"x-canary": "insider"})) == Counter({(502, "canary"): 3})
        port = dead.rsplit(":", 1)[1]
        failures = [
            (labels, value)
            for labels, value in samples(rig.router.client.metrics_text(), "response_total")
            if labels["target_addr"].endswith(f":{port}")
        ]
        assert len(failures) == 1
        labels, value = failures[0]
        assert (labels["classification"], labels["error"], value) == ("failure", "unclassified", 3.0)
        assert "status_code" not in labels

    def test_a_caller_that_gives_up_is_a_request_without_a_response(self, rig: Rig, poll: Any) -> None:
        """A hung canary and a client timeout of 0.3 s: request_total counts it, response_total does not
        (the proxy records a class only when the response head arrives), so success rate cannot see it."""
        rig.router.client.set_endpoints([rig.v1], [rig.slow])
        rig.flagger(canary()).set_routes(0, 100)
        port = rig.slow.rsplit(":", 1)[1]

        def counts() -> tuple[float, float]:
            text = rig.router.client.metrics_text()
            mine = [(n, v) for n in ("request_total", "response_total") for labels, v in samples(text, n)
                    if labels["target_addr"].endswith(f":{port}")]  # fmt: skip
            return (
                sum(v for n, v in mine if n == "request_total"),
                sum(v for n, v in mine if n != "request_total"),
            )

        with httpx.Client(timeout=0.3, trust_env=False) as http:
            for _ in range(2):
                with pytest.raises(httpx.TimeoutException):
                    http.get(f"{rig.router.url}/", headers={"x-canary": "insider"})
        assert poll(lambda: counts()[0] == 2, 5.0), counts()
        assert counts() == (2, 0)
