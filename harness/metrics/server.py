"""A real Prometheus server (Debian's ``prometheus`` binary) on 127.0.0.1 for the local backend.

The server scrapes every ``scrape_interval / clock.scale`` real seconds (never below
``MIN_REAL_SCRAPE_SECONDS``; Prometheus 2.42 accepts even 10 ms, 50 ms keeps the CPU cost sane), so its
scrape grid is the emulated one. Only loopback is involved: the web listener binds 127.0.0.1, targets
are the host:port pairs we give it, and no alerting, remote write or service discovery beyond a local
``file_sd`` file is configured.

Prometheus throttles target updates (its discovery manager sends at most every 5 real seconds, and the
scrape manager reloads on its own 5 s tick), so the first scrape happens 5–10 real seconds after start.
``start`` therefore waits until every target was scraped once; otherwise the first analysis ticks of a
sped-up run would see "no values found". Targets changed later take the same 5–10 s to be picked up.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.clock import Clock
from harness.errors import ProcessError
from harness.processes.ports import free_port
from harness.processes.procs import ManagedProcess, ProcessGroup

BINARY = "prometheus"
MIN_REAL_SCRAPE_SECONDS = 0.05
_POLL_SECONDS = 0.05
_START_ATTEMPTS = 3  # a free port can be taken between free_port() and Prometheus binding it


def prometheus_available() -> bool:
    """True when the ``prometheus`` binary is on PATH."""
    return shutil.which(BINARY) is not None


def real_interval_text(emulated_seconds: float, scale: float, floor_seconds: float = 0.0) -> str:
    """A Prometheus duration in whole milliseconds (≥ 1 ms, ≥ ``floor_seconds``) for emulated seconds."""
    real = max(emulated_seconds / scale, floor_seconds)
    return f"{max(1, round(real * 1000))}ms"


class PrometheusServer:
    """Runs ``prometheus`` with a generated config; ``set_targets`` changes the scrape targets live.

    ``group`` owns the child process (never orphaned: own session + PDEATHSIG); without one, the server
    makes its own group whose logs go to ``work_dir``.
    """

    def __init__(
        self,
        group: ProcessGroup | None = None,
        *,
        work_dir: Path,
        clock: Clock,
        scrape_interval: float = 5.0,
    ) -> None:
        self._work_dir = Path(work_dir).resolve()  # Prometheus resolves file_sd paths against its config dir
        self._group = group if group is not None else ProcessGroup(self._work_dir)
        self._clock = clock
        self.scrape_interval = scrape_interval
        self._process: ManagedProcess | None = None
        self._targets: tuple[str, ...] = ()
        self.port = 0

    @classmethod
    def available(cls) -> bool:
        """True when the ``prometheus`` binary is installed."""
        return prometheus_available()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.alive

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def config_path(self) -> Path:
        return self._work_dir / "prometheus.yml"

    @property
    def scrape_interval_text(self) -> str:
        """The real-time ``scrape_interval`` written into prometheus.yml."""
        return real_interval_text(self.scrape_interval, self._clock.scale, MIN_REAL_SCRAPE_SECONDS)

    def start(
        self,
        targets: Sequence[str] = (),
        *,
        startup_timeout: float = 30.0,
        wait_for_scrape: bool = True,
    ) -> PrometheusServer:
        """Start the server and wait (real seconds) until it is ready and has scraped every target once."""
        if not prometheus_available():
            raise ProcessError("the 'prometheus' binary is not installed (Debian package 'prometheus')")
        if self._process is not None:
            raise ProcessError("prometheus is already running")
        self._work_dir.mkdir(parents=True, exist_ok=True)
        self.set_targets(targets)
        self.config_path.write_text(yaml.safe_dump(self._config(), sort_keys=False), encoding="utf-8")
        deadline = time.monotonic() + startup_timeout
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._spawn_and_wait_ready(deadline)
                break
            except ProcessError:
                self.stop()
                if attempt == _START_ATTEMPTS or time.monotonic() >= deadline:
                    raise
        if wait_for_scrape:
            try:
                self.wait_for_scrape(max(0.0, deadline - time.monotonic()))
            except ProcessError:
                self.stop()
                raise
        return self

    def set_targets(self, targets: Sequence[str]) -> None:
        """Write the file_sd target list atomically; Prometheus picks it up within 5–10 real seconds."""
        self._targets = tuple(sorted(set(targets)))
        self._work_dir.mkdir(parents=True, exist_ok=True)
        target_file = self._work_dir / "targets.yml"
        tmp = target_file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump([{"targets": list(self._targets)}]), encoding="utf-8")
        tmp.replace(target_file)

    def wait_for_scrape(self, timeout: float, targets: Sequence[str] | None = None) -> None:
        """Wait until ``targets`` (default: every configured one) were scraped at least once (up or down)."""
        wanted = set(self._targets if targets is None else targets)
        if not wanted:
            return
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while True:
                self._check_alive("while waiting for the first scrape")
                if self._scraped_targets(client) >= wanted:
                    return
                if time.monotonic() >= deadline:
                    raise ProcessError(f"prometheus did not scrape {sorted(wanted)} within {timeout:.1f}s")
                time.sleep(_POLL_SECONDS)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the group's stop timeout. Idempotent."""
        if self._process is not None:
            self._group.stop(self._process)
            self._process = None

    def log_tail(self) -> str:
        return self._process.log_tail() if self._process is not None else ""

    # internals -------------------------------------------------------------------------------------

    def _spawn_and_wait_ready(self, deadline: float) -> None:
        self.port = free_port()
        self._process = self._group.start(
            "prometheus",
            [
                BINARY,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self._work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--storage.tsdb.retention.time=2h",
                "--log.level=warn",
            ],
        )
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                self._check_alive("during startup")
                try:
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(_POLL_SECONDS)
        raise ProcessError(f"prometheus on port {self.port} was not ready in time: {self.log_tail()}")

    def _check_alive(self, when: str) -> None:
        if self._process is None or not self._process.alive:
            raise ProcessError(f"prometheus exited {when}: {self.log_tail()}")

    def _scraped_targets(self, client: httpx.Client) -> set[str]:
        """host:port of the active targets whose first scrape has happened."""
        try:
            body = client.get(f"{self.url}/api/v1/targets", params={"state": "active"}).json()
            active = body["data"]["activeTargets"]
            return {t["labels"]["instance"] for t in active if t.get("health") in ("up", "down")}
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return set()

    def _config(self) -> dict[str, Any]:
        interval = self.scrape_interval_text
        return {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": interval,  # must not exceed the interval
                "evaluation_interval": interval,
            },
            "scrape_configs": [
                {
                    "job_name": "canary-chaos",
                    "file_sd_configs": [
                        {"files": [str(self._work_dir / "targets.yml")], "refresh_interval": "1s"}
                    ],
                }
            ],
        }
