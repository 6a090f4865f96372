"""Gateway to Locust: runs it headless in child processes and reads their bucket files.

This module never imports ``locust`` or ``gevent`` (they monkey-patch the standard library); only the
children do, through ``harness/locustfile.py``. One process runs the users, or with ``workers=N`` a master
plus N workers bound to 127.0.0.1. Every user process appends JSON lines to ``<run_dir>/buckets``;
``collect`` reads them incrementally and hands back a bucket once every process has promised (by a
watermark) not to add to it, merged across processes (see ``harness.load_model``).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from harness.errors import LoadError, ProcessError
from harness.load_model import (
    BucketRecord,
    CohortSpec,
    LocustConfig,
    RateStage,
    RouteSpec,
    Watermark,
    merge_records,
    parse_lines,
)
from harness.local.ports import free_port
from harness.local.procs import ManagedProcess, ProcessGroup
from harness.model import LoadBucket

if TYPE_CHECKING:
    from harness.backends.base import Ingress
    from harness.clock import Clock
    from harness.scenario_model import LoadProfile, Scenario, Timing

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
CONFIG_ENV = "CANARY_LOAD_CONFIG"  # the same name as in the locustfile
_PROJECT_ROOT = LOCUSTFILE.parent.parent
_TAIL_LINES = 6
_EARLY_EXIT_SLACK = 1.0  # real seconds: a clean exit this long before the run time is still "early"


@runtime_checkable
class LoadClock(Protocol):
    """The clock conversions the gateway needs (``ScaledClock`` and ``FakeClock`` have them)."""

    scale: float

    def now(self) -> float: ...

    def from_epoch(self, epoch_seconds: float) -> float: ...

    def to_emulated(self, real_seconds: float) -> float: ...

    def to_real(self, emulated_seconds: float) -> float: ...


@dataclass(frozen=True)
class ProcessState:
    name: str
    pid: int
    alive: bool
    returncode: int | None


@dataclass(frozen=True)
class LoadHealth:
    processes: tuple[ProcessState, ...]
    problem: str | None = None  # why the load can no longer be trusted; None while healthy or stopped

    @property
    def ok(self) -> bool:
        return self.problem is None


class SettleBuffer:
    """Holds records until every source's watermark has passed their bucket, then merges them."""

    def __init__(self) -> None:
        self._records: list[BucketRecord] = []
        self._through: dict[str, float] = {}

    def add(
        self, source: str, records: Iterable[BucketRecord], watermark: Watermark | None, *, final: bool
    ) -> None:
        self._records.extend(records)
        through = self._through.get(source, -math.inf)
        if watermark is not None:
            through = max(through, watermark.through)
        self._through[source] = math.inf if final else through

    def settle(self, expected_sources: int, *, drain: bool = False) -> tuple[BucketRecord, ...]:
        if drain:
            limit = math.inf
        elif len(self._through) < expected_sources:
            return ()
        else:
            limit = min(self._through.values())
        ready = [r for r in self._records if r.start < limit]
        self._records = [r for r in self._records if r.start >= limit]
        return merge_records(ready)


class _Tail:
    """Reads whole new lines of one growing JSONL file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.truncated = 0

    def read(self, *, writer_gone: bool) -> tuple[tuple[BucketRecord, ...], Watermark | None, int]:
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        chunk = parse_lines(data)
        if writer_gone and chunk.consumed < len(data):  # the writer died mid-line: drop that line
            self.truncated += 1
            self._offset += len(data)
        else:
            self._offset += chunk.consumed
        return chunk.records, chunk.watermark, chunk.malformed


class LocustLoad:
    """Locust in child processes: ``start``, poll ``collect``/``health``, then ``stop`` (idempotent)."""

    def __init__(
        self,
        config: LocustConfig,
        *,
        run_dir: Path,
        clock: LoadClock,
        python: str = sys.executable,
        stop_timeout: float | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.config = replace(config, output_dir=str(self.run_dir / "buckets"))
        self.clock = clock
        self._python = python
        self._stop_timeout = stop_timeout or config.request_timeout_seconds + 5.0
        self._connect_timeout = connect_timeout
        self._group: ProcessGroup | None = None
        self._procs: tuple[ManagedProcess, ...] = ()
        self._tails: dict[Path, _Tail] = {}
        self._buffer = SettleBuffer()
        self._malformed = 0
        self._started_at = 0.0
        self._stopped = False

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    # lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._group is not None:
            raise LoadError("the load generator was already started")
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            config_path = self.run_dir / "locust-config.json"
            config_path.write_text(self.config.to_json(), encoding="utf-8")
        except OSError as exc:
            raise LoadError(f"cannot write the load configuration under {self.run_dir}: {exc}") from exc
        self._group = ProcessGroup(self.run_dir, stop_timeout=self._stop_timeout)
        env = {CONFIG_ENV: str(config_path), "PYTHONPATH": _pythonpath()}
        self._started_at = time.monotonic()
        try:
            self._procs = tuple(self._spawn(self._group, env))
        except ProcessError as exc:
            self._group.stop_all()
            raise LoadError(f"cannot start Locust: {exc}") from exc

    def _spawn(self, group: ProcessGroup, env: dict[str, str]) -> Iterable[ManagedProcess]:
        base = [self._python, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "INFO"]
        if not self.config.workers:
            yield group.start("locust", [*base, *self._runner_args()], env=env, cwd=_PROJECT_ROOT)
            return
        port = free_port()
        master = [
            *base,
            *self._runner_args(),
            *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)),
            *("--expect-workers", str(self.config.workers)),
            *("--expect-workers-max-wait", str(math.ceil(self._connect_timeout))),
        ]
        yield group.start("locust-master", master, env=env, cwd=_PROJECT_ROOT)
        worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        for index in range(self.config.workers):
            yield group.start(f"locust-worker-{index}", worker, env=env, cwd=_PROJECT_ROOT)

    def _runner_args(self) -> list[str]:
        c = self.config
        return [
            *("--headless", "--only-summary", "--host", c.target_url),
            *("-u", str(c.users), "-r", f"{c.spawn_rate:g}"),
            *("--run-time", f"{math.ceil(c.run_time_seconds)}s"),
            *("--stop-timeout", str(math.ceil(c.request_timeout_seconds) + 1)),  # in-flight requests end
            *("--exit-code-on-error", "0"),  # failed requests are data, not a process failure
        ]

    def stop(self) -> None:
        """SIGTERM every Locust process (each flushes its last buckets), SIGKILL after a bound."""
        if self._stopped:
            return
        self._stopped = True
        if self._group is not None:
            self._group.stop_all(timeout=self._stop_timeout)

    # observation ---------------------------------------------------------------------------------

    def is_alive(self) -> bool:
        return bool(self._procs) and all(p.alive for p in self._procs)

    def health(self) -> LoadHealth:
        states = tuple(ProcessState(p.name, p.pid, p.alive, p.returncode) for p in self._procs)
        if self._stopped or not self._procs:
            return LoadHealth(states)
        return LoadHealth(states, self._problem())

    def problem(self) -> str | None:
        """The runner's ``LoadDriver`` view of ``health``."""
        return self.health().problem

    def _problem(self) -> str | None:
        for proc in self._procs:
            code = proc.returncode
            if code is None:
                continue
            ran = time.monotonic() - self._started_at
            if code == 0 and ran >= self.config.run_time_seconds - _EARLY_EXIT_SLACK:
                continue
            why = f"exited with code {code}" if code else f"ended early after {ran:.1f}s"
            return f"{proc.name} (pid {proc.pid}) {why}; last output: {_last_lines(proc)}"
        if self._malformed:
            return f"{self._malformed} unreadable line(s) in the Locust bucket files under {self.output_dir}"
        return None

    def collect(self) -> tuple[LoadBucket, ...]:
        """Buckets settled since the last call (every process has moved past them), in emulated time."""
        if not self._procs:
            return ()
        gone = {p.pid for p in self._procs if not p.alive}  # before reading: their files are complete
        try:
            for path in sorted(self.output_dir.glob("*.jsonl")):
                tail = self._tails.setdefault(path, _Tail(path))
                writer_gone = _pid_of(path) in gone
                records, watermark, malformed = tail.read(writer_gone=writer_gone)
                self._malformed += malformed
                self._buffer.add(path.name, records, watermark, final=writer_gone)
        except OSError as exc:
            raise LoadError(f"cannot read the Locust bucket files under {self.output_dir}: {exc}") from exc
        drain = self._stopped or len(gone) == len(self._procs)
        settled = self._buffer.settle(max(1, self.config.workers), drain=drain)
        return tuple(self._to_bucket(record) for record in settled)

    def _to_bucket(self, record: BucketRecord) -> LoadBucket:
        return LoadBucket(
            start=self.clock.from_epoch(record.start),
            duration=self.clock.to_emulated(record.length),
            version=record.version,
            status=record.status,
            requests=record.requests,
            bad=record.bad,
            latency_p50_ms=record.p50,
            latency_p95_ms=record.p95,
            latency_p99_ms=record.p99,
            latency_max_ms=record.max,
            hurt_users=record.hurt,
        )


# --- building the configuration from a scenario ---------------------------------------------------


def default_bucket_seconds(scale: float) -> float:
    """Real seconds per bucket: 1 s at time scale 1, 0.1 s at scale 60 (6 emulated seconds), ≥ 50 ms."""
    return min(1.0, max(0.05, 6.0 / scale))


def config_from_profile(
    profile: LoadProfile,
    *,
    target_url: str,
    host_header: str | None,
    clock: LoadClock,
    run_time_emulated: float,
    workers: int = 0,
    bucket_seconds: float | None = None,
) -> LocustConfig:
    """Scenario load → child config. Rates stay real requests/s; stage durations become real seconds."""
    return LocustConfig(
        target_url=target_url,
        host_header=host_header,
        run_time_seconds=max(10.0, clock.to_real(run_time_emulated) * 1.1 + 30.0),
        users=profile.users,
        spawn_rate=profile.spawn_rate,
        rps=profile.rps,
        shape=tuple(RateStage(clock.to_real(s.duration_seconds), s.rps) for s in profile.shape),
        routes=tuple(RouteSpec(r.path, r.method, r.weight) for r in profile.routes),
        cohorts=tuple(CohortSpec(c.name, c.fraction, c.header, c.cookie) for c in profile.cohorts),
        request_timeout_seconds=profile.request_timeout_seconds,
        bucket_seconds=bucket_seconds or default_bucket_seconds(clock.scale),
        workers=workers,
    )


def locust_driver(
    scenario: Scenario,
    ingress: Ingress,
    *,
    clock: Clock,
    run_dir: Path,
    workers: int | None = None,
    bucket_seconds: float | None = None,
) -> LocustLoad:
    """The runner's load driver for ``scenario``, aimed at ``ingress``; bounded by the scenario's timing."""
    if not isinstance(clock, LoadClock):
        raise LoadError(f"{type(clock).__name__} cannot convert Locust's epoch times to emulated time")
    config = config_from_profile(
        scenario.load,
        target_url=ingress.url,
        host_header=ingress.host_header,
        clock=clock,
        run_time_emulated=_run_length(scenario.timing),
        workers=scenario.load.workers if workers is None else workers,
        bucket_seconds=bucket_seconds,
    )
    return LocustLoad(config, run_dir=run_dir, clock=clock)


def _run_length(timing: Timing) -> float:
    return timing.warmup_seconds + timing.max_duration_seconds + timing.recovery_seconds


# --- helpers --------------------------------------------------------------------------------------


def _pythonpath() -> str:
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join([str(_PROJECT_ROOT), *([existing] if existing else [])])


def _pid_of(path: Path) -> int | None:
    _, _, pid = path.stem.rpartition("-")
    return int(pid) if pid.isdigit() else None


def _last_lines(proc: ManagedProcess) -> str:
    lines = [line for line in proc.log_tail(4000).splitlines() if line.strip()]
    return " | ".join(lines[-_TAIL_LINES:]) or "(no output)"
