"""Drive a per-canary job on Flagger's tick grid, with Go ``time.Ticker`` semantics (spec §2.1).

The job fires immediately, then at ``start + k·interval``. When one run overruns the interval, Go's
ticker keeps at most one tick buffered: the next run starts right away, then realigns to the grid.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from harness.clock import Clock


class TickLoop:
    """Runs ``job`` on the grid in a daemon thread until ``stop()``; exceptions go to ``on_error``."""

    def __init__(
        self,
        job: Callable[[], object],
        *,
        interval: float,
        clock: Clock,
        on_error: Callable[[BaseException], None],
        name: str = "flagger-job",
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._job = job
        self._interval = interval
        self._clock = clock
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.fired = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        start = self._clock.now()
        index = 0  # grid index of the tick about to fire
        while not self._stop.is_set():
            delay = start + index * self._interval - self._clock.now()
            if delay > 0 and self._stop.wait(self._clock.scale and delay / self._clock.scale):
                return
            if self._stop.is_set():
                return
            self._fire()
            due = math.floor((self._clock.now() - start) / self._interval)
            # Overran: the ticks that came due collapse into one buffered tick that fires at once.
            index = index + 1 if due <= index else due

    def _fire(self) -> None:
        self.fired += 1
        try:
            self._job()
        except BaseException as exc:  # the job must never kill the loop silently
            self._on_error(exc)
