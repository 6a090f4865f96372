"""A small threaded HTTP app on 127.0.0.1 that counts exactly what it answered."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faulty_app.checksum import with_checksum


class CountingApp:
    """What the server sent: (version or "none", status) counts, plus per-request details."""

    def __init__(self, slow_seconds: float = 0.6) -> None:
        self.lock = threading.Lock()
        self.sent: Counter[tuple[str, int]] = Counter()
        self.slow = 0
        self.corrupted = 0  # 200 answers whose checksum is wrong
        self.hosts: Counter[str] = Counter()
        self.cookies: Counter[str] = Counter()
        self.routes: Counter[tuple[str, str]] = Counter()  # (cohort header or "-", "METHOD /path")
        self.times: list[float] = []
        self.slow_seconds = slow_seconds
        self._served = 0
        self._canary_served = 0
        self._orders = 0

    def next_version(self) -> tuple[str, int]:
        """Alternate 1.0.0/1.1.0; every 5th 1.1.0 answer is a 500."""
        with self.lock:
            self._served += 1
            if self._served % 2:
                return "1.0.0", 200
            self._canary_served += 1
            return "1.1.0", 500 if self._canary_served % 5 == 0 else 200

    def next_order_corrupt(self) -> bool:
        with self.lock:
            self._orders += 1
            return self._orders % 3 == 0

    def note(self, handler: BaseHTTPRequestHandler, version: str, status: int) -> None:
        with self.lock:
            self.sent[(version, status)] += 1
            self.hosts[handler.headers.get("Host", "")] += 1
            self.cookies[handler.headers.get("Cookie", "")] += 1
            self.routes[(handler.headers.get("X-Cohort", "-"), f"{handler.command} {handler.path}")] += 1
            self.times.append(time.monotonic())


def _handler(app: CountingApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _reply(self, status: int, body: bytes, version: str | None) -> None:
            self.send_response(status)
            if version:
                self.send_header("X-App-Version", version)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/slow":
                with app.lock:
                    app.slow += 1
                time.sleep(app.slow_seconds)
                self._reply(200, b"{}", "1.0.0")
                return
            if not self._refused_cohort():
                version, status = app.next_version()
                app.note(self, version, status)
                self._reply(status, b"{}", version)

        def _refused_cohort(self) -> bool:
            """The beta cohort always gets a router-style 503 without a version header."""
            if self.headers.get("X-Cohort") != "beta":
                return False
            app.note(self, "none", 503)
            self._reply(503, b"{}", None)
            return True

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if self._refused_cohort():
                return
            body = with_checksum({"item": payload["item"], "quantity": payload["quantity"]})
            version, status = app.next_version()
            if app.next_order_corrupt():
                body["quantity"] = int(str(body["quantity"])) + 1
                with app.lock:
                    app.corrupted += status == 200  # a 500 is bad anyway: count wrong 200s only
            app.note(self, version, status)
            self._reply(status, json.dumps(body).encode(), version)

    return Handler


@pytest.fixture
def app_server() -> Iterator[tuple[str, CountingApp]]:
    """The counting app on an ephemeral 127.0.0.1 port; shut down afterwards."""
    app = CountingApp()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(app))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
