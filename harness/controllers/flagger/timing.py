"""The per-canary job's tick grid (``pkg/controller/job.go`` + Go ``time.Ticker``, spec §2.1).

The job runs once at creation (grid index 0), then at ``start + k·interval``. If a run overruns, the
ticks that came due collapse into one buffered tick that fires at once; later ticks stay on the grid.
"""

from __future__ import annotations

import math


def next_index(index: int, start: float, finished_at: float, interval: float) -> int:
    """Grid index of the tick after the run of ``index`` that finished at ``finished_at``."""
    due = math.floor((finished_at - start) / interval)
    return index + 1 if due <= index else due


def tick_time(index: int, start: float, interval: float) -> float:
    """Nominal time of grid tick ``index``."""
    return start + index * interval


def delay_until(index: int, start: float, now: float, interval: float) -> float:
    """How long to sleep before tick ``index`` (0 when it is already due)."""
    return max(0.0, tick_time(index, start, interval) - now)
