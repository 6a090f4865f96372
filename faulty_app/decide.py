"""Pure fault decisions: (plan, request, uptime, request number, rng) → what to do to this request.

No I/O and no clock here: the caller passes the emulated uptime (seconds since the fault list was
installed, multiplied by ``TIME_SCALE``), the business-request ordinal and a ``random.Random``.
``compile_plan`` precomputes everything per fault once, so a request costs a few comparisons.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from faulty_app.config import (
    BUSINESS_ROUTES,
    CpuBurnFault,
    CrashFault,
    Fault,
    HangFault,
    HttpErrorsFault,
    LatencyFault,
    MemoryLeakFault,
    ReadinessFault,
    SlowBurnFault,
    Window,
    WrongAnswerFault,
)

Z_99 = 2.3263478740408408  # standard normal quantile at 0.99
_EMPTY: Mapping[str, str] = {}


@dataclass(frozen=True)
class RequestInfo:
    """What a decision may look at. ``headers`` use lower-case names."""

    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Leak:
    """Bytes to keep alive for fault ``index``, which may hold at most ``max_total`` bytes."""

    index: int
    size: int
    max_total: int


@dataclass(frozen=True)
class Decision:
    """What to do to one request; the default is "nothing"."""

    status: int | None = None  # answer with this error status instead of the route
    delay_ms: float = 0.0
    hang_ms: float | None = None
    corrupt: bool = False
    crash_code: int | None = None  # exit with this code once the response is sent
    cpu_ms: float = 0.0
    cpu_duty: float = 1.0
    leaks: tuple[Leak, ...] = ()
    applied: tuple[str, ...] = ()  # kinds that acted, for logs and tests


NO_FAULT = Decision()


@dataclass(frozen=True)
class Gate:
    """A compiled scope."""

    routes: frozenset[str]
    header: tuple[str, str] | None
    cookie: tuple[str, str] | None
    probability: float


@dataclass(frozen=True)
class CompiledFault:
    """One fault with its scope and window precomputed; ``params`` holds kind-specific numbers."""

    index: int
    fault: Fault
    gate: Gate
    window: Window
    lognormal: tuple[float, float] | None = None  # (mu, sigma) of ln(ms) for latency distributions

    @property
    def kind(self) -> str:
        return self.fault.kind


@dataclass(frozen=True)
class Plan:
    """All installed faults, compiled; ``per_request`` are those consulted on business requests."""

    faults: tuple[CompiledFault, ...]
    per_request: tuple[CompiledFault, ...]
    needs_headers: bool
    needs_cookies: bool
    opens_at_request: Mapping[int, tuple[int, ...]]  # request ordinal → indices whose window opens


def compile_plan(faults: Sequence[Fault]) -> Plan:
    """Precompute gates, windows and distribution parameters."""
    compiled = tuple(_compile(index, fault) for index, fault in enumerate(faults))
    per_request = tuple(c for c in compiled if _is_per_request(c.fault))
    opens: dict[int, list[int]] = {}
    for c in compiled:
        if c.window.start_after_requests is not None:
            opens.setdefault(c.window.start_after_requests + 1, []).append(c.index)
    return Plan(
        faults=compiled,
        per_request=per_request,
        needs_headers=any(c.gate.header is not None for c in per_request),
        needs_cookies=any(c.gate.cookie is not None for c in per_request),
        opens_at_request={ordinal: tuple(indices) for ordinal, indices in opens.items()},
    )


def _is_per_request(fault: Fault) -> bool:
    if isinstance(fault, ReadinessFault):
        return False
    return not isinstance(fault, CrashFault) or fault.after_requests is not None


def _compile(index: int, fault: Fault) -> CompiledFault:
    scope = None if isinstance(fault, ReadinessFault) else fault.scope
    gate = Gate(
        routes=frozenset(scope.routes if scope and scope.routes else BUSINESS_ROUTES),
        header=(scope.header.name.lower(), scope.header.value) if scope and scope.header else None,
        cookie=(scope.cookie.name, scope.cookie.value) if scope and scope.cookie else None,
        probability=scope.probability if scope else 1.0,
    )
    lognormal = None
    if isinstance(fault, LatencyFault) and fault.p50_ms is not None and fault.p99_ms is not None:
        lognormal = (math.log(fault.p50_ms), math.log(fault.p99_ms / fault.p50_ms) / Z_99)
    return CompiledFault(index, fault, gate, fault.window, lognormal)


def window_start(window: Window, uptime: float, request_number: int, opened_at: float | None) -> float | None:
    """Emulated uptime at which the window opened, or ``None`` while it is not open (yet)."""
    if window.start_after_requests is not None:
        if request_number <= window.start_after_requests:
            return None
        return uptime if opened_at is None else opened_at
    start = window.start_after_seconds or 0.0
    return start if uptime >= start else None


def window_open(window: Window, uptime: float, request_number: int, opened_at: float | None) -> bool:
    """Whether a request numbered ``request_number`` at ``uptime`` falls inside the window."""
    start = window_start(window, uptime, request_number, opened_at)
    if start is None:
        return False
    return window.duration_seconds is None or uptime < start + window.duration_seconds


def gate_matches(gate: Gate, request: RequestInfo, rng: random.Random) -> bool:
    """Route, cohorts, then the probability draw (drawn only when everything else matched)."""
    if request.path not in gate.routes:
        return False
    if gate.header is not None and request.headers.get(gate.header[0]) != gate.header[1]:
        return False
    if gate.cookie is not None and request.cookies.get(gate.cookie[0]) != gate.cookie[1]:
        return False
    return gate.probability >= 1.0 or rng.random() < gate.probability


def ramp(start: float, end: float, elapsed: float, duration: float) -> float:
    """Linear interpolation from ``start`` to ``end`` over ``duration``, then flat at ``end``."""
    progress = min(1.0, max(0.0, elapsed / duration))
    return start + (end - start) * progress


def decide(
    plan: Plan,
    request: RequestInfo,
    *,
    uptime: float,
    request_number: int,
    opened_at: Sequence[float | None],
    rng: random.Random,
) -> Decision:
    """Combine every matching fault into one ``Decision`` (first error status wins; delays add)."""
    acc = _Accumulator()
    for compiled in plan.per_request:
        window = compiled.window
        opened = opened_at[compiled.index]
        if not window_open(window, uptime, request_number, opened):
            continue
        if not gate_matches(compiled.gate, request, rng):
            continue
        start = window_start(window, uptime, request_number, opened) or 0.0
        _apply(compiled, acc, uptime - start, request_number, rng)
    return acc.decision() if acc.applied else NO_FAULT


class _Accumulator:
    __slots__ = (
        "applied",
        "corrupt",
        "cpu_duty",
        "cpu_ms",
        "crash_code",
        "delay_ms",
        "hang_ms",
        "leaks",
        "status",
    )

    def __init__(self) -> None:
        self.status: int | None = None
        self.delay_ms = 0.0
        self.hang_ms: float | None = None
        self.corrupt = False
        self.crash_code: int | None = None
        self.cpu_ms = 0.0
        self.cpu_duty = 1.0
        self.leaks: list[Leak] = []
        self.applied: list[str] = []

    def error(self, codes: Sequence[int], rng: random.Random) -> None:
        if self.status is None:
            self.status = codes[0] if len(codes) == 1 else rng.choice(codes)

    def decision(self) -> Decision:
        return Decision(
            status=self.status,
            delay_ms=self.delay_ms,
            hang_ms=self.hang_ms,
            corrupt=self.corrupt,
            crash_code=self.crash_code,
            cpu_ms=self.cpu_ms,
            cpu_duty=self.cpu_duty,
            leaks=tuple(self.leaks),
            applied=tuple(self.applied),
        )


def _apply(
    compiled: CompiledFault, acc: _Accumulator, elapsed: float, number: int, rng: random.Random
) -> None:
    fault = compiled.fault
    acted = True
    if isinstance(fault, HttpErrorsFault):
        acted = rng.random() < fault.rate
        if acted:
            acc.error(fault.status_codes, rng)
    elif isinstance(fault, LatencyFault):
        acted = _latency(compiled, acc, rng)
    elif isinstance(fault, SlowBurnFault):
        acted = _slow_burn(fault, acc, elapsed, rng)
    elif isinstance(fault, CrashFault):
        acted = fault.after_requests is not None and number >= fault.after_requests
        if acted and acc.crash_code is None:
            acc.crash_code = fault.exit_code
    elif isinstance(fault, HangFault):
        acc.hang_ms = fault.hold_ms if acc.hang_ms is None else min(acc.hang_ms, fault.hold_ms)
    elif isinstance(fault, WrongAnswerFault):
        acc.corrupt = True
    elif isinstance(fault, CpuBurnFault):
        acc.cpu_ms += fault.ms_per_request
        acc.cpu_duty = min(acc.cpu_duty, fault.max_duty_cycle)
    elif isinstance(fault, MemoryLeakFault):
        acc.leaks.append(Leak(compiled.index, fault.bytes_per_request, fault.max_total_bytes))
    if acted:
        acc.applied.append(fault.kind)


def _latency(compiled: CompiledFault, acc: _Accumulator, rng: random.Random) -> bool:
    fault = compiled.fault
    assert isinstance(fault, LatencyFault)
    if compiled.lognormal is not None:
        mu, sigma = compiled.lognormal
        acc.delay_ms += math.exp(mu + sigma * rng.gauss(0.0, 1.0))
        return True
    if fault.delay_ms is None or (fault.fraction is not None and rng.random() >= fault.fraction):
        return False
    acc.delay_ms += fault.delay_ms
    return True


def _slow_burn(fault: SlowBurnFault, acc: _Accumulator, elapsed: float, rng: random.Random) -> bool:
    acted = False
    if fault.latency_ms is not None:
        added = ramp(fault.latency_ms.start, fault.latency_ms.end, elapsed, fault.ramp_seconds)
        acc.delay_ms += added
        acted = added > 0
    if fault.error_rate is not None:
        rate = ramp(fault.error_rate.start, fault.error_rate.end, elapsed, fault.ramp_seconds)
        if rng.random() < rate:
            acc.error(fault.status_codes, rng)
            acted = True
    return acted


def is_ready(plan: Plan, *, uptime: float, request_number: int, opened_at: Sequence[float | None]) -> bool:
    """Readiness under every open ``readiness`` fault (``flap`` is unready first in each period)."""
    for compiled in plan.faults:
        fault = compiled.fault
        if not isinstance(fault, ReadinessFault):
            continue
        opened = opened_at[compiled.index]
        if not window_open(compiled.window, uptime, request_number, opened):
            continue
        elapsed = uptime - (window_start(compiled.window, uptime, request_number, opened) or 0.0)
        if not _ready_now(fault, elapsed):
            return False
    return True


def _ready_now(fault: ReadinessFault, elapsed: float) -> bool:
    if fault.mode == "never":
        return False
    if fault.mode == "delay":
        return elapsed >= (fault.ready_after_seconds or 0.0)
    period = fault.period_seconds or 1.0
    return (elapsed % period) / period >= fault.unready_fraction


def active_kinds(
    plan: Plan, *, uptime: float, requests_so_far: int, opened_at: Sequence[float | None]
) -> frozenset[str]:
    """Kinds with at least one fault whose window is open now (for ``app_fault_active``)."""
    return frozenset(
        c.kind for c in plan.faults if window_open(c.window, uptime, requests_so_far + 1, opened_at[c.index])
    )
