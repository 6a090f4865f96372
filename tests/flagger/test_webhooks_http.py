"""HttpWebhookCaller against a real HTTP server on 127.0.0.1 (go-retryablehttp semantics)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from harness.backends.local.webhooks import HttpWebhookCaller, go_json
from harness.clock import FakeClock, ScaledClock
from harness.controllers.flagger.model import WebhookSpec


class Hook(BaseHTTPRequestHandler):
    """Answers each POST with the next (status, body, delay) of ``server.script``."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.requests.append((self.headers.get("Content-Type"), self.rfile.read(length)))  # type: ignore[attr-defined]
        script = self.server.script  # type: ignore[attr-defined]
        status, body, delay = script[min(len(self.server.requests) - 1, len(script) - 1)]  # type: ignore[attr-defined]
        time.sleep(delay)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    httpd.requests = []  # type: ignore[attr-defined]
    httpd.script = [(200, "ok", 0.0)]  # type: ignore[attr-defined]
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def hook(server, **kwargs) -> WebhookSpec:
    return WebhookSpec(name="h", url=f"http://127.0.0.1:{server.server_address[1]}/hook", **kwargs)


PAYLOAD = {
    "name": "podinfo",
    "namespace": "test",
    "phase": "Progressing",
    "checksum": "x",
    "metadata": {"cmd": "a && b <c>"},
}


class TestHttpWebhookCaller:
    def test_success_up_to_202_sends_go_json(self, server):
        """200 and 202 succeed; the body is compact JSON with Go's HTML escapes."""
        server.script = [(202, "", 0.0)]
        result = HttpWebhookCaller(FakeClock()).call(hook(server), PAYLOAD)
        assert result.ok
        content_type, body = server.requests[0]
        assert content_type == "application/json"
        assert body == go_json(PAYLOAD)
        assert b"a \\u0026\\u0026 b \\u003cc\\u003e" in body
        assert json.loads(body) == PAYLOAD

    def test_203_and_4xx_fail_with_the_body_without_retry(self, server):
        """Statuses > 202 that are not retryable fail at once with the response body as detail."""
        server.script = [(403, "gate closed", 0.0)]
        result = HttpWebhookCaller(FakeClock()).call(hook(server, retries=3), PAYLOAD)
        assert (result.ok, result.detail, len(server.requests)) == (False, "gate closed", 1)
        server.script = [(203, "non-authoritative", 0.0)]
        assert HttpWebhookCaller(FakeClock()).call(hook(server), PAYLOAD).detail == "non-authoritative"

    def test_5xx_is_retried_with_backoff_then_gives_up(self, server):
        """500 with retries 2 → 3 attempts, 1 s + 2 s backoff on the clock, "giving up" error."""
        server.script = [(500, "boom", 0.0)]
        clock = FakeClock()
        h = hook(server, retries=2)
        result = HttpWebhookCaller(clock).call(h, PAYLOAD)
        assert len(server.requests) == 3
        assert clock.now() == 3.0
        assert (
            result.detail
            == f"POST {h.url} giving up after 3 attempt(s): unexpected HTTP status 500 Internal Server Error"
        )

    def test_retry_recovers(self, server):
        """A 503 followed by 200 succeeds on the second attempt."""
        server.script = [(503, "", 0.0), (200, "", 0.0)]
        assert HttpWebhookCaller(FakeClock()).call(hook(server, retries=1), PAYLOAD).ok

    def test_timeout_is_scaled_but_floored(self, server):
        """timeout 10s at scale 100 → 0.1 s real; a 0.5 s hook times out; floor is 0.05 s."""
        server.script = [(200, "", 0.5)]
        caller = HttpWebhookCaller(ScaledClock(100.0))
        h = hook(server, timeout_seconds=10.0)
        assert caller.real_timeout(h) == pytest.approx(0.1)
        assert caller.real_timeout(hook(server, timeout_seconds=1.0)) == 0.05
        result = caller.call(h, PAYLOAD)
        assert not result.ok
        assert result.detail.startswith(f"POST {h.url} giving up after 1 attempt(s): Post ")
        assert "Client.Timeout exceeded" in result.detail

    def test_connection_refused_is_wrapped(self):
        """No listener → a failed result in Go's wording, never an httpx exception."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}/"
        result = HttpWebhookCaller(FakeClock()).call(WebhookSpec(name="h", url=url), PAYLOAD)
        assert result.detail == (
            f"POST {url} giving up after 1 attempt(s): "
            f'Post "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused'
        )

    def test_unsupported_scheme_is_not_retried(self):
        """An ftp:// URL fails at once without a "giving up" wrapper."""
        result = HttpWebhookCaller(FakeClock()).call(
            WebhookSpec(name="h", url="ftp://x/", retries=2), PAYLOAD
        )
        assert result.detail == 'Post "ftp://x/": unsupported protocol scheme "ftp"'

    def test_results_are_not_vendor_types(self):
        """The gateway's result type has nothing to do with httpx."""
        assert not issubclass(
            type(HttpWebhookCaller(FakeClock()).call(WebhookSpec("h", "ftp://x/"), {})), httpx.Response
        )
