"""Flagger's Prometheus client: error mapping against a scripted HTTP server, and PromQL time scaling."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from harness.clock import FakeClock
from harness.controllers.flagger.queries import request_duration, request_success_rate
from harness.errors import MetricsError, NoValuesFound
from harness.metrics.query_client import PrometheusQueryClient, render_sent, scale_promql
from harness.processes.ports import free_port


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    delay: float = 0.0  # real seconds before answering


@dataclass
class FakePrometheus:
    """Answers every ``/api/v1/query`` with ``reply`` and records the ``query`` parameters it got."""

    reply: Reply = field(default_factory=Reply)
    queries: list[str] = field(default_factory=list)
    url: str = ""


def vector(*values: str) -> str:
    result = [{"metric": {"i": str(i)}, "value": [1.7e9, v]} for i, v in enumerate(values)]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


@pytest.fixture
def fake() -> Iterator[FakePrometheus]:
    state = FakePrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.queries.extend(parse_qs(urlparse(self.path).query).get("query", []))
            reply = state.reply
            time.sleep(reply.delay)
            payload = reply.body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def client(fake: FakePrometheus) -> Iterator[PrometheusQueryClient]:
    with PrometheusQueryClient(fake.url, clock=FakeClock(scale=20)) as prom:
        yield prom


class TestResults:
    def test_multiple_series_last_value_wins(self, fake, client):
        """Without ``sum()`` Flagger silently takes the last series' value (spec §5.3)."""
        fake.reply = Reply(body=vector("1", "2", "3.5"))
        assert client.query("x") == 3.5

    def test_plus_inf_is_a_number(self, fake, client):
        """+Inf is accepted as a value."""
        fake.reply = Reply(body=vector("+Inf"))
        assert client.query("x") == math.inf

    @pytest.mark.parametrize("body", [vector(), vector("NaN"), vector("1", "NaN"), "{}"])
    def test_empty_or_nan_is_no_values_found(self, fake, client, body):
        """Empty vector, NaN (also as the last of several) and a missing result → NoValuesFound."""
        fake.reply = Reply(body=body)
        with pytest.raises(NoValuesFound, match="no values found"):
            client.query("x")

    def test_matrix_result_is_an_error(self, fake, client):
        """A range result is "query returned multiple values", not "no values"."""
        matrix = {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "1"], [2, "2"]]}]}
        fake.reply = Reply(body=json.dumps({"status": "success", "data": matrix}))
        with pytest.raises(MetricsError, match="query returned multiple values") as info:
            client.query("x[1m]")
        assert not isinstance(info.value, NoValuesFound)

    def test_scalar_result_fails_decoding(self, fake, client):
        """``resultType: scalar`` cannot be decoded by Flagger's vector struct → query error."""
        scalar = {"resultType": "scalar", "result": [1.7e9, "1"]}
        fake.reply = Reply(body=json.dumps({"status": "success", "data": scalar}))
        with pytest.raises(MetricsError, match="error unmarshaling result") as info:
            client.query("scalar(x)")
        assert not isinstance(info.value, NoValuesFound)

    @pytest.mark.parametrize("body", ["not json", vector("abc")])
    def test_undecodable_body_or_value_is_an_error(self, fake, client, body):
        """Bad JSON or an unparsable value string is a MetricsError."""
        fake.reply = Reply(body=body)
        with pytest.raises(MetricsError) as info:
            client.query("x")
        assert not isinstance(info.value, NoValuesFound)


class TestErrors:
    @pytest.mark.parametrize("status", [400, 422, 500, 503])
    def test_http_error_status(self, fake, client, status):
        """Status ≥ 400 → "error response: Status <code> <body>"."""
        fake.reply = Reply(status=status, body='{"status":"error","error":"parse error"}')
        with pytest.raises(MetricsError, match=rf"^error response: Status {status} .*parse error") as info:
            client.query("x")
        assert not isinstance(info.value, NoValuesFound)

    def test_timeout_is_scaled_with_a_floor(self, fake, client):
        """5 s / scale 20 = 0.25 s (the floor): a 1 s answer is a timeout error after ~0.25 s."""
        fake.reply = Reply(body=vector("1"), delay=1.0)
        started = time.monotonic()
        with pytest.raises(MetricsError, match="timeout") as info:
            client.query("x")
        assert time.monotonic() - started < 0.9
        assert isinstance(info.value.__cause__, httpx.TimeoutException)
        assert client.timeout_seconds == 0.25
        assert (
            PrometheusQueryClient("http://127.0.0.1:1", clock=FakeClock(scale=1000)).timeout_seconds == 0.25
        )
        assert PrometheusQueryClient("http://127.0.0.1:1", clock=FakeClock(scale=2)).timeout_seconds == 2.5

    def test_connection_refused_is_wrapped_and_offline(self):
        """Nothing listening: a MetricsError chained to httpx, and ``is_online`` is False."""
        prom = PrometheusQueryClient(f"http://127.0.0.1:{free_port()}", clock=FakeClock())
        with pytest.raises(MetricsError, match="request failed") as info:
            prom.query("vector(1)")
        assert isinstance(info.value.__cause__, httpx.HTTPError)
        assert not isinstance(info.value, httpx.HTTPError)
        assert prom.is_online() is False
        prom.close()

    @pytest.mark.parametrize(("value", "online"), [("1", True), ("2", False)])
    def test_is_online_needs_vector_one_to_be_one(self, fake, client, value, online):
        """``IsOnline`` sends ``vector(1)`` and requires exactly 1."""
        fake.reply = Reply(body=vector(value))
        assert client.is_online() is online
        assert fake.queries == ["vector(1)"]


class TestSentQuery:
    def test_flaggers_query_is_sent_collapsed_and_scaled(self, fake):
        """At scale 60, ``[1m]`` goes out as ``[1000ms]``; whitespace runs are one space, leading one kept."""
        fake.reply = Reply(body=vector("99"))
        promql = request_success_rate("test", "podinfo")
        with PrometheusQueryClient(fake.url, clock=FakeClock(scale=60)) as prom:
            assert prom.query(promql) == 99.0
            assert fake.queries == [prom.last_sent_query] == [prom.render_sent(promql)]
        sent = fake.queries[0]
        assert sent.startswith(" sum( rate( traefik_service_request_duration_seconds_bucket{ service=~")
        assert sent.count("[1000ms]") == 2
        assert "[1m]" not in sent
        assert sent.replace("[1000ms]", "[1m]") == " ".join(promql.split(" "))

    def test_unscaled_clock_sends_flaggers_string_verbatim(self, fake):
        """At scale 1 the query on the wire is Flagger's ``trimQuery`` output."""
        fake.reply = Reply(body=vector("5"))
        promql = request_duration("test", "podinfo", "30s")
        with PrometheusQueryClient(fake.url, clock=FakeClock()) as prom:
            prom.query(promql)
        assert fake.queries == [promql]


class TestScaling:
    @pytest.mark.parametrize(
        ("promql", "scale", "expected"),
        [
            ("rate(x[1m])", 60, "rate(x[1000ms])"),
            ("rate(x[ 5m ])", 12, "rate(x[25000ms])"),
            ("rate(x[90s])", 7, "rate(x[12857ms])"),
            ("rate(x[1h30m])", 3600, "rate(x[1500ms])"),
            ("rate(x[1ms])", 100, "rate(x[1ms])"),  # never below 1 ms
            ("max_over_time(rate(x[1m])[5m:30s])", 30, "max_over_time(rate(x[2000ms])[10000ms:1000ms])"),
            ("max_over_time(x[5m:])", 60, "max_over_time(x[5000ms:])"),
            ("rate(x[1m] offset 5m)", 60, "rate(x[1000ms] offset 5000ms)"),
            ("x offset -2m", 60, "x offset -2000ms"),
            ('x{a="[1m]",b=~"offset 5m"}[1m]', 60, 'x{a="[1m]",b=~"offset 5m"}[1000ms]'),
            ("rate(x[1.5m])", 60, "rate(x[1.5m])"),  # invalid: left for Prometheus to reject
            ("rate(x[1m])", 1, "rate(x[1m])"),
        ],
    )
    def test_range_offset_and_subquery_durations(self, promql, scale, expected):
        """Durations outside string literals become real milliseconds; strings are untouched."""
        assert scale_promql(promql, scale) == expected

    def test_render_sent_collapses_then_scales(self):
        """``render_sent`` = Flagger's whitespace collapse followed by scaling."""
        assert render_sent("\n\tsum(\n\t\trate(x[2m])\n\t)", 120) == " sum( rate(x[1000ms]) )"
