"""The load generator gateway: Locust in child processes, never in this one.

``locust_driver`` builds a ``LocustLoad`` (a ``harness.run.runner.LoadDriver``). ``start`` spawns
``python -m locust -f harness/load/locustfile.py --headless …`` (or a master plus N workers) through
``harness.processes.procs.ProcessGroup``, so the children can never be orphaned. Each child appends JSON
lines per bucket to ``<run_dir>/load/load-<role><index>.jsonl``; ``collect`` tails those files (keeping
offsets, tolerating a torn last line), merges them (``harness.load.model``) and returns each complete
bucket once. ``stop`` asks the children to drain and write their last bucket, then kills what is left;
call ``collect`` once more *after* ``stop`` to get the buckets flushed at quit.

This module must never import ``locust`` or ``gevent`` (their monkey-patching would leak into the
harness): only the child does, through ``harness/load/locustfile.py``.
"""

from __future__ import annotations

import dataclasses
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from harness.clock import Clock
from harness.errors import LoadError, ProcessError
from harness.load.model import (
    CONFIG_ENV,
    INDEX_ENV,
    ROLE_ENV,
    BucketMerger,
    ChildConfig,
    CohortConfig,
    RouteConfig,
    StageConfig,
    parse_line,
    split_lines,
    to_load_bucket,
)
from harness.model import Ingress, LoadBucket
from harness.processes.procs import ManagedProcess, ProcessGroup
from harness.scenario.cohorts import request_headers
from harness.scenario.model import LoadProfile, Scenario

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MAX_RUN_SECONDS = 2 * 3600  # the child's own run-time bound (real seconds); stop() ends it earlier
STARTUP_GRACE_SECONDS = 20.0  # real seconds before the first request must have been recorded
_STOP_MARGIN_SECONDS = 3.0  # beyond the request timeout, for the children's drain and final flush


@runtime_checkable
class EpochClock(Protocol):
    """What the gateway needs from the run clock to place child (epoch) times on the timeline."""

    scale: float

    def from_epoch(self, epoch_seconds: float) -> float: ...

    def to_emulated(self, real_seconds: float) -> float: ...


def child_config(
    load: LoadProfile, ingress: Ingress, *, scale: float, out_dir: Path, bucket_seconds: float
) -> ChildConfig:
    """The child's configuration for ``load`` (shape durations converted to real seconds)."""
    return ChildConfig(
        url=ingress.url,
        host_header=ingress.host_header,
        users=load.users,
        out_dir=str(out_dir),
        start_epoch=time.time(),
        rps=load.rps,
        shape=tuple(StageConfig(stage.duration_seconds / scale, stage.rps) for stage in load.shape),
        routes=tuple(
            RouteConfig(
                route.path,
                route.method.upper(),
                route.weight,
                validate_checksum=route.method.upper() == "POST" and route.path.startswith("/api/orders"),
            )
            for route in load.routes
        ),
        cohorts=tuple(CohortConfig(c.name, c.fraction, request_headers(c)) for c in load.cohorts),
        seed=load.seed,
        request_timeout_seconds=load.request_timeout_seconds,
        bucket_seconds=bucket_seconds,
    )


def locust_driver(
    scenario: Scenario,
    ingress: Ingress,
    *,
    clock: Clock,
    run_dir: Path,
    workers: int = 0,
    bucket_real_seconds: float | None = None,
) -> LocustLoad:
    """A LoadDriver for ``scenario.load`` against ``ingress``.

    ``workers`` > 0 runs Locust distributed (0 falls back to ``scenario.load.workers``). Buckets default
    to 10 emulated seconds, kept within [0.25, 1] real seconds."""
    if not isinstance(clock, EpochClock):
        raise LoadError(
            f"the load gateway needs a clock with from_epoch/to_emulated, got {type(clock).__name__}"
        )
    bucket = bucket_real_seconds or min(1.0, max(0.25, 10.0 / clock.scale))
    timing = scenario.timing
    bound = (timing.warmup_seconds + timing.max_duration_seconds + timing.recovery_seconds) / clock.scale
    config = child_config(
        scenario.load, ingress, scale=clock.scale, out_dir=Path(run_dir) / "load", bucket_seconds=bucket
    )
    return LocustLoad(
        config,
        clock=clock,
        run_dir=Path(run_dir),
        workers=workers or scenario.load.workers,
        spawn_rate=scenario.load.spawn_rate,
        run_time_seconds=min(MAX_RUN_SECONDS, bound + 60.0),
    )


class LocustLoad:
    """Locust children as a LoadDriver: ``start``, ``collect``, ``problem``, ``stop`` (idempotent)."""

    def __init__(
        self,
        config: ChildConfig,
        *,
        clock: EpochClock,
        run_dir: Path,
        workers: int = 0,
        spawn_rate: float = 10.0,
        run_time_seconds: float = 600.0,
        stall_seconds: float = 10.0,
    ) -> None:
        self.config = dataclasses.replace(config, workers=workers)
        self.clock = clock
        self.run_dir = Path(run_dir).resolve()  # the children run with cwd = run_dir: paths must be absolute
        self.workers = workers
        self.spawn_rate = spawn_rate
        self.run_time_seconds = max(1, min(MAX_RUN_SECONDS, int(run_time_seconds)))
        self.stall_seconds = stall_seconds
        self._group = ProcessGroup(
            run_dir, stop_timeout=config.request_timeout_seconds + _STOP_MARGIN_SECONDS
        )
        self._master: ManagedProcess | None = None
        self._runners: list[ManagedProcess] = []  # the processes that run users and write files
        roles = [("worker", i) for i in range(workers)] if workers else [("local", 0)]
        self._sources = {f"{role}{i}": Path(config.out_dir) / f"load-{role}{i}.jsonl" for role, i in roles}
        self._offsets = dict.fromkeys(self._sources, 0)
        self._partial = dict.fromkeys(self._sources, b"")
        self._merger = BucketMerger(tuple(self._sources))
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._last_growth = 0.0
        self._seen = 0
        self._stopped = False

    @property
    def processes(self) -> tuple[ManagedProcess, ...]:
        """The Locust children started so far (master first, then the ones running users)."""
        return (*([self._master] if self._master else []), *self._runners)

    # LoadDriver ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the Locust process(es); raises ``LoadError`` if one cannot be started."""
        if self._started_at is not None:
            return
        Path(self.config.out_dir).mkdir(parents=True, exist_ok=True)
        self.config = dataclasses.replace(self.config, start_epoch=time.time())
        config_path = self.run_dir / "loadgen-config.json"
        config_path.write_text(self.config.to_json())
        env = {CONFIG_ENV: str(config_path)}
        self._started_at = self._last_growth = time.monotonic()
        try:
            if not self.workers:
                self._runners.append(
                    self._spawn("locust", [*self._run_args(), *self._common()], env, "local", 0)
                )
                return
            port = _free_port()
            master_args = ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
            master_args += ["--expect-workers", str(self.workers), "--expect-workers-max-wait", "60"]
            self._master = self._spawn(
                "locust-master", [*self._run_args(), *master_args, *self._common()], env, "master", 0
            )
            worker_args = [
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                str(port),
                *self._common(),
            ]
            for index in range(self.workers):
                self._runners.append(self._spawn(f"locust-worker{index}", worker_args, env, "worker", index))
        except ProcessError as exc:
            self.stop()
            raise LoadError(f"cannot start the load generator: {exc}") from exc

    def collect(self) -> Sequence[LoadBucket]:
        """Complete buckets not returned before; after ``stop`` also the last, partial ones."""
        with self._lock:
            self._read_files()
            records = self._merger.release(everything=self._stopped)
        return [to_load_bucket(record, self.clock.from_epoch, self.clock.to_emulated) for record in records]

    def problem(self) -> str | None:
        """None while healthy; why the load can no longer be trusted otherwise."""
        if self._stopped or self._started_at is None:
            return None
        for proc in self.processes:
            code = proc.returncode
            if code is not None:
                tail = " | ".join(proc.log_tail(1500).strip().splitlines()[-5:])
                return (
                    f"load generator {proc.name} (pid {proc.pid}) exited with code {code} before stop: {tail}"
                )
        with self._lock:
            self._read_files()
        now = time.monotonic()
        if self.config.rps_at(time.time() - self.config.start_epoch) <= 0:
            self._last_growth = now  # no traffic is expected right now
        limit = self.stall_seconds if self._seen else max(self.stall_seconds, STARTUP_GRACE_SECONDS)
        if now - self._last_growth > limit:
            return f"no requests recorded for {now - self._last_growth:.0f} real seconds"
        return None

    def stop(self) -> None:
        """Drain and stop every child (SIGTERM, then SIGKILL after a bound). Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        bound = self.config.request_timeout_seconds + _STOP_MARGIN_SECONDS
        for proc in self._runners:  # users first, so the master cannot kill them mid-request
            proc.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + bound
        for proc in self._runners:
            self._group.stop(proc, timeout=max(0.0, deadline - time.monotonic()))
        self._group.stop_all(timeout=bound)
        with self._lock:
            self._read_files()

    # internals -------------------------------------------------------------------------------------

    def _common(self) -> list[str]:
        return ["-f", str(LOCUSTFILE), "--loglevel", "WARNING", "--exit-code-on-error", "0"]

    def _run_args(self) -> list[str]:
        return [
            "--headless", "--only-summary", "--host", self.config.url, "-u", str(self.config.users),
            "-r", str(self.spawn_rate), "--run-time", f"{self.run_time_seconds}s",
        ]  # fmt: skip

    def _spawn(
        self, name: str, args: list[str], env: dict[str, str], role: str, index: int
    ) -> ManagedProcess:
        argv = [sys.executable, "-m", "locust", *args]
        # cwd = run_dir: Locust must not pick up a locust.conf / pyproject.toml of the caller's directory
        return self._group.start(
            name, argv, env={**env, ROLE_ENV: role, INDEX_ENV: str(index)}, cwd=self.run_dir
        )

    def _read_files(self) -> None:
        for source, path in self._sources.items():
            try:
                with path.open("rb") as handle:
                    handle.seek(self._offsets[source])
                    chunk = handle.read()
            except FileNotFoundError:
                continue
            self._offsets[source] += len(chunk)
            lines, self._partial[source] = split_lines(self._partial[source] + chunk)
            self._merger.add(source, (record for line in lines if (record := parse_line(line)) is not None))
        if self._merger.requests_seen > self._seen:
            self._seen = self._merger.requests_seen
            self._last_growth = time.monotonic()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
