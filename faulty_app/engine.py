"""The stateful shell around ``decide``: installed faults, counters, window bookkeeping, effects.

It owns an injectable monotonic clock and ``random.Random``; no Starlette in here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from faulty_app.config import BUSINESS_ROUTES, CrashFault, Fault
from faulty_app.decide import (
    NO_FAULT,
    Decision,
    Plan,
    RequestInfo,
    active_kinds,
    compile_plan,
    decide,
    is_ready,
)
from faulty_app.effects import CpuBudget, LeakStore, burn_cpu

Clock = Callable[[], float]
_BUSINESS = frozenset(BUSINESS_ROUTES)


@dataclass(frozen=True)
class CrashTimer:
    """Exit with ``exit_code`` after ``delay_seconds`` of real time (0 = now)."""

    delay_seconds: float
    exit_code: int


class FaultEngine:
    """Installed faults plus the state their windows and caps need."""

    def __init__(
        self,
        faults: tuple[Fault, ...] = (),
        *,
        time_scale: float = 1.0,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.time_scale = time_scale
        self._clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - fault injection, not cryptography
        self.leaks = LeakStore()
        self.cpu_burnt_seconds = 0.0
        self.install(faults)

    def install(self, faults: tuple[Fault, ...]) -> None:
        """Replace the whole fault list; windows and request counts restart from now."""
        self.faults = faults
        self.plan: Plan = compile_plan(faults)
        self._installed_at = self._clock()
        self.requests = 0
        self.opened_at: list[float | None] = [None] * len(faults)
        self.leaks.reset_fault_counters()
        self.cpu_budget = CpuBudget(self._clock)

    @property
    def needs_headers(self) -> bool:
        return self.plan.needs_headers

    @property
    def needs_cookies(self) -> bool:
        return self.plan.needs_cookies

    def uptime(self) -> float:
        """Emulated seconds since the fault list was installed."""
        return (self._clock() - self._installed_at) * self.time_scale

    def on_business_request(self, request: RequestInfo) -> Decision:
        """Count one business request and decide what to do to it."""
        self.requests += 1
        opening = self.plan.opens_at_request.get(self.requests)
        if not self.plan.per_request and opening is None:
            return NO_FAULT
        uptime = self.uptime()
        for index in opening or ():
            self.opened_at[index] = uptime
        return decide(
            self.plan,
            request,
            uptime=uptime,
            request_number=self.requests,
            opened_at=self.opened_at,
            rng=self.rng,
        )

    def is_business(self, path: str) -> bool:
        return path in _BUSINESS

    def ready(self) -> bool:
        return is_ready(
            self.plan, uptime=self.uptime(), request_number=self.requests + 1, opened_at=self.opened_at
        )

    def active_kinds(self) -> frozenset[str]:
        return active_kinds(
            self.plan, uptime=self.uptime(), requests_so_far=self.requests, opened_at=self.opened_at
        )

    def crash_timers(self, *, at_startup: bool) -> tuple[CrashTimer, ...]:
        """Timed crashes of the installed list (``on_startup`` installed later fires at once)."""
        timers = []
        for fault in self.faults:
            if not isinstance(fault, CrashFault):
                continue
            if fault.on_startup:
                timers.append(CrashTimer(0.0 if at_startup else 0.05, fault.exit_code))
            elif fault.after_seconds is not None:
                timers.append(CrashTimer(fault.after_seconds / self.time_scale, fault.exit_code))
        return tuple(timers)

    def apply_side_effects(self, decision: Decision) -> None:
        """Burn CPU (within the duty-cycle budget) and leak memory (within caps), synchronously."""
        if decision.cpu_ms > 0:
            allowed = self.cpu_budget.grant(decision.cpu_ms / 1000, decision.cpu_duty)
            if allowed > 0:
                self.cpu_burnt_seconds += burn_cpu(allowed)
        for leak in decision.leaks:
            self.leaks.leak(leak)
