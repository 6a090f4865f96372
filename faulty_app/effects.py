"""Bounded side effects: CPU burning under a duty-cycle budget and a capped memory leak."""

from __future__ import annotations

import time
from collections.abc import Callable

from faulty_app.config import CAPS
from faulty_app.decide import Leak

Clock = Callable[[], float]


class CpuBudget:
    """Token bucket of CPU time: refills at ``duty`` CPU-seconds per second, holds at most 1 s worth.

    Whatever the request rate, the time spent burning stays ≤ duty × elapsed + duty × 1 s.
    """

    def __init__(self, clock: Clock = time.perf_counter) -> None:
        self._clock = clock
        self._tokens: float | None = None  # seconds of CPU we may still burn; None = full
        self._last = clock()

    def grant(self, wanted_seconds: float, duty: float) -> float:
        """Seconds of burning allowed now (≤ ``wanted_seconds``), and take them from the bucket."""
        now = self._clock()
        capacity = min(duty, CAPS.cpu_duty_cycle)
        tokens = capacity if self._tokens is None else self._tokens + (now - self._last) * capacity
        tokens = min(tokens, capacity)
        granted = max(0.0, min(wanted_seconds, tokens, CAPS.cpu_burn_ms / 1000))
        self._tokens, self._last = tokens - granted, now
        return granted


def burn_cpu(
    seconds: float, cpu_clock: Clock = time.thread_time, wall_clock: Clock = time.perf_counter
) -> float:
    """Busy-loop until ``seconds`` of CPU time (hard-capped at 200 ms) are used; return CPU used.

    A starved process stops after 1 s of wall time whatever it burnt, so a request is never held long.
    """
    cpu_start, wall_deadline = cpu_clock(), wall_clock() + 1.0
    target = cpu_start + min(seconds, CAPS.cpu_burn_ms / 1000)
    while cpu_clock() < target and wall_clock() < wall_deadline:
        pass
    return cpu_clock() - cpu_start


class LeakStore:
    """Keeps leaked blocks alive; per fault up to its ``max_total``, overall ≤ 256 MiB for the process."""

    def __init__(self, hard_cap: int = CAPS.leak_total_bytes) -> None:
        self._blocks: list[bytes] = []
        self._per_fault: dict[int, int] = {}
        self._hard_cap = hard_cap
        self.total = 0

    def reset_fault_counters(self) -> None:
        """A new fault list starts counting from zero; memory already leaked stays leaked."""
        self._per_fault.clear()

    def leak(self, leak: Leak) -> int:
        """Allocate and touch up to ``leak.size`` bytes within the caps; return bytes leaked."""
        held = self._per_fault.get(leak.index, 0)
        size = min(leak.size, leak.max_total - held, self._hard_cap - self.total)
        if size <= 0:
            return 0
        self._blocks.append(b"\x01" * size)  # written, so the pages are really resident
        self._per_fault[leak.index] = held + size
        self.total += size
        return size
