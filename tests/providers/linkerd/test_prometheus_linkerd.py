"""Flagger's Linkerd queries on the real Prometheus server over the series ``metrics.py`` renders.

A driven ``InboundMetrics`` is served on 127.0.0.1: each scrape first records the requests due at
constant per-second rates since the start, so every counter is (to one request) a linear function of
time. The real server and the embedded evaluator both scrape it on a clock sped up 20× (5 s → 250 ms,
``[1m]`` → 3 s); both must give the success rate and p99 computed by hand from the rates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric

from harness.clock import ScaledClock
from harness.controllers.flagger.linkerd_queries import builtin_query
from harness.metrics.embedded import EmbeddedPrometheus
from harness.metrics.query_client import PrometheusQueryClient, PrometheusServer
from harness.processes.procs import ProcessGroup
from harness.providers.linkerd.metrics import InboundMetrics, InboundTarget

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        not PrometheusServer.available(),
        reason="the 'prometheus' binary is not installed (apt-get install prometheus)",
    ),
]

CANARY = InboundTarget("test", "podinfo", "podinfo-1", "127.0.0.1:9898")
PRIMARY = InboundTarget("test", "podinfo-primary", "podinfo-primary-1", "127.0.0.1:9899")
# (target, status, latency s, requests per real second)
FLOWS = (
    (CANARY, 200, 0.012, 80.0),
    (CANARY, 200, 0.250, 16.0),
    (CANARY, 500, 0.005, 4.0),
    (CANARY, None, 1.0, 2.0),
    (PRIMARY, 500, 0.9, 100.0),
)
SUCCESS = 96 / 102 * 100  # refused connections count as failures
P99 = 200 + 100 * (0.99 * 100 - 84) / 16  # 100 observed/s; rank 99 lies 15/16 into (200, 300]


class DrivenMetrics:
    """A collector that records the requests due since ``start`` before every scrape."""

    def __init__(self) -> None:
        self.metrics = InboundMetrics(compact=True)
        self.start = time.monotonic()
        self._done = [0] * len(FLOWS)
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        elapsed = time.monotonic() - self.start
        with self._lock:
            for index, (target, status, latency, rate) in enumerate(FLOWS):
                due = int(rate * elapsed)
                for _ in range(due - self._done[index]):
                    self.metrics.record(target, status, latency)
                self._done[index] = due
        yield from self.metrics.collect()


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[float, float]]]:
    work = tmp_path_factory.mktemp("linkerd-prometheus")
    clock = ScaledClock(20.0)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DrivenMetrics())
    http_server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    target = f"127.0.0.1:{http_server.server_address[1]}"
    group = ProcessGroup(work / "procs", stop_timeout=5.0)
    server = PrometheusServer(group, work_dir=work / "server", clock=clock, scrape_interval=5.0)
    http = httpx.Client(timeout=2.0, trust_env=False)
    embedded = EmbeddedPrometheus(
        lambda: http.get(f"http://{target}/metrics").text, clock=clock, scrape_interval_seconds=5.0
    ).start()
    try:
        server.start([target], startup_timeout=30.0)
        time.sleep(4.0)  # more than the 3 s real window of [1m]
        with PrometheusQueryClient(server.url, clock=clock) as client:
            yield {
                name: (client.query(promql), embedded.query(promql))
                for name, promql in (
                    ("success", builtin_query("linkerd", "request-success-rate", "test", "podinfo")),
                    ("p99", builtin_query("linkerd", "request-duration", "test", "podinfo")),
                )
            }
    finally:
        embedded.stop()
        server.stop()
        group.stop_all()
        http.close()
        http_server.shutdown()
        http_server.server_close()
        thread.join(5.0)


class TestRealServer:
    def test_success_rate(self, answers: dict[str, tuple[float, float]]) -> None:
        """96 good of 102 canary answers per second: 94.12 % on both engines; the primary is not selected."""
        server, embedded = answers["success"]
        assert server == pytest.approx(SUCCESS, rel=0.01)
        assert embedded == pytest.approx(server, rel=0.01)

    def test_p99_in_milliseconds(self, answers: dict[str, tuple[float, float]]) -> None:
        """p99 interpolates 15/16 into Linkerd's (200, 300] ms bucket: 293.75 ms on both engines."""
        server, embedded = answers["p99"]
        assert server == pytest.approx(P99, rel=0.01)
        assert embedded == pytest.approx(server, rel=0.01)
