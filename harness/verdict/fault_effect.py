"""What a scenario's faults should do to canary traffic, so a verdict can tell whether they did (pure).

``expected_effect(scenario)`` summarises the revision's faults and the run-time fault plan into a
``FaultExpectation``: the share of canary requests that should be bad, the latency they should gain,
whether the canary should never become ready, and whether the effect is visible to users at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faulty_app.config import (
    CpuBurnFault,
    CrashFault,
    HangFault,
    HttpErrorsFault,
    LatencyFault,
    ReadinessFault,
    SlowBurnFault,
    WrongAnswerFault,
    parse_faults,
)
from faulty_app.decide import ramp
from harness.scenario.model import LoadProfile, Scenario


@dataclass(frozen=True)
class ErrorRamp:
    """A slow burn's error rate, ``start`` → ``end`` over ``seconds`` of the pod's clock, × ``share``."""

    start: float
    end: float
    seconds: float
    share: float

    def rate_after(self, elapsed: float) -> float:
        return ramp(self.start, self.end, elapsed, self.seconds) * self.share  # the app's own ramp

    @property
    def mean(self) -> float:
        return (self.start + self.end) / 2 * self.share


@dataclass(frozen=True)
class FaultExpectation:
    """The configured fault's expected effect on canary requests while it is on."""

    error_fraction: float = 0.0  # share of canary requests expected bad (5xx, no answer, wrong body)
    server_error_fraction: float = 0.0  # the 5xx part of it: what Traefik's request-success-rate sees
    added_latency_ms: float = 0.0
    latency_fraction: float = 0.0  # share of canary requests that get the added latency
    blocks_readiness: bool = False  # the canary should never (or not reliably) become ready
    observable: bool = True  # False: no user-visible effect expected (memory leak, readiness delay)
    from_start: bool = False  # in the revision's pod template: onset = the trigger
    description: str = ""
    # slow-burn error ramps; error_fraction counts their mean over the whole ramp, which a rollout stopped
    # early never reaches (harness.verdict.reach expects the ramp's value at the time of each request)
    error_ramps: tuple[ErrorRamp, ...] = ()


def expected_effect(scenario: Scenario) -> FaultExpectation | None:
    """None when the scenario injects no fault at all (a control, or low traffic)."""
    from_start = bool(scenario.revision.faults)
    specs: list[Mapping[str, Any]] = [
        *scenario.revision.faults,
        *(scenario.fault.spec if scenario.fault else ()),
    ]
    if not specs:
        return None
    return combine(parse_faults(list(specs), source=str(scenario.file)), scenario.load, from_start=from_start)


def combine(faults: Sequence[object], load: LoadProfile, *, from_start: bool) -> FaultExpectation:
    error = server_error = latency = latency_share = 0.0
    blocks = False
    visible = False
    kinds: list[str] = []
    ramps: list[ErrorRamp] = []
    for fault in faults:
        kinds.append(str(getattr(fault, "kind", type(fault).__name__)))
        share = _share(fault, load)
        if isinstance(fault, HttpErrorsFault) and fault.counts_for_flagger:
            error += fault.rate * share
            server_error += fault.rate * share
        elif isinstance(fault, SlowBurnFault):
            if fault.error_rate is not None:
                burn = fault.error_rate
                error_ramp = ErrorRamp(burn.start, burn.end, fault.ramp_seconds, share)
                ramps.append(error_ramp)
                error += error_ramp.mean
                server_error += error_ramp.mean
            if fault.latency_ms is not None:
                latency, latency_share = (
                    max(latency, (fault.latency_ms.start + fault.latency_ms.end) / 2),
                    share,
                )
        elif isinstance(fault, LatencyFault):
            added = fault.delay_ms if fault.delay_ms is not None else (fault.p50_ms or 0.0)
            latency, latency_share = max(latency, added), max(latency_share, (fault.fraction or 1.0) * share)
        elif isinstance(fault, CpuBurnFault):
            latency, latency_share = max(latency, fault.ms_per_request), max(latency_share, share)
        elif isinstance(fault, HangFault):
            error += share if fault.hold_ms / 1000 >= load.request_timeout_seconds else 0.0
            latency, latency_share = max(latency, fault.hold_ms), max(latency_share, share)
        elif isinstance(fault, WrongAnswerFault):
            error += share
        elif isinstance(fault, CrashFault):
            blocks = True
        elif isinstance(fault, ReadinessFault):
            blocks = blocks or fault.mode in ("never", "flap")
        visible = visible or error > 0 or latency > 0 or blocks
    return FaultExpectation(
        error_fraction=min(error, 1.0),
        server_error_fraction=min(server_error, 1.0),
        added_latency_ms=latency,
        latency_fraction=min(latency_share, 1.0),
        blocks_readiness=blocks,
        observable=visible,
        from_start=from_start,
        description="+".join(kinds),
        error_ramps=tuple(ramps),
    )


def _share(fault: object, load: LoadProfile) -> float:
    """Share of the load a fault's scope matches: probability × cohort fraction × route weight share."""
    scope = getattr(fault, "scope", None)
    if scope is None:
        return 1.0
    share = float(scope.probability)
    if scope.header is not None or scope.cookie is not None:
        share *= sum(
            c.fraction
            for c in load.cohorts
            if _matches(c.header, scope.header) or _matches(c.cookie, scope.cookie)
        )
    if scope.routes:
        total = sum(r.weight for r in load.routes)
        share *= sum(r.weight for r in load.routes if r.path in scope.routes) / total if total else 0.0
    return share


def _matches(pairs: Iterable[tuple[str, str]], wanted: object) -> bool:
    if wanted is None:
        return False
    name, value = str(getattr(wanted, "name", "")).lower(), getattr(wanted, "value", None)
    return any(key.lower() == name and item == value for key, item in pairs)
