"""Expected fault effects: what share of canary requests a configured fault should hurt."""

from __future__ import annotations

import pytest

from faulty_app.config import parse_faults
from harness.scenario.model import Cohort, LoadProfile, Route
from harness.verdict.fault_effect import FaultExpectation, combine

LOAD = LoadProfile(
    rps=100,
    routes=(Route("/", weight=3), Route("/api/orders", weight=1)),
    cohorts=(Cohort("beta", 0.3, header=(("X-Cohort", "beta"),)),),
    request_timeout_seconds=2,
)
BETA = {"name": "x-cohort", "value": "beta"}


def effect(*faults: dict[str, object], from_start: bool = True) -> FaultExpectation:
    return combine(parse_faults(list(faults)), LOAD, from_start=from_start)


class TestCombine:
    @pytest.mark.parametrize(
        ("fault", "error"),
        [
            ({"kind": "http_errors", "rate": 1.0}, 1.0),
            ({"kind": "http_errors", "rate": 0.5, "status_codes": [404]}, 0.0),
            ({"kind": "http_errors", "rate": 1.0, "scope": {"header": BETA}}, 0.3),
            (
                {
                    "kind": "http_errors",
                    "rate": 1.0,
                    "scope": {"routes": ["/api/orders"], "probability": 0.5},
                },
                1 / 8,
            ),
            ({"kind": "slow_burn", "ramp_seconds": 60, "error_rate": {"start": 0.0, "end": 0.5}}, 0.25),
            ({"kind": "wrong_answer"}, 1.0),
            ({"kind": "hang", "hold_ms": 10000, "scope": {"probability": 0.25}}, 0.25),
            ({"kind": "hang", "hold_ms": 1000}, 0.0),
        ],
        ids=[
            "all-500",
            "only-4xx",
            "cohort",
            "route-share",
            "slow-burn",
            "wrong-answer",
            "hang",
            "short-hang",
        ],
    )
    def test_error_fraction(self, fault: dict[str, object], error: float) -> None:
        """Only 5xx, timeouts and wrong bodies count, scaled by probability, cohort and route share."""
        assert effect(fault).error_fraction == pytest.approx(error)

    def test_latency_and_readiness(self) -> None:
        """Latency faults give added ms and the affected share; crash and never-ready block readiness."""
        tail = effect({"kind": "latency", "delay_ms": 1500, "fraction": 0.04})
        assert (tail.added_latency_ms, tail.latency_fraction) == (1500, pytest.approx(0.04))
        assert effect({"kind": "crash", "on_startup": True}).blocks_readiness
        assert effect({"kind": "readiness", "mode": "never"}).blocks_readiness
        assert not effect({"kind": "readiness", "mode": "delay", "ready_after_seconds": 30}).blocks_readiness

    def test_invisible_faults(self) -> None:
        """A memory leak is expected to have no user-visible effect."""
        leak = effect({"kind": "memory_leak", "bytes_per_request": 1024}, from_start=False)
        assert not leak.observable
        assert not leak.from_start
        assert leak.description == "memory_leak"
