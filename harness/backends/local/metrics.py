"""Choose and run the local backend's metrics provider: a real Prometheus server or the embedded one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.clock import Clock
from harness.controllers.flagger.ports import MetricsProvider
from harness.errors import InputError
from harness.metrics.embedded import EmbeddedPrometheus
from harness.metrics.query_client import PrometheusQueryClient, PrometheusServer, prometheus_available
from harness.processes.ports import free_port
from harness.processes.procs import ProcessGroup
from harness.providers.stand_in_client import AdminClient, StandInProcess

__all__ = ["MetricsStack", "SharedPrometheus", "prometheus_available", "start_metrics"]


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


class SharedPrometheus:
    """One Prometheus server for a batch of local runs, as a cluster's Prometheus is long-lived too.

    Every run's router binds the same admin port, so the scrape target never changes and Prometheus 2.x's
    5 s target-discovery tick is paid once per batch, not once per scenario. Series of an earlier run
    are older than the next run's warm-up, so they fall outside every metric window (the factory only
    shares the server with scenarios whose warm-up is at least their longest metric window).
    """

    def __init__(self, work_dir: Path, clock: Clock, *, scrape_interval: float = 5.0) -> None:
        self.router_admin_port = free_port()
        self.router_target = f"127.0.0.1:{self.router_admin_port}"
        self._group = ProcessGroup(work_dir / "processes")
        self.server = PrometheusServer(
            self._group, work_dir=work_dir, clock=clock, scrape_interval=scrape_interval
        )

    def start(self) -> SharedPrometheus:
        self.server.start([self.router_target], wait_for_scrape=False)
        return self

    def stack(self, clock: Clock) -> MetricsStack:
        """A per-run view: its own query client; teardown forgets the run's app targets."""
        stack = MetricsStack(
            provider=PrometheusQueryClient(self.server.url, clock=clock),
            kind="prometheus-server (shared)",
            server=self.server,
            router_target=self.router_target,
        )
        stack.parts.append(_ForgetTargets(stack))
        return stack

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            self._group.stop_all()


@dataclass
class _ForgetTargets:
    stack: MetricsStack

    def stop(self) -> None:
        self.stack.known_targets.clear()
        if self.stack.server is not None:
            self.stack.server.set_targets([self.stack.router_target])


def start_metrics(
    mode: str,
    *,
    router: StandInProcess[AdminClient],
    group: ProcessGroup,
    clock: Clock,
    work_dir: Path,
    scrape_interval: float = 5.0,
    shared: SharedPrometheus | None = None,
) -> MetricsStack:
    """``auto`` uses the real server when installed; ``server`` insists on it; ``embedded`` never uses it.

    The scrape interval is 5 s emulated, like Flagger's bundled Prometheus (spec §0).
    """
    if mode not in ("auto", "server", "embedded"):
        raise InputError(f"--prometheus: expected auto, server or embedded, found {mode!r}")
    if shared is not None and mode != "embedded":
        return shared.stack(clock)
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
