"""Drives the Traefik stand-in (``harness.providers.traefik.router``) over its admin API; starts it as a
child.

``RouterClient`` is the local ``TrafficRouter`` (Flagger's SetRoutes/GetRoutes on the TraefikService).
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from harness.errors import ProcessError
from harness.processes.ports import LOOPBACK, free_port
from harness.processes.procs import ProcessGroup
from harness.providers.stand_in_client import AdminClient, StandInProcess, start_stand_in
from harness.providers.traefik.router_config import RouterConfig


class RouterClient(AdminClient):
    """The Traefik stand-in's admin API: Flagger's SetRoutes/GetRoutes on the TraefikService."""

    # TrafficRouter

    def set_routes(self, primary_weight: int, canary_weight: int) -> None:
        """Flagger's SetRoutes: weights in percent, the canary entry absent at 0; both 0 is refused."""
        self._put({"weights": {"primary": primary_weight, "canary": canary_weight}})

    def get_routes(self) -> tuple[int, int]:
        """Flagger's GetRoutes: (primary, 100 - primary); the canary entry's own weight is never read."""
        primary = self.config().weights.primary
        return primary, 100 - primary

    def config(self) -> RouterConfig:
        try:
            return RouterConfig.model_validate_json(self._request("GET", "/config").content)
        except ValidationError as exc:
            raise ProcessError(f"router at {self.admin_url} returned an unreadable config: {exc}") from exc


RouterProcess = StandInProcess[RouterClient]


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
    return start_stand_in(
        group, argv, port=port, admin_port=admin_port, client_of=RouterClient, startup_timeout=startup_timeout
    )
