"""Drives the Traefik stand-in (``harness.providers.traefik.router``) over its admin API; starts it as a
child.

``RouterClient`` is the local ``TrafficRouter`` (Flagger's SetRoutes/GetRoutes on the TraefikService).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from harness.errors import ProcessError
from harness.processes.ports import LOOPBACK, free_port
from harness.processes.procs import ManagedProcess, ProcessGroup
from harness.providers.traefik.router_config import RouterConfig


class RouterClient:
    """Admin API client; every transport or protocol failure becomes ``ProcessError``. Thread-safe."""

    def __init__(self, admin_url: str, *, timeout: float = 5.0) -> None:
        self.admin_url = admin_url.rstrip("/")
        self._http = httpx.Client(base_url=self.admin_url, timeout=timeout, trust_env=False)
        self._lock = threading.Lock()

    # TrafficRouter

    def set_routes(self, primary_weight: int, canary_weight: int) -> None:
        """Flagger's SetRoutes: weights in percent, the canary entry absent at 0; both 0 is refused."""
        self._put({"weights": {"primary": primary_weight, "canary": canary_weight}})

    def get_routes(self) -> tuple[int, int]:
        """Flagger's GetRoutes: (primary, 100 - primary); the canary entry's own weight is never read."""
        primary = self.config().weights.primary
        return primary, 100 - primary

    # Service endpoints and inspection

    def set_endpoints(self, primary: Sequence[str], canary: Sequence[str]) -> None:
        """Replace the ready endpoints of the primary and canary Services."""
        self._put({"endpoints": {"primary": list(primary), "canary": list(canary)}})

    def config(self) -> RouterConfig:
        try:
            return RouterConfig.model_validate_json(self._request("GET", "/config").content)
        except ValidationError as exc:
            raise ProcessError(f"router at {self.admin_url} returned an unreadable config: {exc}") from exc

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


@dataclass(frozen=True)
class RouterProcess:
    """A started router: its process, its client, and the URL load must be sent to."""

    process: ManagedProcess
    client: RouterClient
    url: str
    admin_url: str


def router_argv(
    *,
    port: int,
    admin_port: int,
    namespace: str,
    service: str,
    service_port: int = 80,
    host: str = LOOPBACK,
    backend_timeout: float | None = None,
    log_level: str = "warning",
) -> list[str]:
    argv = [sys.executable, "-m", "harness.providers.traefik.router", "--host", host, "--port", str(port)]
    argv += ["--admin-port", str(admin_port), "--namespace", namespace, "--service", service]
    argv += ["--service-port", str(service_port), "--log-level", log_level]
    if backend_timeout is not None:
        argv += ["--backend-timeout", str(backend_timeout)]
    return argv


def start_router(
    group: ProcessGroup,
    *,
    namespace: str,
    service: str,
    service_port: int = 80,
    port: int | None = None,
    admin_port: int | None = None,
    backend_timeout: float | None = None,
    log_level: str = "warning",
    startup_timeout: float = 15.0,
) -> RouterProcess:
    """Start the router in ``group`` and wait (real seconds) until its admin API answers."""
    port = port or free_port()
    admin_port = admin_port or free_port()
    argv = router_argv(
        port=port,
        admin_port=admin_port,
        namespace=namespace,
        service=service,
        service_port=service_port,
        backend_timeout=backend_timeout,
        log_level=log_level,
    )
    process = group.start("router", argv)
    admin_url = f"http://{LOOPBACK}:{admin_port}"
    client = RouterClient(admin_url)
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
    return RouterProcess(process, client, f"http://{LOOPBACK}:{port}", admin_url)
