"""Run-level data shared by the runner, the load gateway, verdicts and the report (pure data).

It ends with the lifecycle events the runner emits (``Stage``, ``ObservedBatch``, ``RunListener``):
reporting and progress listen; the runner never formats output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NewType, Protocol

from harness.controllers.flagger.model import CanaryEvent, CanaryStatus, MetricResult
from harness.errors import EXIT_INFRASTRUCTURE, EXIT_NO_GO, EXIT_OK

ScenarioId = NewType("ScenarioId", str)
Namespace = NewType("Namespace", str)


@dataclass(frozen=True)
class Revision:
    """One pod-template revision of the faulty app: its version label and fault configuration."""

    version: str
    faults: tuple[Mapping[str, Any], ...] = ()  # faulty_app fault configs (validated JSON-able data)
    replicas: int = 1
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Ingress:
    """Where load must go: through the router/Traefik, never straight to the canary."""

    url: str  # e.g. http://127.0.0.1:18080
    host_header: str | None = None


NO_VERSION = "none"  # responses without X-App-Version (router-made 502/503/504, transport errors)


@dataclass(frozen=True)
class LoadBucket:
    """Requests of one time bucket, for one app version and one HTTP status (0 = no response)."""

    start: float  # emulated seconds on the run clock
    duration: float  # emulated seconds
    version: str  # X-App-Version of the responses, or NO_VERSION
    status: int
    requests: int
    bad: int  # 5xx, no response, or a body that failed validation (wrong answer)
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    hurt_users: tuple[str, ...] = ()  # synthetic user ids that got a bad answer in this bucket
    workload: str = ""  # "primary" | "canary" that served the requests; "" = not recorded
    cohort: str = ""  # the users' cohort, "-" for users in none; "" = the scenario declares no cohorts
    route: str = ""  # "GET /api/orders"; "" = not recorded
    first_user: str = ""  # the user of the bucket's first request: an example for the verdict's notes


@dataclass(frozen=True)
class StatusSample:
    """The Canary status as observed at one instant, with the router's actual weights."""

    at: float
    status: CanaryStatus
    router_weights: tuple[int, int] | None = None  # (primary, canary) as the router applies them


@dataclass(frozen=True)
class Mark:
    """A point on the run timeline: fault on/off, trigger, lifecycle stage changes."""

    at: float
    kind: Literal[
        "stage", "trigger", "fault_on", "fault_off", "rollback", "promotion", "interrupted", "warning"
    ]
    detail: str


class Decision:
    """Verdict values (plain strings so they serialise as themselves)."""

    GO = "GO"
    NO_GO = "NO-GO"
    INCONCLUSIVE = "INCONCLUSIVE"  # the fault never reached traffic, or evidence is missing
    INCOMPLETE = "INCOMPLETE"  # the run was interrupted or crashed before a verdict


def decisions_exit_code(decisions: Iterable[str]) -> int:
    """The process exit code for a set of run decisions (README "Exit codes"); never 0 unless all GO."""
    found = set(decisions)
    if Decision.NO_GO in found:
        return EXIT_NO_GO  # a guardrail failed its limits
    if Decision.INCOMPLETE in found:
        return EXIT_INFRASTRUCTURE  # a run broke before its verdict
    if Decision.INCONCLUSIVE in found:
        return EXIT_NO_GO  # the guardrail was not proven: never a pass
    return EXIT_OK


@dataclass(frozen=True)
class Measure:
    """One expectation: what was measured against its limit (and, when planned, what was predicted)."""

    name: str  # e.g. "abort_within", "max_canary_weight"
    measured: float | str | None
    limit: float | str | None
    unit: str = ""  # "s", "%", "requests", "users", ""
    passed: bool | None = None  # None = could not be judged
    predicted: float | str | None = None
    note: str = ""


EXPECTABLE_DECISIONS = (Decision.GO, Decision.NO_GO)


@dataclass(frozen=True)
class ExpectedVerdict:
    """The decision a scenario declares (``expect.verdict``): GO, or a guardrail-design example's NO-GO
    that must name ``failing`` measures (e.g. a cohort leak: ``cohort_boundary``)."""

    decision: str = Decision.GO
    failing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    decision: str  # one of Decision.*
    measures: tuple[Measure, ...] = ()
    reasons: tuple[str, ...] = ()  # why NO-GO / INCONCLUSIVE, in plain words
    warnings: tuple[str, ...] = ()  # e.g. low-sample intervals ("no sample, no signal")
    expected: ExpectedVerdict = ExpectedVerdict()

    @property
    def as_expected(self) -> bool:
        """The decision is the declared one and, for a NO-GO, every expected measure failed."""
        failed = {m.name for m in self.measures if m.passed is False}
        return self.decision == self.expected.decision and set(self.expected.failing) <= failed

    @property
    def counted_decision(self) -> str:
        """What exit codes count: GO for a declared NO-GO that came out as declared, NO-GO for a declared
        NO-GO that did not (the harness missed the design flaw it demonstrates), else the decision."""
        if self.expected.decision == Decision.GO:
            return self.decision
        if self.as_expected:
            return Decision.GO
        return (
            self.decision if self.decision in (Decision.INCOMPLETE, Decision.INCONCLUSIVE) else Decision.NO_GO
        )


# Lifecycle events the runner emits; reporting and progress listen.
Stage = Literal["preflight", "deploy", "baseline", "trigger", "observe", "recovery", "teardown", "done"]
STAGES: tuple[Stage, ...] = ("preflight", "deploy", "baseline", "trigger", "observe", "recovery", "teardown")


@dataclass(frozen=True)
class ObservedBatch:
    """Everything observed in one batch; listeners append it to their own records."""

    samples: Sequence[StatusSample] = ()
    events: Sequence[CanaryEvent] = ()
    checks: Sequence[MetricResult] = ()
    load: Sequence[LoadBucket] = ()
    marks: Sequence[Mark] = ()
    queries: Sequence[dict[str, object]] = field(default=())


class RunListener(Protocol):
    def stage(self, stage: Stage, at: float) -> None: ...

    def observed(self, batch: ObservedBatch) -> None: ...

    def warning(self, at: float, text: str) -> None: ...
