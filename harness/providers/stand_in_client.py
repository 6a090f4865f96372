"""What the router stand-ins' parents share: the admin API client base and starting a stand-in child.

Each provider's stand-in (``harness.providers.<name>.router``) is an aiohttp process with a proxy port and
an admin port (``PUT/GET /config``, ``GET /metrics``, ``GET /healthz``). Its client subclasses
``AdminClient`` with the provider's routing verbs; ``start_stand_in`` runs the child with the arguments
every stand-in takes (``harness.providers.stand_in_server.common_parser``) plus the provider's own, and
waits until the admin API answers.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Required, TypedDict, TypeVar, Unpack

import httpx
from pydantic import BaseModel, ValidationError

from harness.errors import ProcessError
from harness.processes.ports import LOOPBACK, free_port
from harness.processes.procs import ManagedProcess, ProcessGroup

ConfigT = TypeVar("ConfigT", bound=BaseModel)


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

    def _get_config(self, model: type[ConfigT]) -> ConfigT:
        try:
            return model.model_validate_json(self._request("GET", "/config").content)
        except ValidationError as exc:
            raise ProcessError(f"router at {self.admin_url} returned an unreadable config: {exc}") from exc

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


def stand_in_argv(
    module: str,
    *,
    port: int,
    admin_port: int,
    namespace: str,
    service: str,
    service_port: int = 80,
    host: str = LOOPBACK,
    backend_timeout: float | None = None,
    log_level: str = "warning",
    extra: Sequence[str] = (),
) -> list[str]:
    """``python -m module`` with the arguments every stand-in takes, then the provider's ``extra``."""
    argv = [sys.executable, "-m", module, "--host", host, "--port", str(port)]
    argv += ["--admin-port", str(admin_port), "--namespace", namespace, "--service", service]
    argv += ["--service-port", str(service_port), "--log-level", log_level]
    if backend_timeout is not None:
        argv += ["--backend-timeout", str(backend_timeout)]
    return argv + list(extra)


class StandInOptions(TypedDict, total=False):
    """What every stand-in is started with (``start_stand_in``); the rest of its arguments are its own."""

    namespace: Required[str]
    service: Required[str]
    service_port: int  # default 80
    port: int | None  # the proxy port; None: a free one
    admin_port: int | None  # None: a free one
    backend_timeout: float | None  # seconds; None: none
    log_level: str  # default "warning"
    startup_timeout: float  # real seconds until the admin API must answer; default 15


def start_stand_in(
    group: ProcessGroup,
    module: str,
    *,
    client_of: Callable[[str], ClientT],
    extra: Sequence[str] = (),
    **options: Unpack[StandInOptions],
) -> StandInProcess[ClientT]:
    """Start ``python -m module`` as the ``router`` of ``group`` with ``options`` then ``extra``; wait
    (real seconds) until its admin API answers."""
    port = options.get("port") or free_port()
    admin_port = options.get("admin_port") or free_port()
    startup_timeout = options.get("startup_timeout", 15.0)
    argv = stand_in_argv(
        module,
        port=port,
        admin_port=admin_port,
        namespace=options["namespace"],
        service=options["service"],
        service_port=options.get("service_port", 80),
        backend_timeout=options.get("backend_timeout"),
        log_level=options.get("log_level", "warning"),
        extra=extra,
    )
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
