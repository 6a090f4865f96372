"""Fixtures that run faulty_app as a real process on 127.0.0.1 and talk to it over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"
SHARED_TIME_SCALE = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppProcess:
    """A running ``python -m faulty_app`` child."""

    proc: subprocess.Popen[str]
    base_url: str
    log: IO[str]

    def stderr_text(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=5.0, **kwargs)  # type: ignore[arg-type]

    def put_faults(self, faults: object, token: str = TOKEN) -> httpx.Response:
        body = faults if isinstance(faults, str) else json.dumps(faults)
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.put(self.base_url + "/admin/faults", content=body, headers=headers, timeout=5.0)

    def install(self, faults: object) -> None:
        response = self.put_faults(faults)
        assert response.status_code == 200, response.text

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Samples of /metrics keyed by (sample name, sorted labels)."""
        text = self.get("/metrics").text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"FAULTS", "ADMIN_TOKEN", "TIME_SCALE", "APP_VERSION"}
    }
    env.update({"PYTHONPATH": str(ROOT), **extra})
    return env


def run_app_to_exit(env: Mapping[str, str], timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    """Run the app expecting it to exit by itself (bad configuration, startup crash)."""
    command = [sys.executable, "-m", "faulty_app", "--port", str(free_port())]
    return subprocess.run(command, env=_env(env), capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@contextmanager
def running_app(env: Mapping[str, str], *, wait_healthy: bool = True) -> Iterator[AppProcess]:
    """Start the app on a free loopback port; always kill it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "faulty_app", "--host", "127.0.0.1", "--port", str(port)]
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finally; a file, not a pipe, never blocks
    proc = subprocess.Popen(command, env=_env(env), cwd=ROOT, stderr=log, text=True)
    app = AppProcess(proc, f"http://127.0.0.1:{port}", log)
    try:
        if wait_healthy:
            _wait_healthy(app, deadline=time.monotonic() + 15.0)
        yield app
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5.0)
        log.close()


def _wait_healthy(app: AppProcess, deadline: float) -> None:
    while time.monotonic() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"faulty_app exited with {app.proc.returncode}")
        try:
            if httpx.get(app.base_url + "/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError("faulty_app did not become healthy in 15 s")


@dataclass(frozen=True)
class Sample:
    """One answered request as the client saw it (status 0: transport error or timeout)."""

    status: int
    seconds: float
    version: str | None
    body: bytes
    started: float = 0.0  # time.monotonic() when the request was sent


def burst(
    url: str,
    count: int,
    *,
    concurrency: int = 16,
    method: str = "GET",
    json_body: object = None,
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> list[Sample]:
    """Send ``count`` requests from ``concurrency`` threads, each with its own keep-alive client."""
    remaining = iter(range(count))
    lock = threading.Lock()

    def worker() -> list[Sample]:
        samples = []
        # verify=False: plain-HTTP loopback only, and it skips loading the CA bundle per client.
        with httpx.Client(timeout=timeout, cookies=cookies, headers=headers, verify=False) as client:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return samples
                samples.append(_one(client, method, url, json_body))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(worker) for _ in range(concurrency)]
        return [sample for future in futures for sample in future.result()]


def _one(client: httpx.Client, method: str, url: str, json_body: object) -> Sample:
    sent = time.monotonic()
    started = time.perf_counter()
    try:
        response = client.request(method, url, json=json_body)
    except httpx.TransportError:
        return Sample(0, time.perf_counter() - started, None, b"", sent)
    seconds = time.perf_counter() - started
    return Sample(
        response.status_code, seconds, response.headers.get("x-app-version"), response.content, sent
    )


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.fixture(scope="session")
def shared_app() -> Iterator[AppProcess]:
    """One app (admin on, TIME_SCALE=10, seeded) whose faults each test replaces."""
    env = {
        "APP_VERSION": "shared-v1",
        "ADMIN_TOKEN": TOKEN,
        "TIME_SCALE": str(SHARED_TIME_SCALE),
        "FAULT_SEED": "7",
    }
    with running_app(env) as app:
        yield app


@pytest.fixture
def app(shared_app: AppProcess) -> Iterator[AppProcess]:
    """The shared app with no faults before and after the test."""
    shared_app.install([])
    try:
        yield shared_app
    finally:
        if shared_app.proc.poll() is None:
            shared_app.install([])


@pytest.fixture
def send_burst():
    """The ``burst`` helper (tests cannot import conftest under importlib mode)."""
    return burst


@pytest.fixture
def start_app():
    """The ``running_app`` context manager: a fresh process with its own environment."""
    return running_app


@pytest.fixture
def run_to_exit():
    """Run an app that is expected to exit by itself; returns the CompletedProcess."""
    return run_app_to_exit
