"""The real Prometheus server: lifecycle, and a differential test against the embedded evaluator.

The differential run serves a synthetic Traefik exporter on 127.0.0.1 and lets both the real server and
the embedded evaluator scrape it on a clock sped up 20× (5 s scrape → 250 ms real, ``[1m]`` → 3 s real).

- Live: Flagger's two builtin queries, sent verbatim (the client rescales ``[1m]``), agree within 1e-6
  relative. Both engines scrape at different instants, but every counter of one scrape is computed at
  one instant and grows linearly, so scrape-timestamp jitter changes all extrapolated rates of a query
  by the same factor, which cancels in the success ratio and in the quantile's bucket ratios.
- Replay: the raw samples the real server stored (its own timestamps) are fed into the evaluator and
  both evaluate at the same ~100 instants across a 500-series appearing and a counter reset; they must
  agree to 1e-9 (only float rounding differs), including where both say "no values".
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.clock import FakeClock, ScaledClock
from harness.controllers.flagger.queries import request_duration, request_success_rate
from harness.errors import NoValuesFound, ProcessError
from harness.metrics.embedded import EmbeddedPrometheus
from harness.metrics.query_client import PrometheusQueryClient, PrometheusServer, decode_query_response
from harness.metrics.scrape import ScrapedSample, labels_of
from harness.processes.ports import free_port, is_port_free
from harness.processes.procs import ProcessGroup, pid_alive

from .synthetic_traefik import CANARY, CANARY_2, PRIMARY, Flow, SyntheticTraefik

needs_binary = pytest.mark.skipif(
    not PrometheusServer.available(),
    reason="the 'prometheus' binary is not installed (apt-get install prometheus; CI installs it)",
)
SCALE = 20.0
BUCKET = "traefik_service_request_duration_seconds_bucket"
STEADY = (
    Flow(CANARY, 200, 40, 0.05),
    Flow(CANARY, 200, 10, 0.2),
    Flow(CANARY, 404, 5, 0.02),
    Flow(CANARY, 200, 2, 0.8),
    Flow(PRIMARY, 200, 50, 0.05),
    Flow(PRIMARY, 500, 5, 0.05),
)


@dataclass(frozen=True)
class Outcome:
    value: float | None  # None: "no values found"


@dataclass
class Recording:
    live: dict[str, tuple[float, float]]  # query name → (server, embedded)
    replay: list[tuple[str, float, Outcome, Outcome]]  # (query, eval time, server, embedded)
    first_500_samples: tuple[float, float]


def outcome(run) -> Outcome:
    try:
        return Outcome(run())
    except NoValuesFound:
        return Outcome(None)


def shifted(epoch_seconds: float, base: int) -> float:
    """Seconds since ``base`` via whole milliseconds (Prometheus' resolution), so no float error creeps in."""
    return (round(epoch_seconds * 1000) - base * 1000) / 1000


def replay_into(result: list[dict[str, Any]], base: int) -> EmbeddedPrometheus:
    """An evaluator holding exactly the samples the server stored (timestamps shifted by ``base``)."""
    by_time: dict[float, list[ScrapedSample]] = {}
    for series in result:
        labels = labels_of(series["metric"].pop("__name__"), series["metric"])
        for at, value in series["values"]:
            by_time.setdefault(at, []).append(ScrapedSample(labels, float(value)))
    replay = EmbeddedPrometheus(lambda: "", clock=FakeClock(), retention_seconds=math.inf)
    for at in sorted(by_time):
        replay.store.add(shifted(at, base), by_time[at])
    return replay


def eval_times(start: float, stop: float, samples: list[float], windows: tuple[float, ...]) -> list[float]:
    """Millisecond instants in [start, stop] not within 2 ms of a sample or a window edge on a sample."""
    times = [round(start + i * 0.05, 3) for i in range(round((stop - start) / 0.05) + 1)]
    edges = [t + w for t in samples for w in (0.0, *windows)]
    return [t for t in times if all(abs(t - edge) > 0.002 for edge in edges)]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    work = tmp_path_factory.mktemp("prometheus")
    clock = ScaledClock(SCALE)
    exporter = SyntheticTraefik(time.monotonic, STEADY)
    group = ProcessGroup(work / "procs", stop_timeout=5.0)
    http = httpx.Client(timeout=2.0, trust_env=False)
    embedded: EmbeddedPrometheus | None = None
    server = PrometheusServer(group, work_dir=work / "server", clock=clock, scrape_interval=5.0)
    try:
        target = exporter.serve()
        embedded = EmbeddedPrometheus(
            lambda: http.get(f"http://{target}/metrics").text, clock=clock, scrape_interval_seconds=5.0
        ).start()
        server.start([target], startup_timeout=30.0)
        go, go_wall = time.monotonic(), time.time()
        exporter.add(
            Flow(CANARY, 500, 8, 2.0, start=go + 0.6),  # a new series while the queries run
            Flow(CANARY_2, 200, 20, 0.1, start=go - 30, reset_at=go + 1.1),  # a router restart
        )
        time.sleep(go + 4.6 - time.monotonic())  # 3 s window after the restart and the 500s settled
        with PrometheusQueryClient(server.url, clock=clock) as client:
            live = {
                name: (client.query(q), embedded.query(q))
                for name, q in (
                    ("success", request_success_rate("test", "podinfo")),
                    ("duration", request_duration("test", "podinfo")),
                )
            }
        raw = http.get(f"{server.url}/api/v1/query", params={"query": f'{{__name__="{BUCKET}"}}[2m]'})
        result = raw.json()["data"]["result"]
        base = math.floor(min(float(s["values"][0][0]) for s in result))
        stamps = sorted({float(at) for s in result for at, _ in s["values"]})
        first_500 = next(
            [float(at) for at, _ in s["values"]][:2]
            for s in result
            if s["metric"]["code"] == "500"
            and s["metric"]["service"] == CANARY
            and s["metric"]["le"] == "+Inf"
        )
        replay = replay_into(result, base)
        samples: list[tuple[str, float, Outcome, Outcome]] = []
        for window in ("3s", "1s"):
            for name, promql in (
                (f"success[{window}]", request_success_rate("test", "podinfo", window)),
                (f"duration[{window}]", request_duration("test", "podinfo", window)),
            ):
                for at in eval_times(go_wall - 0.5, go_wall + 4.5, stamps, (3.0, 1.0)):

                    def on_server(promql: str = promql, at: float = at) -> float:
                        response = http.get(
                            f"{server.url}/api/v1/query", params={"query": promql, "time": f"{at:.3f}"}
                        )
                        return decode_query_response(response.content)

                    def on_replay(promql: str = promql, at: float = at) -> float:
                        return replay.evaluate(promql, shifted(at, base))

                    samples.append((name, at, outcome(on_server), outcome(on_replay)))
        yield Recording(live, samples, (first_500[0], first_500[1]))
    finally:
        if embedded is not None:
            embedded.stop()
        server.stop()
        group.stop_all()
        http.close()
        exporter.close()


@needs_binary
class TestDifferential:
    def test_live_success_rate_agrees_with_the_embedded_evaluator(self, recording):
        """Non-5xx 77/s of 85/s on the canary services: both engines say 90.588 %."""
        server, embedded = recording.live["success"]
        assert server == pytest.approx(embedded, rel=1e-6)
        assert server == pytest.approx(77 / 85 * 100, rel=1e-6)

    def test_live_p99_agrees_with_the_embedded_evaluator(self, recording):
        """Bucket rates 65/75/77/85/85: both engines interpolate 4596.25 ms."""
        server, embedded = recording.live["duration"]
        assert server == pytest.approx(embedded, rel=1e-6)
        assert server == pytest.approx(4596.25, rel=1e-6)

    def test_replayed_samples_evaluate_identically(self, recording):
        """At every instant the evaluator and Prometheus agree to 1e-9, "no values" included."""
        assert len(recording.replay) > 200
        for name, at, server, embedded in recording.replay:
            assert (server.value is None) == (embedded.value is None), (name, at, server, embedded)
            if server.value is not None and embedded.value is not None:
                assert embedded.value == pytest.approx(server.value, rel=1e-9, abs=1e-9), (name, at)

    def test_new_500_series_counts_only_from_its_second_sample(self, recording):
        """Between the 500 series' first and second scrape both engines still report 100 %."""
        first, second = recording.first_500_samples
        success = [(at, s.value) for name, at, s, _ in recording.replay if name == "success[1s]"]
        between = [value for at, value in success if first < at < second]
        after = [value for at, value in success if second < at < second + 0.5]
        assert between
        assert all(value == 100.0 for value in between)
        assert after
        assert all(value is not None and value < 100.0 for value in after)


class TestServerLifecycle:
    @needs_binary
    def test_starts_answers_and_stops_cleanly(self, tmp_path: Path):
        """Ready and online on loopback; after stop the process is gone and the port is free."""
        group = ProcessGroup(tmp_path / "procs", stop_timeout=5.0)
        server = PrometheusServer(group, work_dir=tmp_path / "prom", clock=ScaledClock(20), scrape_interval=5)
        try:
            server.start([], startup_timeout=20.0)
            pid, port = server.pid, server.port
            assert pid is not None
            assert server.running
            with PrometheusQueryClient(server.url, clock=ScaledClock(20)) as client:
                assert client.is_online() is True
            config = server.config_path.read_text()
            assert "scrape_interval: 250ms" in config
        finally:
            server.stop()
            group.stop_all()
        assert not pid_alive(pid)
        assert is_port_free(port)
        assert not server.running
        assert group.processes == ()

    @needs_binary
    def test_a_relative_work_dir_still_discovers_targets(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`--report-dir reports/` is relative: Prometheus resolves file_sd paths against its config's
        directory, so a relative target file would be looked up at reports/…/reports/… and never found."""
        monkeypatch.chdir(tmp_path)
        group = ProcessGroup(Path("procs"), stop_timeout=5.0)
        server = PrometheusServer(group, work_dir=Path("reports/prom"), clock=ScaledClock(60))
        try:
            server.start([f"127.0.0.1:{free_port()}"], startup_timeout=30.0)  # waits for the first scrape
        finally:
            server.stop()
            group.stop_all()

    def test_scrape_interval_is_scaled_with_a_floor(self, tmp_path: Path):
        """5 s emulated is 83 ms real at scale 60, and never less than 50 ms."""

        def interval(scale: float) -> str:
            return PrometheusServer(work_dir=tmp_path, clock=FakeClock(scale=scale)).scrape_interval_text

        assert (interval(1), interval(60), interval(1000)) == ("5000ms", "83ms", "50ms")

    def test_missing_binary_is_a_process_error(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        """Without the binary on PATH, ``available`` is False and ``start`` explains what to install."""
        monkeypatch.setenv("PATH", str(tmp_path))
        assert PrometheusServer.available() is False
        server = PrometheusServer(work_dir=tmp_path / "prom", clock=FakeClock())
        with pytest.raises(ProcessError, match=r"Debian package 'prometheus'"):
            server.start([])
        assert os.listdir(tmp_path) == []
