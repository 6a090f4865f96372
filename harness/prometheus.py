"""A real Prometheus server (Debian's ``prometheus``) for the local backend, and its HTTP query client.

Time scaling: the server scrapes every ``scrape_interval / scale`` real seconds, and the client rewrites
every range-selector and ``offset`` duration of Flagger's verbatim PromQL by ``1 / scale`` before sending,
so ``[1m]`` keeps meaning "one emulated minute". The journal keeps Flagger's original string.
"""

from __future__ import annotations

import math
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.clock import Clock
from harness.errors import MetricsError, NoValuesFound, ProcessError
from harness.flagger.gofmt import parse_go_duration
from harness.local.ports import free_port
from harness.local.procs import ManagedProcess, ProcessGroup

BINARY = "prometheus"
MIN_REAL_SCRAPE_SECONDS = 0.05
_RANGE = re.compile(r"\[(?P<d>[0-9][0-9a-zµ.]*)\]")
_OFFSET = re.compile(r"\boffset\s+(?P<d>[0-9][0-9a-zµ.]*)")
_WS = re.compile(r"\s+")


def prometheus_available() -> bool:
    return shutil.which(BINARY) is not None


def real_duration_text(emulated_seconds: float, scale: float) -> str:
    """A Prometheus duration (whole milliseconds, at least 1 ms) for emulated seconds on a scaled clock."""
    return f"{max(1, round(emulated_seconds / scale * 1000))}ms"


def scale_promql(promql: str, scale: float) -> str:
    """Rewrite range and offset durations for a clock ``scale`` times faster than real time."""
    if scale == 1:
        return promql

    def rewrite(match: re.Match[str], template: str) -> str:
        try:
            seconds = parse_go_duration(match["d"])
        except ValueError:
            return match.group(0)  # let Prometheus report its own parse error
        return template.format(real_duration_text(seconds, scale))

    scaled = _RANGE.sub(lambda m: rewrite(m, "[{}]"), promql)
    return _OFFSET.sub(lambda m: rewrite(m, "offset {}"), scaled)


class PrometheusServer:
    """Runs ``prometheus`` on 127.0.0.1 with a generated config; file_sd targets can change live."""

    def __init__(
        self, group: ProcessGroup, *, work_dir: Path, clock: Clock, scrape_interval: float = 5.0
    ) -> None:
        self._group = group
        self._work_dir = Path(work_dir)
        self._clock = clock
        self._scrape_interval = scrape_interval
        self._process: ManagedProcess | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, targets: list[str], *, startup_timeout: float = 30.0) -> PrometheusServer:
        if not prometheus_available():
            raise ProcessError("the 'prometheus' binary is not installed (Debian package 'prometheus')")
        self._work_dir.mkdir(parents=True, exist_ok=True)
        self.set_targets(targets)
        config = self._work_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self._config()), encoding="utf-8")
        self.port = free_port()
        self._process = self._group.start(
            "prometheus",
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.tsdb.path={self._work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=2h",
                "--log.level=warn",
            ],
        )
        self._wait_ready(startup_timeout)
        return self

    def set_targets(self, targets: list[str]) -> None:
        """Write the file_sd target list atomically (Prometheus picks it up on its own)."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        target_file = self._work_dir / "targets.yml"
        tmp = target_file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump([{"targets": sorted(set(targets))}]), encoding="utf-8")
        tmp.replace(target_file)

    def stop(self) -> None:
        if self._process is not None:
            self._group.stop(self._process)
            self._process = None

    def _config(self) -> dict[str, Any]:
        interval = real_duration_text(self._scrape_interval, self._clock.scale)
        if self._scrape_interval / self._clock.scale < MIN_REAL_SCRAPE_SECONDS:
            interval = f"{round(MIN_REAL_SCRAPE_SECONDS * 1000)}ms"
        return {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": interval,
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

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self._process is None or not self._process.alive:
                    tail = self._process.log_tail() if self._process else ""
                    raise ProcessError(f"prometheus exited during startup: {tail}")
                try:
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise ProcessError(f"prometheus was not ready within {timeout:.0f}s")


class PrometheusQueryClient:
    """Flagger's Prometheus provider (§5.3): instant query, 5 s timeout, last series wins."""

    def __init__(self, base_url: str, *, clock: Clock, timeout_seconds: float = 5.0) -> None:
        self._url = base_url.rstrip("/") + "/api/v1/query"
        self._scale = clock.scale
        # Flagger's 5 s is a network timeout; on a scaled clock it shrinks too, never below 0.25 s.
        self._http = httpx.Client(timeout=max(0.25, timeout_seconds / clock.scale), trust_env=False)
        self.last_sent: str | None = None

    def is_online(self) -> bool:
        try:
            return self.query("vector(1)") == 1.0
        except MetricsError:
            return False

    def query(self, promql: str) -> float:
        sent = scale_promql(_WS.sub(" ", promql).strip(), self._scale)
        self.last_sent = sent
        try:
            response = self._http.get(self._url, params={"query": sent})
        except httpx.TimeoutException as exc:
            raise MetricsError(f"Prometheus query timed out: {exc}") from exc
        except httpx.HTTPError as exc:
            raise MetricsError(f"Prometheus query failed: {exc}") from exc
        if response.status_code >= 400:
            raise MetricsError(f"error response: Status {response.status_code} {response.text[:300]}")
        return _value_of(response)

    def close(self) -> None:
        self._http.close()


def _value_of(response: httpx.Response) -> float:
    try:
        body = response.json()
        result = body["data"]["result"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MetricsError(f"error unmarshaling result: {response.text[:200]}") from exc
    if not isinstance(result, list):
        raise MetricsError("error unmarshaling result: not a vector")  # scalar/string results (§5.3)
    value: float | None = None
    for series in result:
        if "values" in series:
            raise MetricsError("query returned multiple values")
        try:
            value = float(series["value"][1])  # the last parseable value wins, as in Flagger
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    if value is None or math.isnan(value):
        raise NoValuesFound()
    return value
