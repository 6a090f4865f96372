"""Injectable time.

All controller, supervisor and verdict logic reads *emulated* seconds from a ``Clock``. ``ScaledClock``
runs emulated time ``scale`` times faster than real time (scale 60: a 1m Flagger interval takes 1 s);
``FakeClock`` only moves when told to, so tests assert exact tick times without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Emulated time source. ``now`` is monotonic seconds since the clock's start."""

    scale: float

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wall(self, at: float | None = None) -> datetime: ...


class ScaledClock:
    """Real time sped up by ``scale``; ``sleep`` takes emulated seconds."""

    def __init__(self, scale: float = 1.0, *, start_wall: datetime | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"time scale must be > 0, got {scale!r}")
        self.scale = float(scale)
        self._t0 = time.monotonic()
        self._epoch0 = time.time()
        self._wall0 = start_wall or datetime.now(UTC)

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def wall(self, at: float | None = None) -> datetime:
        return self._wall0 + timedelta(seconds=self.now() if at is None else at)

    def to_real(self, emulated_seconds: float) -> float:
        return emulated_seconds / self.scale

    def to_emulated(self, real_seconds: float) -> float:
        return real_seconds * self.scale

    def emulated_at(self, monotonic_real: float) -> float:
        """Convert a ``time.monotonic()`` reading into emulated seconds on this clock."""
        return (monotonic_real - self._t0) * self.scale

    def from_epoch(self, epoch_seconds: float) -> float:
        """Convert a ``time.time()`` reading (e.g. from a Locust child process) into emulated seconds."""
        return (epoch_seconds - self._epoch0) * self.scale


class FakeClock:
    """A clock that advances only through ``advance``/``sleep``; thread-safe."""

    def __init__(self, start: float = 0.0, *, start_wall: datetime | None = None, scale: float = 1.0) -> None:
        self.scale = scale
        self._now = float(start)
        self._lock = threading.Lock()
        self._wall0 = start_wall or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("FakeClock cannot go backwards")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def set(self, at: float) -> None:
        with self._lock:
            self._now = float(at)

    def wall(self, at: float | None = None) -> datetime:
        return self._wall0 + timedelta(seconds=self.now() if at is None else at)

    def to_real(self, emulated_seconds: float) -> float:
        return emulated_seconds / self.scale

    def to_emulated(self, real_seconds: float) -> float:
        return real_seconds * self.scale

    def from_epoch(self, epoch_seconds: float) -> float:
        """Fake time has no epoch anchor: epoch readings are taken as emulated seconds."""
        return epoch_seconds
