"""Child processes that can never be orphaned.

Every child gets its own session (process group) so ``stop`` reaches its grandchildren too, and on Linux
``PR_SET_PDEATHSIG=SIGKILL`` so the kernel kills it when the harness dies, even by SIGKILL. The death
signal fires when the *thread* that forked exits, so every fork happens on one long-lived daemon thread.
Output (stdout and stderr merged) goes to ``<run_dir>/<name>.log``, bounded in size.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Self

from harness.errors import Interrupted, ProcessError

DEFAULT_MAX_LOG_BYTES = 4 * 1024 * 1024
_TAIL_BYTES = 64 * 1024  # kept in memory once the log is full, appended at EOF
_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    prctl: Callable[..., int] = libc.prctl
    return prctl


_PRCTL = _load_prctl()  # resolved in the parent: the forked child must not load libraries


def _preexec(parent_pid: int) -> Callable[[], None]:
    def run_in_child() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died between fork and prctl
            os._exit(1)

    return run_in_child


class _Spawner:
    """Runs every ``Popen`` on one daemon thread that lives as long as the process."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], subprocess.Popen[bytes]], Future[object]]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="procs-spawner", daemon=True)
                self._thread.start()
        if threading.current_thread() is self._thread:
            return job()
        future: Future[object] = Future()
        self._jobs.put((job, future))
        result = future.result()
        assert isinstance(result, subprocess.Popen)
        return result

    def _loop(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                future.set_result(job())
            except BaseException as exc:  # handed back to the caller's thread
                future.set_exception(exc)


_SPAWNER = _Spawner()


class _BoundedLog:
    """Copies a pipe to a file: the first ``limit`` bytes, then only the last 64 KiB (written at EOF)."""

    def __init__(self, pipe: IO[bytes], path: Path, limit: int) -> None:
        self._pipe = pipe
        self._path = path
        self._limit = limit
        self._thread = threading.Thread(target=self._copy, name=f"log-{path.name}", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        with self._path.open("ab") as out:
            budget = max(0, self._limit - out.tell())
            tail = bytearray()
            dropped = 0
            while chunk := os.read(self._pipe.fileno(), 65536):
                if budget > 0:
                    head, chunk = chunk[:budget], chunk[budget:]
                    out.write(head)
                    out.flush()
                    budget -= len(head)
                tail += chunk
                if len(tail) > _TAIL_BYTES:
                    dropped += len(tail) - _TAIL_BYTES
                    del tail[: len(tail) - _TAIL_BYTES]
            if dropped:
                out.write(f"\n[... {dropped} bytes dropped: log limit {self._limit} ...]\n".encode())
            out.write(tail)
        self._pipe.close()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def pid_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie (an exited child nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


class ManagedProcess:
    """One child process in its own process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        popen: subprocess.Popen[bytes],
        log_path: Path,
        max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.log_path = log_path
        self._popen = popen
        assert popen.stdout is not None
        self._log = _BoundedLog(popen.stdout, log_path, max_log_bytes)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has exited (negative = killed by that signal), else None."""
        return self._popen.poll()

    @property
    def alive(self) -> bool:
        return self._popen.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the whole process group (the child and anything it spawned)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the group, wait up to ``timeout`` real seconds, then SIGKILL it. Idempotent."""
        self.signal_group(signal.SIGTERM)
        code = self.wait(timeout)
        self.signal_group(signal.SIGKILL)  # stragglers in the group, or the child itself
        if code is None:
            code = self.wait(5.0)
        self._log.join(1.0)
        return code

    def log_tail(self, max_bytes: int = 4000) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - max_bytes))
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def __repr__(self) -> str:
        return f"ManagedProcess({self.name!r}, pid={self.pid}, returncode={self.returncode})"


_GROUPS: weakref.WeakSet[ProcessGroup] = weakref.WeakSet()


class ProcessGroup:
    """A registry of children started for one run; ``stop_all`` (also run at exit) ends every one."""

    def __init__(
        self, run_dir: Path, *, max_log_bytes: int = DEFAULT_MAX_LOG_BYTES, stop_timeout: float = 5.0
    ) -> None:
        self.run_dir = Path(run_dir)
        self.max_log_bytes = max_log_bytes
        self.stop_timeout = stop_timeout
        self._procs: list[ManagedProcess] = []
        self._lock = threading.Lock()
        self._closed = False
        _GROUPS.add(self)

    @property
    def processes(self) -> tuple[ManagedProcess, ...]:
        with self._lock:
            return tuple(self._procs)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        """Start ``argv`` with ``env`` added to this process's environment; raises ``ProcessError``."""
        if self._closed:
            raise ProcessError(f"cannot start {name!r}: the process group was stopped")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.run_dir / f"{_safe(name)}.log"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        parent = os.getpid()

        def spawn() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                list(argv),
                env=full_env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_preexec(parent),  # only prctl + getppid run in the child
                close_fds=True,
            )

        with log_path.open("ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} start {' '.join(argv)}\n".encode())
        try:
            popen = _SPAWNER.run(spawn)
        except OSError as exc:
            raise ProcessError(f"cannot start {name!r} ({argv[0]}): {exc}") from exc
        proc = ManagedProcess(name, argv, popen, log_path, self.max_log_bytes)
        with self._lock:
            self._procs.append(proc)
        return proc

    def stop(self, proc: ManagedProcess, timeout: float | None = None) -> int | None:
        """Stop one child and forget it."""
        code = proc.stop(self.stop_timeout if timeout is None else timeout)
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)
        return code

    def stop_all(self, timeout: float | None = None) -> None:
        """SIGTERM every child at once, wait up to ``timeout`` in total, SIGKILL the rest. Idempotent."""
        self._closed = True
        with self._lock:
            procs, self._procs = list(reversed(self._procs)), []
        if not procs:
            return
        for proc in procs:
            proc.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        for proc in procs:
            proc.wait(max(0.0, deadline - time.monotonic()))
        for proc in procs:
            proc.stop(timeout=0.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100] or "process"


@atexit.register
def _stop_every_group() -> None:
    for group in list(_GROUPS):
        group.stop_all()


def install_signal_handlers() -> Callable[[], None]:
    """Turn the first SIGINT/SIGTERM into ``Interrupted`` raised in the main thread; later ones are
    ignored so ``finally`` cleanup can finish. Returns a function that restores the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("signal handlers can only be installed from the main thread")
    fired = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired.is_set():
            return
        fired.set()
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


@contextlib.contextmanager
def interrupts_as_exceptions() -> Iterator[None]:
    """``with`` form of ``install_signal_handlers``."""
    restore = install_signal_handlers()
    try:
        yield
    finally:
        restore()
