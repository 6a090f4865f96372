"""Fault configuration: pydantic models (``extra='forbid'``) and the public parsers.

Faults are data. ``parse_faults`` turns a JSON/YAML-shaped list into frozen models or raises
``FaultConfigError`` whose ``problems`` name the exact field path (relative to the list, e.g.
``[1].rate``), what was expected and what was found. Every field ending in ``_seconds`` is a
duration in *emulated* seconds (divided by ``TIME_SCALE`` at run time); fields ending in ``_ms``
are per-request latencies and are never scaled. Hard caps keep every fault from taking the
machine down (see ``faulty_app/README.md``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from faulty_app._problems import FaultConfigError, FaultProblem, problems_from_validation_error, show

__all__ = [
    "BUSINESS_ROUTES",
    "CAPS",
    "KINDS",
    "Fault",
    "FaultConfigError",
    "FaultProblem",
    "dump_faults",
    "load_faults_text",
    "parse_faults",
]

BUSINESS_ROUTES: tuple[str, ...] = ("/", "/api/orders")
MAX_TEXT_BYTES = 1024 * 1024
MIB = 1024 * 1024


class Caps:
    """Hard caps; validation refuses anything beyond them."""

    latency_ms = 60_000.0
    hang_ms = 300_000.0
    cpu_burn_ms = 200.0
    cpu_duty_cycle = 0.8
    leak_bytes_per_request = 16 * MIB
    leak_total_bytes = 256 * MIB
    seconds = 10_000_000.0


CAPS = Caps()

Fraction = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Seconds = Annotated[float, Strict(), Field(ge=0, le=Caps.seconds, allow_inf_nan=False)]
PositiveSeconds = Annotated[float, Strict(), Field(gt=0, le=Caps.seconds, allow_inf_nan=False)]
LatencyMs = Annotated[float, Strict(), Field(ge=0, le=Caps.latency_ms, allow_inf_nan=False)]
ErrorStatus = Annotated[int, Strict(), Field(ge=400, le=599)]
RouteName = Literal["/", "/api/orders"]

_FRACTION = "a number between 0 and 1"
_SECONDS = f"a number of seconds between 0 and {Caps.seconds:g}"
_POSITIVE_SECONDS = f"a number of seconds > 0 and ≤ {Caps.seconds:g}"
_LATENCY = f"a number of milliseconds between 0 and {Caps.latency_ms:g}"
_STATUS_CODES = "a non-empty list of HTTP status codes between 400 and 599 (only 5xx count for Flagger)"


def _rule(field: str, expected: str) -> PydanticCustomError:
    """A cross-field rule violation, located at ``field`` by ``problems_from_validation_error``."""
    return PydanticCustomError(
        "fault_rule", "{field}: expected {expected}", {"field": field, "expected": expected}
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cohort(_Model):
    """Requests whose header (or cookie) ``name`` has exactly ``value``."""

    name: Annotated[str, Strict()] = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
        description="a header or cookie name",
    )
    value: Annotated[str, Strict()] = Field(
        max_length=1024, description="a string of at most 1024 characters"
    )


class Scope(_Model):
    """Which requests a fault applies to; all conditions must hold."""

    routes: tuple[RouteName, ...] | None = Field(
        default=None, min_length=1, description="a non-empty list of business routes: '/' or '/api/orders'"
    )
    header: Cohort | None = Field(default=None, description="a cohort object {name, value}")
    cookie: Cohort | None = Field(default=None, description="a cohort object {name, value}")
    probability: Fraction = Field(default=1.0, description=_FRACTION)


class Window(_Model):
    """When a fault is active, measured from the moment its fault list was installed."""

    start_after_seconds: Seconds | None = Field(default=None, description=_SECONDS)
    start_after_requests: Annotated[int, Strict()] | None = Field(
        default=None, ge=0, description="a whole number of requests ≥ 0"
    )
    duration_seconds: PositiveSeconds | None = Field(default=None, description=_POSITIVE_SECONDS)

    @model_validator(mode="after")
    def _one_start(self) -> Self:
        if self.start_after_seconds is not None and self.start_after_requests is not None:
            raise _rule("start_after_requests", "only one of start_after_seconds / start_after_requests")
        return self


class _Base(_Model):
    name: Annotated[str, Strict()] | None = Field(
        default=None, min_length=1, max_length=64, description="a name of 1 to 64 characters"
    )
    window: Window = Field(default_factory=Window, description="a window object")


class _Scoped(_Base):
    scope: Scope = Field(default_factory=Scope, description="a scope object")


class HttpErrorsFault(_Scoped):
    """Answer a fraction ``rate`` of requests with one of ``status_codes``."""

    kind: Literal["http_errors"]
    rate: Fraction = Field(description=_FRACTION)
    status_codes: tuple[ErrorStatus, ...] = Field(default=(500,), min_length=1, description=_STATUS_CODES)

    @property
    def counts_for_flagger(self) -> bool:
        """Flagger's request-success-rate only counts 5xx responses as failures."""
        return any(code >= 500 for code in self.status_codes)


class LatencyFault(_Scoped):
    """Added latency: fixed ``delay_ms`` (optionally for a ``fraction``), or lognormal p50/p99."""

    kind: Literal["latency"]
    delay_ms: LatencyMs | None = Field(default=None, description=_LATENCY)
    fraction: Fraction | None = Field(default=None, description=_FRACTION)
    p50_ms: LatencyMs | None = Field(default=None, description=_LATENCY)
    p99_ms: LatencyMs | None = Field(default=None, description=_LATENCY)

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        has_dist = self.p50_ms is not None or self.p99_ms is not None
        if self.delay_ms is not None and has_dist:
            raise _rule("delay_ms", "either delay_ms or p50_ms/p99_ms, not both")
        if self.delay_ms is None and not has_dist:
            raise _rule("delay_ms", "delay_ms, or both p50_ms and p99_ms")
        if self.fraction is not None and self.delay_ms is None:
            raise _rule("fraction", "fraction only together with delay_ms")
        if has_dist:
            if self.p50_ms is None or self.p50_ms <= 0:
                raise _rule("p50_ms", "a number of milliseconds > 0 (with p99_ms)")
            if self.p99_ms is None or self.p99_ms < self.p50_ms:
                raise _rule("p99_ms", f"a number of milliseconds ≥ p50_ms ({self.p50_ms:g})")
        return self


class RateRamp(_Model):
    """A fraction ramping linearly from ``start`` to ``end``."""

    start: Fraction = Field(description=_FRACTION)
    end: Fraction = Field(description=_FRACTION)


class LatencyRamp(_Model):
    """A latency in ms ramping linearly from ``start`` to ``end``."""

    start: LatencyMs = Field(description=_LATENCY)
    end: LatencyMs = Field(description=_LATENCY)


class SlowBurnFault(_Scoped):
    """Error rate and/or latency ramping linearly over ``ramp_seconds`` after the window opens."""

    kind: Literal["slow_burn"]
    ramp_seconds: PositiveSeconds = Field(description=_POSITIVE_SECONDS)
    error_rate: RateRamp | None = Field(default=None, description="a ramp object {start, end} of fractions")
    latency_ms: LatencyRamp | None = Field(
        default=None, description="a ramp object {start, end} of milliseconds"
    )
    status_codes: tuple[ErrorStatus, ...] = Field(default=(500,), min_length=1, description=_STATUS_CODES)

    @model_validator(mode="after")
    def _something_ramps(self) -> Self:
        if self.error_rate is None and self.latency_ms is None:
            raise _rule("error_rate", "error_rate and/or latency_ms")
        return self

    @property
    def counts_for_flagger(self) -> bool:
        """Flagger's request-success-rate only counts 5xx responses as failures."""
        return self.error_rate is not None and any(code >= 500 for code in self.status_codes)


class CrashFault(_Scoped):
    """``os._exit(exit_code)`` on startup, after some seconds, or at the N-th matching request."""

    kind: Literal["crash"]
    exit_code: Annotated[int, Strict()] = Field(default=1, ge=0, le=255, description="an exit code 0..255")
    on_startup: Annotated[bool, Strict()] = Field(default=False, description="true or false")
    after_seconds: Seconds | None = Field(default=None, description=_SECONDS)
    after_requests: Annotated[int, Strict()] | None = Field(
        default=None, ge=1, description="a whole number of requests ≥ 1"
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> Self:
        triggers = [self.on_startup, self.after_seconds is not None, self.after_requests is not None]
        if sum(triggers) != 1:
            raise _rule("on_startup", "exactly one of on_startup: true, after_seconds, after_requests")
        return self


class ReadinessFault(_Base):
    """/readyz fails: ``never`` ready, ready after a ``delay``, or ``flap`` with a period."""

    kind: Literal["readiness"]
    mode: Literal["never", "delay", "flap"] = Field(description="one of 'never', 'delay', 'flap'")
    ready_after_seconds: PositiveSeconds | None = Field(default=None, description=_POSITIVE_SECONDS)
    period_seconds: PositiveSeconds | None = Field(default=None, description=_POSITIVE_SECONDS)
    unready_fraction: Fraction = Field(default=0.5, description=_FRACTION)

    @model_validator(mode="after")
    def _mode_fields(self) -> Self:
        if (self.mode == "delay") != (self.ready_after_seconds is not None):
            raise _rule("ready_after_seconds", "ready_after_seconds exactly when mode is 'delay'")
        if (self.mode == "flap") != (self.period_seconds is not None):
            raise _rule("period_seconds", "period_seconds exactly when mode is 'flap'")
        return self


class HangFault(_Scoped):
    """Never answer (until ``hold_ms``, hard-capped at 300 s, or the client goes away)."""

    kind: Literal["hang"]
    hold_ms: float = Field(
        default=Caps.hang_ms,
        gt=0,
        le=Caps.hang_ms,
        allow_inf_nan=False,
        strict=True,
        description=f"a number of milliseconds > 0 and ≤ {Caps.hang_ms:g}",
    )


class WrongAnswerFault(_Scoped):
    """200 with a corrupted body (its checksum no longer matches)."""

    kind: Literal["wrong_answer"]


class CpuBurnFault(_Scoped):
    """Burn CPU on the event loop per request, capped per request and by a duty cycle."""

    kind: Literal["cpu_burn"]
    ms_per_request: float = Field(
        gt=0,
        le=Caps.cpu_burn_ms,
        allow_inf_nan=False,
        strict=True,
        description=f"a number of milliseconds > 0 and ≤ {Caps.cpu_burn_ms:g}",
    )
    max_duty_cycle: float = Field(
        default=0.5,
        gt=0,
        le=Caps.cpu_duty_cycle,
        allow_inf_nan=False,
        strict=True,
        description=f"a number > 0 and ≤ {Caps.cpu_duty_cycle:g}",
    )


class MemoryLeakFault(_Scoped):
    """Keep ``bytes_per_request`` alive per request, up to ``max_total_bytes`` (≤ 256 MiB)."""

    kind: Literal["memory_leak"]
    bytes_per_request: Annotated[int, Strict()] = Field(
        ge=1,
        le=Caps.leak_bytes_per_request,
        description=f"a whole number of bytes 1..{Caps.leak_bytes_per_request}",
    )
    max_total_bytes: Annotated[int, Strict()] = Field(
        default=64 * MIB,
        ge=1,
        le=Caps.leak_total_bytes,
        description=f"a whole number of bytes 1..{Caps.leak_total_bytes}",
    )


Fault = Annotated[
    HttpErrorsFault
    | LatencyFault
    | SlowBurnFault
    | CrashFault
    | ReadinessFault
    | HangFault
    | WrongAnswerFault
    | CpuBurnFault
    | MemoryLeakFault,
    Field(discriminator="kind"),
]
MODELS: dict[str, type[BaseModel]] = {
    "http_errors": HttpErrorsFault,
    "latency": LatencyFault,
    "slow_burn": SlowBurnFault,
    "crash": CrashFault,
    "readiness": ReadinessFault,
    "hang": HangFault,
    "wrong_answer": WrongAnswerFault,
    "cpu_burn": CpuBurnFault,
    "memory_leak": MemoryLeakFault,
}
KINDS: tuple[str, ...] = tuple(MODELS)
_FAULT_LIST: TypeAdapter[tuple[Fault, ...]] = TypeAdapter(tuple[Fault, ...])


def parse_faults(data: object, *, source: str = "FAULTS") -> tuple[Fault, ...]:
    """Validate a list of fault objects; raise ``FaultConfigError`` with located problems."""
    if not isinstance(data, list | tuple):
        problem = FaultProblem("", "a list of fault objects", show(data))
        raise FaultConfigError((problem,), source=source)
    try:
        return _FAULT_LIST.validate_python(data)
    except ValidationError as exc:
        raise FaultConfigError(problems_from_validation_error(exc, MODELS), source=source) from exc
    except RecursionError as exc:
        raise FaultConfigError(
            (FaultProblem("", "a shallow list", "nesting too deep"),), source=source
        ) from exc


def load_faults_text(text: str, source: str = "FAULTS") -> tuple[Fault, ...]:
    """Parse ``text`` (JSON, else YAML via a safe loader without aliases); blank means no faults."""
    from faulty_app._problems import load_json_or_yaml  # local: keeps yaml out of the parse path

    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise FaultConfigError(
            (FaultProblem("", "at most 1 MiB of JSON or YAML", "a larger text"),), source=source
        )
    if not text.strip():
        return ()
    return parse_faults(load_json_or_yaml(text, source), source=source)


def dump_faults(faults: tuple[Fault, ...]) -> list[dict[str, object]]:
    """JSON-able form of ``faults`` that ``parse_faults`` accepts again."""
    return [{"kind": fault.kind, **fault.model_dump(mode="json", exclude_none=True)} for fault in faults]
