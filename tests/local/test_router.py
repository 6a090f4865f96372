"""The Traefik stand-in router process, driven through RouterClient."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.errors import ProcessError
from harness.processes.ports import free_port, is_port_free, wait_listening, wait_port_free
from harness.processes.procs import ProcessGroup
from harness.providers.traefik.router_client import RouterClient, RouterProcess, start_router
from harness.providers.traefik.router_config import WORKLOAD_HEADER

PRIMARY = "test-podinfo-primary-80@kubernetescrd"
CANARY = "test-podinfo-canary-80@kubernetescrd"


@dataclass(frozen=True)
class Rig:
    router: RouterProcess
    v1: str
    v2: str
    slow: str
    group: ProcessGroup

    @property
    def client(self) -> RouterClient:
        return self.router.client

    def configure(self, primary: int, canary: int, primary_eps: list[str], canary_eps: list[str]) -> None:
        """Apply a configuration from a fresh balancer (a change is forced first, as Traefik rebuilds)."""
        self.client.set_endpoints([], [])
        self.client.set_endpoints(primary_eps, canary_eps)
        self.client.set_routes(primary, canary)


@pytest.fixture(scope="module")
def rig(
    tmp_path_factory: pytest.TempPathFactory, launch_standin: Callable[..., tuple[object, str]]
) -> Iterator[Rig]:
    """Two stand-in versions, one slow app, and a router with a 0.5 s backend timeout."""
    group = ProcessGroup(tmp_path_factory.mktemp("router"), stop_timeout=3.0)
    try:
        _, v1 = launch_standin(group, "v1")
        _, v2 = launch_standin(group, "v2")
        _, slow = launch_standin(group, "slow", {"STANDIN_MODE": "slow", "STANDIN_DELAY_MS": "2000"})
        router = start_router(group, namespace="test", service="podinfo", backend_timeout=0.5)
        yield Rig(router, v1, v2, slow, group)
        router.client.close()
    finally:
        group.stop_all()


def send(url: str, n: int) -> list[httpx.Response]:
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        return [http.get(f"{url}/api/orders") for _ in range(n)]


def versions(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(r.headers.get("X-App-Version", "none") for r in responses)


def samples(metrics_text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics_text)
        for s in family.samples
    }


class TestTrafficSplit:
    @pytest.mark.parametrize(("primary", "canary", "n", "expected"), [(90, 10, 200, 20), (95, 5, 200, 10)])
    def test_split_is_exact_by_weight(
        self, rig: Rig, primary: int, canary: int, n: int, expected: int
    ) -> None:
        """200 requests at 90/10 reach the canary exactly 20 times (95/5: exactly 10)."""
        rig.configure(primary, canary, [rig.v1], [rig.v2])
        got = versions(send(rig.router.url, n))
        assert got == Counter({"v1": n - expected, "v2": expected})

    def test_every_answer_names_the_child_that_served_it(self, rig: Rig) -> None:
        """Both children run v2 (as while Promoting): only the workload header tells them apart."""
        rig.configure(50, 50, [rig.v2], [rig.v2])
        served = Counter(r.headers.get(WORKLOAD_HEADER) for r in send(rig.router.url, 20))
        assert served == Counter({"primary": 10, "canary": 10})
        rig.configure(50, 50, [rig.v1], [])
        errors = {r.headers.get(WORKLOAD_HEADER) for r in send(rig.router.url, 4) if r.status_code == 503}
        assert errors == {"canary"}  # router-made answers name the child too

    def test_weights_change_live_without_restart(self, rig: Rig) -> None:
        """A weight change applies to the next request; the router pid stays the same."""
        pid = rig.router.process.pid
        rig.configure(100, 0, [rig.v1], [rig.v2])
        assert versions(send(rig.router.url, 20)) == Counter({"v1": 20})
        generation = rig.client.config().generation
        rig.client.set_routes(50, 50)
        assert versions(send(rig.router.url, 20)) == Counter({"v1": 10, "v2": 10})
        assert rig.client.config().generation == generation + 1
        assert rig.router.process.pid == pid
        assert rig.router.process.alive

    def test_get_routes_follows_flagger(self, rig: Rig) -> None:
        """GetRoutes reports (primary, 100 − primary), and the canary entry is absent at weight 0."""
        rig.client.set_routes(70, 30)
        assert rig.client.get_routes() == (70, 30)
        rig.client.set_routes(100, 0)
        assert rig.client.get_routes() == (100, 0)
        assert rig.client.config().weights.canary == 0

    def test_requests_round_robin_over_endpoints(self, rig: Rig) -> None:
        """Within one child Service, requests alternate over its ready endpoints."""
        rig.configure(100, 0, [rig.v1, rig.v2], [])
        assert versions(send(rig.router.url, 10)) == Counter({"v1": 5, "v2": 5})

    def test_invalid_configs_are_refused(self, rig: Rig) -> None:
        """Both weights 0, bad endpoint URLs and empty updates are 400s, and the config is unchanged."""
        rig.configure(80, 20, [rig.v1], [rig.v2])
        before = rig.client.config()
        with pytest.raises(ProcessError, match="both 0"):
            rig.client.set_routes(0, 0)
        with pytest.raises(ProcessError, match="HTTP 400"):
            rig.client.set_endpoints(["ftp://x:1"], [])
        with pytest.raises(ProcessError, match="HTTP 400"):
            rig.client._put({})
        assert rig.client.config() == before


class TestRouterErrors:
    def test_no_endpoints_is_503(self, rig: Rig) -> None:
        """A child Service without ready endpoints answers 503 for its share of the traffic."""
        rig.configure(50, 50, [rig.v1], [])
        statuses = Counter(r.status_code for r in send(rig.router.url, 10))
        assert statuses == Counter({200: 5, 503: 5})

    def test_dead_backend_is_502(self, rig: Rig) -> None:
        """An endpoint that refuses connections gives 502 Bad Gateway."""
        dead = free_port()
        assert is_port_free(dead)
        rig.configure(100, 0, [f"http://127.0.0.1:{dead}"], [])
        assert {r.status_code for r in send(rig.router.url, 3)} == {502}

    def test_slow_backend_is_504_after_the_timeout(self, rig: Rig) -> None:
        """A backend slower than --backend-timeout (0.5 s) gives 504 Gateway Timeout in about 0.5 s."""
        rig.configure(100, 0, [rig.slow], [])
        started = time.monotonic()
        response = send(rig.router.url, 1)[0]
        elapsed = time.monotonic() - started
        assert response.status_code == 504
        assert 0.45 <= elapsed < 1.5


class TestMetrics:
    def test_traefik_names_labels_buckets_and_counts(self, rig: Rig) -> None:
        """Per-child series carry code/method/protocol/service exactly, buckets 0.1/0.3/1.2/5/+Inf, and
        router-made 503s count for the child that was picked."""
        before = samples(rig.client.metrics_text())
        rig.configure(50, 50, [rig.v1], [])
        send(rig.router.url, 20)
        text = rig.client.metrics_text()
        after = samples(text)

        def delta(name: str, service: str, code: str, **extra: str) -> float:
            labels = {"code": code, "method": "GET", "protocol": "http", "service": service, **extra}
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0.0) - before.get(key, 0.0)

        assert delta("traefik_service_requests_total", PRIMARY, "200") == 10
        assert delta("traefik_service_requests_total", CANARY, "503") == 10
        assert delta("traefik_service_request_duration_seconds_bucket", CANARY, "503", le="+Inf") == 10
        assert delta("traefik_service_request_duration_seconds_count", PRIMARY, "200") == 10
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert families["traefik_service_requests"].type == "counter"
        assert families["traefik_service_request_duration_seconds"].type == "histogram"
        assert set(families) == {"traefik_service_requests", "traefik_service_request_duration_seconds"}
        les = {
            s.labels["le"]
            for s in families["traefik_service_request_duration_seconds"].samples
            if "le" in s.labels
        }
        assert les == {"0.1", "0.3", "1.2", "5", "+Inf"}
        for family in families.values():
            for sample in family.samples:
                assert set(sample.labels) - {"le"} == {"code", "method", "protocol", "service"}
                assert sample.labels["service"] in {PRIMARY, CANARY}
        assert "_created" not in text

    def test_admin_health_and_config_endpoints(self, rig: Rig) -> None:
        """GET /healthz answers ok and GET /config returns weights, endpoints and generation."""
        assert rig.client.healthy()
        rig.configure(90, 10, [rig.v1], [rig.v2])
        config = rig.client.config()
        assert (config.weights.primary, config.weights.canary) == (90, 10)
        assert config.endpoints.primary == (rig.v1,)
        assert config.endpoints.canary == (rig.v2,)


class TestRouterProcess:
    def test_sigterm_stops_gracefully_and_frees_ports(self, group: ProcessGroup) -> None:
        """SIGTERM ends the router with exit code 0 and releases both ports."""
        router = start_router(group, namespace="test", service="podinfo")
        port = int(router.url.rsplit(":", 1)[1])
        admin_port = int(router.admin_url.rsplit(":", 1)[1])
        assert wait_listening(port, 5.0)
        router.process.signal_group(signal.SIGTERM)
        assert router.process.wait(10.0) == 0
        assert wait_port_free(port, 5.0)
        assert wait_port_free(admin_port, 5.0)
        router.client.close()

    def test_client_errors_are_process_errors(self) -> None:
        """An unreachable admin API raises ProcessError, not an httpx exception."""
        client = RouterClient(f"http://127.0.0.1:{free_port()}", timeout=1.0)
        with pytest.raises(ProcessError) as caught:
            client.get_routes()
        assert not isinstance(caught.value, httpx.HTTPError)
        assert not client.healthy()
        client.close()
