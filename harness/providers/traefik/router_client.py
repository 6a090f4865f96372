"""Drives the Traefik stand-in (``harness.providers.traefik.router``) over its admin API; starts it as a
child.

``RouterClient`` is the local ``TrafficRouter`` (Flagger's SetRoutes/GetRoutes on the TraefikService).
"""

from __future__ import annotations

from typing import Unpack

from harness.processes.procs import ProcessGroup
from harness.providers.stand_in_client import AdminClient, StandInOptions, StandInProcess, start_stand_in
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
        return self._get_config(RouterConfig)


RouterProcess = StandInProcess[RouterClient]


def start_router(group: ProcessGroup, **options: Unpack[StandInOptions]) -> RouterProcess:
    """Start the router in ``group`` and wait (real seconds) until its admin API answers."""
    return start_stand_in(group, "harness.providers.traefik.router", client_of=RouterClient, **options)
