"""Fixtures for the local backend tests: a process group per test and the stand-in app."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from harness.processes.ports import free_port, wait_listening
from harness.processes.procs import ManagedProcess, ProcessGroup

STANDIN = Path(__file__).parent / "standin_app.py"


def standin_command(port: int) -> list[str]:
    """The stand-in app with faulty_app's command line."""
    return [sys.executable, str(STANDIN), "--host", "127.0.0.1", "--port", str(port)]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` for at most ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@pytest.fixture
def group(tmp_path: Path) -> Iterator[ProcessGroup]:
    """A process group whose children are always stopped after the test."""
    procs = ProcessGroup(tmp_path / "run", stop_timeout=3.0)
    try:
        yield procs
    finally:
        procs.stop_all()


StartApp = Callable[..., tuple[ManagedProcess, str]]


def start_standin(
    group: ProcessGroup, version: str, env: Mapping[str, str] | None = None
) -> tuple[ManagedProcess, str]:
    """Start the stand-in app and wait until it listens; returns (process, base URL)."""
    port = free_port()
    proc = group.start(f"app-{version}", standin_command(port), env={"APP_VERSION": version, **(env or {})})
    assert wait_listening(port, 10.0), proc.log_tail()
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def launch_standin() -> Callable[..., tuple[ManagedProcess, str]]:
    """``start_standin`` for fixtures with a wider scope than ``group``."""
    return start_standin


@pytest.fixture
def start_app(group: ProcessGroup) -> StartApp:
    """Start a stand-in app in the test's group: ``start_app("v1", {"STANDIN_MODE": "slow"})``."""
    return lambda version, env=None: start_standin(group, version, env)


@pytest.fixture
def app_command() -> Callable[[int], list[str]]:
    return standin_command


@pytest.fixture
def poll() -> Callable[..., bool]:
    return wait_until
