"""The pure decision functions, with a seeded rng and explicit uptimes (no clock, no I/O)."""

from __future__ import annotations

import math
import random

import pytest

from faulty_app.config import parse_faults
from faulty_app.decide import (
    NO_FAULT,
    RequestInfo,
    active_kinds,
    compile_plan,
    decide,
    is_ready,
    ramp,
)

ROOT = RequestInfo("/")


def plan_of(*faults: dict):
    return compile_plan(parse_faults(list(faults)))


def run(plan, request=ROOT, *, uptime=0.0, number=1, opened=None, seed=1):
    opened_at = opened if opened is not None else [None] * len(plan.faults)
    rng = random.Random(seed)
    return decide(plan, request, uptime=uptime, request_number=number, opened_at=opened_at, rng=rng)


class TestDecide:
    def test_no_faults_is_no_fault(self):
        """An empty plan returns the shared NO_FAULT decision."""
        assert run(plan_of()) is NO_FAULT

    def test_first_error_wins_and_delays_add(self):
        """Two error faults: the first status is used; two latency faults add up."""
        plan = plan_of(
            {"kind": "http_errors", "rate": 1, "status_codes": [502]},
            {"kind": "http_errors", "rate": 1, "status_codes": [503]},
            {"kind": "latency", "delay_ms": 10},
            {"kind": "latency", "delay_ms": 15},
        )
        decision = run(plan)
        assert (decision.status, decision.delay_ms) == (502, 25)
        assert decision.applied == ("http_errors", "http_errors", "latency", "latency")

    def test_routes_and_cohorts(self):
        """Route, header (case-insensitive name) and cookie must all match."""
        plan = plan_of(
            {
                "kind": "wrong_answer",
                "scope": {
                    "routes": ["/api/orders"],
                    "header": {"name": "X-Group", "value": "b"},
                    "cookie": {"name": "c", "value": "1"},
                },
            }
        )
        match = RequestInfo("/api/orders", {"x-group": "b"}, {"c": "1"})
        assert run(plan, match).corrupt
        assert run(plan, RequestInfo("/", {"x-group": "b"}, {"c": "1"})) is NO_FAULT
        assert run(plan, RequestInfo("/api/orders", {"x-group": "a"}, {"c": "1"})) is NO_FAULT
        assert run(plan, RequestInfo("/api/orders", {"x-group": "b"}, {})) is NO_FAULT
        assert plan.needs_headers
        assert plan.needs_cookies

    def test_window_by_seconds(self):
        """start 10 s, duration 5 s: closed at 9.9, open at 10 and 14.9, closed at 15."""
        plan = plan_of({"kind": "hang", "window": {"start_after_seconds": 10, "duration_seconds": 5}})
        assert [run(plan, uptime=t).hang_ms is not None for t in (9.9, 10.0, 14.9, 15.0)] == [
            False,
            True,
            True,
            False,
        ]

    def test_window_by_requests_uses_the_opening_time(self):
        """after 3 requests, duration 2 s: the 4th request opens it; it closes 2 s after that."""
        plan = plan_of({"kind": "wrong_answer", "window": {"start_after_requests": 3, "duration_seconds": 2}})
        assert plan.opens_at_request == {4: (0,)}
        assert run(plan, number=3, uptime=50) is NO_FAULT
        assert run(plan, number=5, uptime=51, opened=[50.0]).corrupt
        assert run(plan, number=6, uptime=52, opened=[50.0]) is NO_FAULT

    def test_http_error_rate_statistics(self):
        """rate 0.3 over 20,000 decisions lands within 99.9 % of 0.3."""
        plan = plan_of({"kind": "http_errors", "rate": 0.3})
        rng = random.Random(3)
        hits = sum(
            decide(plan, ROOT, uptime=0, request_number=1, opened_at=[None], rng=rng).status == 500
            for _ in range(20_000)
        )
        assert abs(hits / 20_000 - 0.3) <= 3.29 * math.sqrt(0.21 / 20_000)

    def test_lognormal_quantiles(self):
        """p50 20 / p99 200: sampled quantiles over 20,000 draws match within a few percent."""
        plan = plan_of({"kind": "latency", "p50_ms": 20, "p99_ms": 200})
        rng = random.Random(5)
        delays = sorted(
            decide(plan, ROOT, uptime=0, request_number=1, opened_at=[None], rng=rng).delay_ms
            for _ in range(20_000)
        )
        assert delays[10_000] == pytest.approx(20, rel=0.05)
        assert delays[19_800] == pytest.approx(200, rel=0.10)

    def test_slow_burn_follows_the_ramp(self):
        """Error rate 0→1 over 100 s: about half the requests fail at 50 s, all at 150 s."""
        plan = plan_of({"kind": "slow_burn", "ramp_seconds": 100, "error_rate": {"start": 0, "end": 1}})
        at_50 = [run(plan, uptime=50, seed=seed).status for seed in range(2000)]
        assert abs(at_50.count(500) / 2000 - 0.5) < 0.05
        assert all(run(plan, uptime=150, seed=seed).status == 500 for seed in range(50))

    def test_crash_after_requests(self):
        """after_requests 3: the third request carries the exit code, the second does not."""
        plan = plan_of({"kind": "crash", "after_requests": 3, "exit_code": 9})
        assert run(plan, number=2) is NO_FAULT
        assert run(plan, number=3).crash_code == 9

    def test_ramp(self):
        """Linear between the ends, flat after the duration."""
        assert [ramp(0, 10, t, 10) for t in (-1, 0, 5, 10, 20)] == [0, 0, 5, 10, 10]


class TestReadinessAndGauge:
    def test_modes(self):
        """never, delay and flap (unready during the first half of each period)."""
        never = plan_of({"kind": "readiness", "mode": "never"})
        delay = plan_of({"kind": "readiness", "mode": "delay", "ready_after_seconds": 10})
        flap = plan_of({"kind": "readiness", "mode": "flap", "period_seconds": 10})

        def ready(plan, t):
            return is_ready(plan, uptime=t, request_number=1, opened_at=[None])

        assert not ready(never, 1000)
        assert [ready(delay, t) for t in (0, 9.9, 10)] == [False, False, True]
        assert [ready(flap, t) for t in (0, 4.9, 5, 9.9, 10, 15)] == [False, False, True, True, False, True]

    def test_active_kinds_follow_windows(self):
        """The gauge set contains a kind only while its window is open."""
        plan = plan_of(
            {"kind": "latency", "delay_ms": 1, "window": {"start_after_seconds": 5}},
            {"kind": "cpu_burn", "ms_per_request": 1, "window": {"start_after_requests": 2}},
        )

        def kinds(t, requests):
            return active_kinds(plan, uptime=t, requests_so_far=requests, opened_at=[None, None])

        assert kinds(0, 0) == frozenset()
        assert kinds(6, 0) == {"latency"}
        assert kinds(6, 2) == {"latency", "cpu_burn"}
