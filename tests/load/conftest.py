"""Fixtures for the load gateway tests: a counting HTTP server on 127.0.0.1 and Locust runs against it."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from faulty_app.checksum import with_checksum
from harness.clock import ScaledClock
from harness.load import LocustLoad
from harness.load_model import LocustConfig, RouteSpec

SLOW_SECONDS = 1.5  # /slow answers after this; the client's timeout is shorter


@dataclass
class ServerCounts:
    """What the server itself sent, to compare with what the load generator recorded."""

    by_version_status: Counter[tuple[str, int]] = field(default_factory=Counter)
    bad_by_version: Counter[str] = field(default_factory=Counter)
    hurt_by_version: dict[str, set[str]] = field(default_factory=dict)
    slow: int = 0
    hosts: set[str] = field(default_factory=set)
    cohort_users: set[str] = field(default_factory=set)  # users whose orders carried x-cohort: beta
    cookie_users: set[str] = field(default_factory=set)
    all_users: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _served = 0
    _canary_orders = 0

    def next_version(self) -> str:
        self._served += 1
        return "1.0.0" if self._served % 2 else "1.1.0"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counts: ServerCounts

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads counters, not logs."""

    def do_GET(self) -> None:
        if self.path == "/slow":
            with self.counts.lock:
                self.counts.slow += 1
            time.sleep(SLOW_SECONDS)
            self._send(200, {"late": True}, None)
        elif self.path == "/gone":  # what a router says when no backend answers: no version header
            with self.counts.lock:
                self.counts.by_version_status[("none", 503)] += 1
                self.counts.bad_by_version["none"] += 1
            self._send(503, {"error": "no backend"}, None)
        else:
            with self.counts.lock:
                version = self.counts.next_version()
                self.counts.by_version_status[(version, 200)] += 1
            self._send(200, with_checksum({"message": "hi", "version": version}), version)

    def do_POST(self) -> None:
        order = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = order["item"].split("-")[1]
        with self.counts.lock:
            self.counts.hosts.add(self.headers.get("Host", ""))
            self.counts.all_users.add(user)
            if self.headers.get("x-cohort") == "beta":
                self.counts.cohort_users.add(user)
            if "cohort=beta" in self.headers.get("Cookie", ""):
                self.counts.cookie_users.add(user)
            version = self.counts.next_version()
            status, body = 201, with_checksum({**order, "order_id": 1, "version": version})
            if version == "1.1.0":
                self.counts._canary_orders += 1
                if self.counts._canary_orders % 4 == 0:
                    status, body = 500, {"error": "boom"}
                elif self.counts._canary_orders % 4 == 1:
                    body = {**body, "quantity": order["quantity"] + 1}  # wrong answer: checksum mismatch
                if self.counts._canary_orders % 4 in (0, 1):
                    self.counts.bad_by_version[version] += 1
                    self.counts.hurt_by_version.setdefault(version, set()).add(user)
            self.counts.by_version_status[(version, status)] += 1
        self._send(status, body, version)

    def _send(self, status: int, body: object, version: str | None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            if version:
                self.send_header("X-App-Version", version)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): expected for /slow


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs when all users connect at once

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that time out drop their connection; nothing to report."""


@dataclass
class CountingServer:
    url: str
    counts: ServerCounts


@pytest.fixture
def server() -> Iterator[CountingServer]:
    """A server alternating X-App-Version 1.0.0/1.1.0; 1.1.0 fails or corrupts half of its orders."""
    counts = ServerCounts()
    handler = type("Handler", (_Handler,), {"counts": counts})
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield CountingServer(f"http://127.0.0.1:{httpd.server_address[1]}", counts)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


ROUTES = (
    RouteSpec("/", "GET", 3),
    RouteSpec("/api/orders", "POST", 4),
    RouteSpec("/slow", "GET", 1),
    RouteSpec("/gone", "GET", 1),
)


def load_config(url: str, **overrides: object) -> LocustConfig:
    """A short, bounded run: 40 rps from 8 users for 4 s, 0.5 s request timeout, 0.5 s buckets."""
    base: dict[str, object] = {
        "target_url": url,
        "run_time_seconds": 4.0,
        "users": 8,
        "spawn_rate": 100.0,
        "rps": 40.0,
        "routes": ROUTES,
        "request_timeout_seconds": 0.5,
        "bucket_seconds": 0.5,
    }
    return LocustConfig(**{**base, **overrides})  # type: ignore[arg-type]


MakeLoad = Callable[[LocustConfig], LocustLoad]


@pytest.fixture
def make_load(tmp_path: Path) -> Iterator[MakeLoad]:
    """Builds LocustLoad gateways that are always stopped after the test."""
    loads: list[LocustLoad] = []

    def make(config: LocustConfig) -> LocustLoad:
        load = LocustLoad(config, run_dir=tmp_path / f"load{len(loads)}", clock=ScaledClock(1.0))
        loads.append(load)
        return load

    try:
        yield make
    finally:
        for load in loads:
            load.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` for at most ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
