"""Tick grid semantics of the local Flagger job."""

from __future__ import annotations

import threading
import time

from harness.backends.local.ticker import TickLoop
from harness.clock import ScaledClock


class TestTickLoop:
    def test_fires_immediately_then_on_the_grid(self) -> None:
        """The first tick runs at once and later ticks land on start + k·interval (no drift)."""
        clock = ScaledClock(scale=100.0)  # interval 10 s emulated = 0.1 s real
        fired: list[float] = []
        done = threading.Event()

        def job() -> None:
            fired.append(clock.now())
            if len(fired) == 6:
                done.set()

        loop = TickLoop(job, interval=10.0, clock=clock, on_error=lambda e: None)
        loop.start()
        assert done.wait(5.0)
        loop.stop()
        start = fired[0]
        for k, at in enumerate(fired):
            assert abs((at - start) - 10.0 * k) < 4.0, fired  # within 40 ms real of the grid

    def test_overrun_runs_one_buffered_tick_then_realigns(self) -> None:
        """A job that overruns two intervals is followed by one immediate tick, then the grid."""
        clock = ScaledClock(scale=100.0)
        fired: list[float] = []
        done = threading.Event()

        def job() -> None:
            fired.append(clock.now())
            if len(fired) == 1:
                time.sleep(0.25)  # 25 s emulated: ticks at 10 and 20 come due, collapse into one
            if len(fired) == 4:
                done.set()

        loop = TickLoop(job, interval=10.0, clock=clock, on_error=lambda e: None)
        loop.start()
        assert done.wait(5.0)
        loop.stop()
        start = fired[0]
        offsets = [at - start for at in fired]
        assert 24.0 <= offsets[1] < 29.0, offsets  # buffered tick right after the slow run
        assert abs(offsets[2] - 30.0) < 4.0, offsets  # back on the grid
        assert abs(offsets[3] - 40.0) < 4.0, offsets

    def test_errors_are_reported_and_the_loop_goes_on(self) -> None:
        """An exception in one tick is handed to on_error and the next tick still fires."""
        clock = ScaledClock(scale=100.0)
        errors: list[BaseException] = []
        calls: list[int] = []
        done = threading.Event()

        def job() -> None:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("boom")
            done.set()

        loop = TickLoop(job, interval=10.0, clock=clock, on_error=errors.append)
        loop.start()
        assert done.wait(5.0)
        loop.stop()
        assert [str(e) for e in errors] == ["boom"]
        assert not loop.alive
