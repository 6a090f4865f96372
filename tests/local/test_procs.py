"""Child processes that can never be orphaned, signal handling, and loopback ports."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import Interrupted, ProcessError
from harness.processes.ports import free_port, is_port_free, wait_listening
from harness.processes.procs import ProcessGroup, install_signal_handlers, interrupts_as_exceptions, pid_alive

ORPHAN_HARNESS = Path(__file__).parent / "orphan_harness.py"
_PR_SET_CHILD_SUBREAPER = 36


def all_gone(pids: list[int], timeout: float) -> bool:
    """Wait until no pid exists any more: os.kill(pid, 0) fails (zombies we adopted are reaped)."""
    deadline = time.monotonic() + timeout
    while any(exists(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def exists(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is (or became) our child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def child_subreaper() -> Iterator[None]:
    """Adopt orphaned descendants (PR_SET_CHILD_SUBREAPER) so dead ones can be reaped and disappear;
    this machine's PID 1 does not reap zombies."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield
    finally:
        prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


class TestProcessGroup:
    def test_stop_all_kills_the_whole_process_group(self, group: ProcessGroup) -> None:
        """A child and the grandchild it spawned both die on stop_all, even when the child ignores SIGTERM."""
        proc = group.start("shell", ["sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"])
        deadline = time.monotonic() + 5
        while not (last := proc.log_path.read_text().strip().splitlines()[-1]).isdigit():
            assert time.monotonic() < deadline, "the shell never printed its child's pid"
            time.sleep(0.02)
        grandchild = int(last)
        assert pid_alive(grandchild)
        started = time.monotonic()
        group.stop_all(timeout=0.5)
        assert all_gone([proc.pid, grandchild], 5.0)
        assert time.monotonic() - started < 3.0
        assert proc.returncode == -signal.SIGKILL

    def test_stop_all_is_idempotent_and_final(self, group: ProcessGroup) -> None:
        """stop_all twice is harmless, and nothing can be started afterwards."""
        proc = group.start("sleeper", ["sleep", "30"])
        group.stop_all()
        group.stop_all()
        assert not proc.alive
        assert group.processes == ()
        with pytest.raises(ProcessError):
            group.start("late", ["sleep", "1"])

    def test_log_is_bounded(self, tmp_path: Path) -> None:
        """A chatty child fills its log up to the limit plus a 64 KiB tail and a note, no more."""
        with ProcessGroup(tmp_path, max_log_bytes=10_000) as procs:
            proc = procs.start("chatty", [sys.executable, "-c", "print('x' * 999 * 3000); print('THE END')"])
            assert proc.wait(10.0) == 0
            procs.stop(proc)
        text = proc.log_path.read_text()
        assert len(text) < 10_000 + 65_536 + 200
        assert "bytes dropped" in text
        assert text.rstrip().endswith("THE END")

    def test_unstartable_command_is_a_process_error(self, group: ProcessGroup) -> None:
        """A missing executable raises ProcessError, not OSError."""
        with pytest.raises(ProcessError, match="cannot start"):
            group.start("nope", ["/nonexistent/binary"])

    def test_child_survives_the_thread_that_asked_for_it(self, group: ProcessGroup) -> None:
        """Children forked on behalf of a short-lived thread live on (PDEATHSIG is per forking thread)."""
        started: list[int] = []
        worker = threading.Thread(target=lambda: started.append(group.start("t", ["sleep", "30"]).pid))
        worker.start()
        worker.join()
        time.sleep(0.3)
        assert pid_alive(started[0])


class TestSignals:
    def test_sigterm_becomes_interrupted(self) -> None:
        """SIGTERM raises Interrupted in the main thread; later signals are ignored; restore puts the old
        handlers back."""
        previous = signal.getsignal(signal.SIGTERM)
        with interrupts_as_exceptions(), pytest.raises(Interrupted, match="SIGTERM"):  # noqa: PT012
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)
        assert signal.getsignal(signal.SIGTERM) == previous

    def test_handlers_only_from_the_main_thread(self) -> None:
        """Installing from another thread is refused."""
        errors: list[BaseException] = []

        def install() -> None:
            try:
                install_signal_handlers()
            except RuntimeError as exc:
                errors.append(exc)

        worker = threading.Thread(target=install)
        worker.start()
        worker.join()
        assert len(errors) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
class TestNoOrphans:
    def start_harness(self, tmp_path: Path) -> tuple[subprocess.Popen[str], list[int], list[int]]:
        harness = subprocess.Popen(
            [sys.executable, str(ORPHAN_HARNESS), str(tmp_path / "run")],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert harness.stdout is not None
        line = harness.stdout.readline()
        assert line, "the harness script printed nothing"
        info = json.loads(line)
        assert len(info["pids"]) == 3
        assert all(pid_alive(pid) for pid in info["pids"])
        assert not any(is_port_free(port) for port in info["ports"])
        return harness, info["pids"], info["ports"]

    def test_sigkilled_harness_leaves_no_children(self, tmp_path: Path) -> None:
        """kill -9 of the harness: every app and router process is gone within 5 s and ports are free."""
        with child_subreaper():
            self.kill_harness_and_check(tmp_path)

    def kill_harness_and_check(self, tmp_path: Path) -> None:
        harness, pids, ports = self.start_harness(tmp_path)
        try:
            harness.kill()
            assert harness.wait(5.0) == -signal.SIGKILL
            assert all_gone(pids, 5.0), [pid for pid in pids if exists(pid)]
            assert all(is_port_free(port) for port in ports)
        finally:
            harness.stdout.close()  # type: ignore[union-attr]
            for pid in pids:
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)

    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
    def test_interrupted_harness_cleans_up(self, tmp_path: Path, sig: signal.Signals) -> None:
        """SIGINT/SIGTERM of the harness: its finally block stops every child, exit code 130."""
        harness, pids, ports = self.start_harness(tmp_path)
        try:
            harness.send_signal(sig)
            out, _ = harness.communicate(timeout=15.0)
            assert harness.returncode == 130
            assert f"interrupted by {sig.name}" in out
            assert "cleaned up" in out
            assert all_gone(pids, 1.0)
            assert all(is_port_free(port) for port in ports)
        finally:
            harness.kill()
            for pid in pids:
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)


class TestPorts:
    def test_free_port_is_free_and_then_taken(self) -> None:
        """free_port returns a bindable port that is never handed out twice, and is_port_free sees a
        listener."""
        import socket

        port = free_port()
        assert port not in {free_port() for _ in range(20)}
        assert is_port_free(port)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            assert not is_port_free(port)
            assert wait_listening(port, 1.0)
        assert is_port_free(port)
