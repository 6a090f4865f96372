"""Test helpers: run ``canary-chaos`` as a child, follow its partial journal, and list what it left behind.

Processes are found by walking ``/proc`` for the descendants of the CLI process (the harness starts its
children in new sessions, but their parent pid is still the harness), sampled repeatedly while it runs,
so a child that outlives the harness is caught even after it was re-parented to init.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
CLI = str(ROOT / ".venv" / "bin" / "canary-chaos")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of ``pid``, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), fields[0]


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` in the parent tree."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                children.setdefault(st[0], []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def processes_mentioning(text: str) -> set[int]:
    """Live processes whose command line or environment mentions ``text`` (e.g. the report dir)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def _listening() -> dict[int, tuple[str, int]]:
    """socket inode → (local address, port) for every TCP socket in LISTEN state (IPv4 and IPv6)."""
    found: dict[int, tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] != "0A":  # TCP_LISTEN
                continue
            address, port = parts[1].split(":")
            found[int(parts[9])] = (_address(address), int(port, 16))
    return found


def _address(hex_address: str) -> str:
    if len(hex_address) == 8:
        return ".".join(str(b) for b in reversed(bytes.fromhex(hex_address)))
    words = [bytes.fromhex(hex_address[i : i + 8])[::-1].hex() for i in range(0, 32, 8)]
    return ":".join(words)


def listening_of(pids: Iterable[int]) -> set[tuple[int, str, int]]:
    """(pid, address, port) of every listening socket held by ``pids``."""
    table = _listening()
    found = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inode = int(target[8:-1])
                if inode in table:
                    found.add((pid, *table[inode]))
    return found


def listening_ports() -> set[int]:
    return {port for _, port in _listening().values()}


def loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("0000:0000:0000:0000:0000:0000:0000:0001",)


@dataclass
class CliRun:
    """A ``canary-chaos run`` child, watched: every descendant and listening port it ever had."""

    proc: subprocess.Popen[bytes]
    report_dir: Path
    seen: set[int] = field(default_factory=set)
    ports: set[tuple[int, str, int]] = field(default_factory=set)
    out: str | None = None
    err: str | None = None

    def sample(self) -> None:
        kids = descendants(self.proc.pid)
        self.seen |= kids
        self.ports |= listening_of(kids | {self.proc.pid})

    def partial_lines(self) -> list[dict[str, Any]]:
        out = []
        for path in self.report_dir.glob("*/runs/*/journal.json.partial.jsonl"):
            for line in path.read_text(errors="replace").splitlines():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def stages(self) -> list[str]:
        return [
            str(e["data"]["detail"])
            for e in self.partial_lines()
            if e.get("kind") == "marks" and e["data"].get("kind") == "stage"
        ]

    def marks(self) -> list[str]:
        return [str(e["data"]["kind"]) for e in self.partial_lines() if e.get("kind") == "marks"]

    def wait_for(self, predicate: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.sample()
            if predicate():
                return True
            time.sleep(poll)
        return predicate()

    def finish(self, timeout: float) -> int:
        """Wait for the exit, sampling descendants meanwhile; returns the exit code."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.sample()
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.kill()
            raise AssertionError(f"canary-chaos did not exit within {timeout}s")
        self._drain()
        return self.proc.returncode

    def _drain(self) -> None:
        if self.out is None:
            self.proc.wait(10)
            self.out = self.report_dir.with_suffix(".stdout").read_text(errors="replace")
            self.err = self.report_dir.with_suffix(".stderr").read_text(errors="replace")

    def kill(self) -> None:
        """Last-resort cleanup: SIGKILL the CLI and every descendant it ever had."""
        for pid in [self.proc.pid, *self.seen]:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.proc.wait(5)
        self._drain()

    def leftovers(self) -> set[int]:
        """Processes of this run still alive after it exited."""
        time.sleep(0.2)  # give the kernel's PDEATHSIG a moment to land
        return {p for p in self.seen if alive(p)} | processes_mentioning(str(self.report_dir))

    def stderr(self) -> str:
        self._drain()
        return self.err or ""


def start_cli(args: list[str], report_dir: Path) -> CliRun:
    """Output goes to files next to ``report_dir``: a chatty child must never block on a full pipe."""
    out_path, err_path = report_dir.with_suffix(".stdout"), report_dir.with_suffix(".stderr")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [CLI, *args, "--report-dir", str(report_dir), "--no-progress"],
            cwd=ROOT,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    return CliRun(proc, report_dir)
