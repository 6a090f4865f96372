"""What a ``canary-chaos run`` asks for: backend, time scale, report directory, and backend options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.backends.base import ClusterTarget
from harness.plan.schedule import StartupEstimate


@dataclass(frozen=True)
class RunOptions:
    backend: str = "local"
    time_scale: float = 60.0
    report_dir: Path = Path("reports")
    repeat: int = 1
    load_workers: int | None = None  # overrides the scenario's load.workers
    prometheus: str = "auto"  # auto | server | embedded (local backend)
    keep: bool = False  # kubernetes: keep the namespace for debugging
    context_allow: tuple[str, ...] = ()
    canary_spec: Path | None = None  # kubernetes: copy the analysis of a team's real Canary
    cluster: ClusterTarget = field(default_factory=ClusterTarget)  # kubernetes: where things are
    progress: bool = True
    parallel: int = 1  # runs at once (kubernetes: each in its own namespace)
    startup: StartupEstimate | None = None  # deploy/teardown estimate of the schedule (None: backend's)
    scrape_interval_seconds: float | None = None  # kubernetes: the cluster Prometheus'; None: the provider's
