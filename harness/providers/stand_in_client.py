"""What the router stand-ins' parents share: the admin API client base and starting a stand-in child.

Each provider's stand-in (``harness.providers.<name>.router``) is an aiohttp process with a proxy port and
an admin port (``PUT/GET /config``, ``GET /metrics``, ``GET /healthz``). Its client subclasses
``AdminClient`` with the provider's routing verbs; ``start_stand_in`` runs the child and waits until the
admin API answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from harness.errors import ProcessError
from harness.processes.ports import LOOPBACK
from harness.processes.procs import ManagedProcess, ProcessGroup


class AdminClient:
    """Admin API client; every transport or protocol failure becomes ``ProcessError``. Thread-safe."""

    def __init__(self, admin_url: str, *, timeout: float = 5.0) -> None:
        self.admin_url = admin_url.rstrip("/")
        self._http = httpx.Client(base_url=self.admin_url, timeout=timeout, trust_env=False)
        self._lock = threading.Lock()

    def set_endpoints(self, primary: Sequence[str], canary: Sequence[str]) -> None:
        """Replace the ready endpoints of the primary and canary Services."""
        self._put({"endpoints": {"primary": list(primary), "canary": list(canary)}})

    def metrics_text(self) -> str:
        return self._request("GET", "/metrics").text

    def healthy(self) -> bool:
        try:
            return self._request("GET", "/healthz").status_code == 200
        except ProcessError:
            return False

    def close(self) -> None:
        self._http.close()

    def _put(self, body: dict[str, Any]) -> None:
        self._request("PUT", "/config", json=body)

    def _request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        try:
            with self._lock:
                response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ProcessError(f"router admin {method} {self.admin_url}{path} failed: {exc!r}") from exc
        if response.status_code != 200:
            raise ProcessError(
                f"router admin {method} {self.admin_url}{path}: HTTP {response.status_code}: {response.text}"
            )
        return response


ClientT = TypeVar("ClientT", bound=AdminClient)
ClientT_co = TypeVar("ClientT_co", bound=AdminClient, covariant=True)


@dataclass(frozen=True)
class StandInProcess(Generic[ClientT_co]):
    """A started router stand-in: its process, its client, and the URL load must be sent to."""

    process: ManagedProcess
    client: ClientT_co
    url: str
    admin_url: str


def start_stand_in(
    group: ProcessGroup,
    argv: list[str],
    *,
    port: int,
    admin_port: int,
    client_of: Callable[[str], ClientT],
    startup_timeout: float = 15.0,
) -> StandInProcess[ClientT]:
    """Start ``argv`` as the ``router`` of ``group``; wait (real seconds) until its admin API answers."""
    process = group.start("router", argv)
    admin_url = f"http://{LOOPBACK}:{admin_port}"
    client = client_of(admin_url)
    deadline = time.monotonic() + startup_timeout
    while not client.healthy():
        if not process.alive or time.monotonic() > deadline:
            group.stop(process)
            client.close()
            raise ProcessError(
                f"router did not become healthy within {startup_timeout}s "
                f"(exit code {process.returncode}); log tail:\n{process.log_tail()}"
            )
        time.sleep(0.05)
    return StandInProcess(process, client, f"http://{LOOPBACK}:{port}", admin_url)
