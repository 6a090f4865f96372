"""Choose and run the local backend's metrics provider: a real Prometheus server or the embedded one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.clock import Clock
from harness.errors import InputError
from harness.flagger.ports import MetricsProvider
from harness.local.procs import ProcessGroup
from harness.local.promql_eval import EmbeddedPrometheus
from harness.local.router_client import RouterProcess
from harness.prometheus import PrometheusQueryClient, PrometheusServer, prometheus_available

__all__ = ["MetricsStack", "prometheus_available", "start_metrics"]


class _Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass
class MetricsStack:
    provider: MetricsProvider
    kind: str  # "prometheus-server" | "embedded"
    parts: list[_Stoppable] = field(default_factory=list)
    server: PrometheusServer | None = None
    router_target: str = ""
    known_targets: set[str] = field(default_factory=set)

    def update_targets(self, app_urls: list[str]) -> None:
        """Add app replicas to the scrape targets (for business metrics). Targets are never removed: pods
        reuse their ports, and Prometheus applies new targets only on its 5 s tick, so keeping a scaled-down
        canary's address means its next pod is scraped from its first second."""
        if self.server is not None:
            self.known_targets.update(u.removeprefix("http://") for u in app_urls)
            self.server.set_targets([self.router_target, *sorted(self.known_targets)])

    def wait_until_scraping(self, timeout: float = 30.0) -> None:
        """Block until the server has scraped the router once (Prometheus 2.x applies new targets on a
        5 s real-time tick, so this overlaps with deployment rather than adding to it)."""
        if self.server is not None:
            self.server.wait_for_scrape(timeout, [self.router_target])

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.stop()


def start_metrics(
    mode: str,
    *,
    router: RouterProcess,
    group: ProcessGroup,
    clock: Clock,
    work_dir: Path,
    scrape_interval: float = 5.0,
) -> MetricsStack:
    """``auto`` uses the real server when installed; ``server`` insists on it; ``embedded`` never uses it.

    The scrape interval is 5 s emulated, like Flagger's bundled Prometheus (spec §0).
    """
    if mode not in ("auto", "server", "embedded"):
        raise InputError(f"--prometheus: expected auto, server or embedded, found {mode!r}")
    if mode == "server" or (mode == "auto" and prometheus_available()):
        server = PrometheusServer(group, work_dir=work_dir, clock=clock, scrape_interval=scrape_interval)
        router_target = router.admin_url.removeprefix("http://")
        server.start([router_target], wait_for_scrape=False)
        client = PrometheusQueryClient(server.url, clock=clock)
        return MetricsStack(
            provider=client,
            kind="prometheus-server",
            parts=[server],
            server=server,
            router_target=router_target,
        )
    embedded = EmbeddedPrometheus(
        router.client.metrics_text, clock=clock, scrape_interval_seconds=scrape_interval
    )
    return MetricsStack(provider=embedded.start(), kind="embedded", parts=[embedded])
