"""Caps of the side effects and the engine's bookkeeping, on a fake clock."""

from __future__ import annotations

import random

from faulty_app.config import parse_faults
from faulty_app.decide import Leak, RequestInfo
from faulty_app.effects import CpuBudget, LeakStore, burn_cpu
from faulty_app.engine import FaultEngine

MIB = 1024 * 1024


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestCpuBudget:
    def test_duty_cycle_bounds_the_burn(self):
        """Asking 100 ms every 100 ms at duty 0.5 yields ≤ 0.5·elapsed + 0.5 s of burn."""
        clock = FakeClock()
        budget = CpuBudget(clock)
        granted = 0.0
        for _ in range(100):  # 10 s of requests
            granted += budget.grant(0.1, 0.5)
            clock.now += 0.1
        assert granted <= 0.5 * 10 + 0.5 + 1e-9
        assert granted >= 0.5 * 10 - 0.1

    def test_per_request_hard_cap(self):
        """Even with a full bucket, one grant never exceeds 200 ms, and the duty cap is 0.8."""
        assert CpuBudget(FakeClock()).grant(5.0, 0.8) <= 0.2
        assert CpuBudget(FakeClock()).grant(5.0, 1.0) <= 0.2

    def test_burn_cpu_is_capped(self):
        """burn_cpu(5 s) uses about 200 ms of CPU and returns."""
        assert 0.19 <= burn_cpu(5.0) < 0.21


class TestLeakStore:
    def test_per_fault_and_hard_caps(self):
        """A fault stops at its max_total; all faults together stop at the hard cap."""
        store = LeakStore(hard_cap=3 * MIB)
        leaked = [store.leak(Leak(0, MIB, 2 * MIB)) for _ in range(3)]
        assert leaked == [MIB, MIB, 0]
        assert store.leak(Leak(1, 2 * MIB, 8 * MIB)) == MIB
        assert store.total == 3 * MIB


class TestEngine:
    def test_time_scale_and_request_windows(self):
        """TIME_SCALE 60: 1 real second is 60 emulated; the window opens at request 3."""
        clock = FakeClock()
        faults = parse_faults(
            [{"kind": "wrong_answer", "window": {"start_after_requests": 2, "duration_seconds": 60}}]
        )
        engine = FaultEngine(faults, time_scale=60, clock=clock, rng=random.Random(1))
        clock.now += 1.0
        assert engine.uptime() == 60.0
        decisions = [engine.on_business_request(RequestInfo("/")).corrupt for _ in range(3)]
        assert decisions == [False, False, True]
        assert engine.opened_at == [60.0]
        clock.now += 0.99
        assert engine.on_business_request(RequestInfo("/")).corrupt
        clock.now += 0.02
        assert not engine.on_business_request(RequestInfo("/")).corrupt

    def test_crash_timers_are_scaled(self):
        """after_seconds 120 at TIME_SCALE 60 fires after 2 real seconds; on_startup at once."""
        faults = parse_faults(
            [{"kind": "crash", "after_seconds": 120}, {"kind": "crash", "on_startup": True}]
        )
        engine = FaultEngine(faults, time_scale=60, clock=FakeClock())
        timers = engine.crash_timers(at_startup=True)
        assert [(t.delay_seconds, t.exit_code) for t in timers] == [(2.0, 1), (0.0, 1)]

    def test_install_resets_counters(self):
        """A new list restarts request counts and the uptime origin."""
        clock = FakeClock()
        engine = FaultEngine((), clock=clock)
        engine.on_business_request(RequestInfo("/"))
        clock.now += 5
        engine.install(())
        assert (engine.requests, engine.uptime()) == (0, 0.0)
