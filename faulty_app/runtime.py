"""Process-wide state shared by the ASGI layers: settings, fault engine, metrics, crash timers."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import time
from collections.abc import Callable

from faulty_app.config import Fault, HttpErrorsFault, SlowBurnFault
from faulty_app.engine import FaultEngine
from faulty_app.metrics import AppMetrics
from faulty_app.settings import AppSettings

log = logging.getLogger("faulty_app")
ExitFn = Callable[[int], None]


def exit_now(code: int) -> None:
    """Die at once, as a crashing process would (no cleanup, no graceful shutdown)."""
    sys.stderr.write(f"faulty_app: crash fault: exiting with code {code}\n")
    sys.stderr.flush()
    os._exit(code)


class Runtime:
    """The one mutable object of a running app."""

    def __init__(
        self,
        settings: AppSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        exit_fn: ExitFn = exit_now,
    ) -> None:
        self.settings = settings
        self.version = settings.version
        self.version_header = (b"x-app-version", settings.version.encode("ascii"))
        self.metrics = AppMetrics(settings.version)
        if rng is None and settings.seed is not None:
            rng = random.Random(settings.seed)  # noqa: S311 - reproducible fault draws
        self.engine = FaultEngine(settings.faults, time_scale=settings.time_scale, clock=clock, rng=rng)
        self.exit_fn = exit_fn
        self.dying = False
        self._timers: list[asyncio.TimerHandle] = []
        _warn_uncounted(settings.faults)

    def start(self) -> None:
        """Called once the event loop runs (lifespan startup): arm the installed crash timers."""
        self._arm_crash_timers(at_startup=True)

    def install(self, faults: tuple[Fault, ...]) -> None:
        """Replace the fault list at run time (admin API)."""
        self.engine.install(faults)
        _warn_uncounted(faults)
        self._arm_crash_timers(at_startup=False)

    def crash_after_response(self, code: int) -> None:
        """Refuse further work and exit shortly, once the current response has been flushed."""
        self.dying = True
        asyncio.get_running_loop().call_later(0.02, self.exit_fn, code)

    def _arm_crash_timers(self, *, at_startup: bool) -> None:
        for handle in self._timers:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._timers = []
        for timer in self.engine.crash_timers(at_startup=at_startup):
            if timer.delay_seconds == 0:
                self.exit_fn(timer.exit_code)
            else:
                self._timers.append(loop.call_later(timer.delay_seconds, self.exit_fn, timer.exit_code))

    def render_metrics(self) -> bytes:
        engine = self.engine
        return self.metrics.render(engine.active_kinds(), engine.cpu_burnt_seconds, engine.leaks.total)


def _warn_uncounted(faults: tuple[Fault, ...]) -> None:
    for index, fault in enumerate(faults):
        codes = _error_codes(fault)
        if codes and not any(code >= 500 for code in codes):
            log.warning(
                "faults[%d] (%s) returns only 4xx: Flagger will not count these as failures",
                index,
                fault.kind,
            )


def _error_codes(fault: Fault) -> tuple[int, ...]:
    if isinstance(fault, HttpErrorsFault):
        return fault.status_codes
    if isinstance(fault, SlowBurnFault) and fault.error_rate is not None:
        return fault.status_codes
    return ()
