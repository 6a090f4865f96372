"""Data of a guardrail plan (pure, frozen): what Flagger's timing model predicts for one Canary.

Times come in two frames, named in every field:
- ``*_at`` / ``*_tick``: seconds / grid ticks after the **detection tick** P0 (the tick that sees the new
  revision, flagger-semantics §3.1). These are exact for the tick model and what the tests compare.
- ``Span`` fields named ``decision`` / ``duration`` / ``latency``: seconds from the trigger (the
  template change) or from the fault onset. A trigger-relative span adds the detection delay
  D ∈ [0, I); with D unknown, ``worst`` is a supremum (D → I, never reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "error"]
Strategy = Literal["canary", "ab-testing", "blue-green", "mirror", "stalled", "skip-analysis", "suspended"]
Outcome = Literal["promoted", "rolled-back", "undecided"]
Verdict = Literal["GO", "NO-GO"]

DEFAULT_SCRAPE_INTERVAL = 5.0  # Flagger's bundled Prometheus (§0)
DEFAULT_DEPLOYMENT_DEADLINE = 600.0  # Kubernetes' default Deployment spec.progressDeadlineSeconds


@dataclass(frozen=True)
class Span:
    """A range of seconds; ``worst`` may be a supremum (see the module docstring)."""

    best: float
    worst: float

    def shift(self, seconds: float) -> Span:
        return Span(self.best + seconds, self.worst + seconds)


@dataclass(frozen=True)
class Timeline:
    """The tick model's inputs, already resolved from the Canary and the planning assumptions.

    ``weights[0]`` is set by the start tick, ``weights[j]`` by the j-th passing analysis tick; the
    ``len(weights)``-th pass promotes. ``promotion_weights`` are the canary weights after each
    Promoting shift tick (the last is 0 → Finalising).
    """

    interval: float
    threshold: int
    strategy: Strategy
    weights: tuple[int, ...]
    promotion_weights: tuple[int, ...]
    readiness_ticks: int
    promotion_ticks: int
    check_delay: float  # δ: fault onset → first check that can see it (inf: never)
    checks_always_fail: bool  # a trap makes every analysis check fail, healthy or not
    zero_traffic_fails: bool  # builtin metrics: a window without canary requests is "no values found"
    success_rate_checked: bool  # builtin request-success-rate: an all-5xx canary is "no values found"
    window: float  # metric window W (seconds) of the traffic metrics
    rps: float
    error_rate: float  # share of canary requests a fault breaks
    deadline: float  # effective progress deadline of a canary that never becomes ready

    @property
    def start_at(self) -> float:
        """The start tick S (pre-rollout, first weight), seconds after P0."""
        return (1 + self.readiness_ticks) * self.interval


@dataclass(frozen=True)
class Assumptions:
    """What the plan assumed beyond the Canary (all overridable through ``plan``'s keywords)."""

    rps: float
    fault_error_rate: float
    check_delay: float
    detection_delay: float | None  # D; None = unknown, spans cover [0, I)
    readiness_ticks: int
    promotion_ticks: int
    scrape_interval: float
    window: float
    deployment_deadline: float
    run_seconds: float  # denominator of the failed-request fraction


@dataclass(frozen=True)
class Healthy:
    """A healthy canary (or what the traps make of it)."""

    outcome: Outcome
    promote_tick: int | None
    promote_at: float | None
    decided_tick: int | None  # Succeeded (or the rollback a trap forces)
    decided_at: float | None
    duration: Span | None  # trigger → decision
    max_weight: int
    canary_requests: float


@dataclass(frozen=True)
class FaultCase:
    """A fault breaking ``fault_error_rate`` of canary requests from ``onset`` on."""

    label: str
    onset: str
    outcome: Outcome
    first_failing_at: float | None  # after P0
    rollback_tick: int | None
    rollback_at: float | None  # after P0
    latency: Span | None  # onset → rollback
    weight_at_abort: int | None
    canary_requests: float  # start tick → decision
    bad_requests: float  # onset → decision (worst case for the random case)
    decision: Span | None = None  # trigger → decision (fault present from the start only)
    mean_latency: float | None = None  # random case only
    mean_bad_requests: float | None = None  # random case only
    escape_share: float = 0.0  # random case: share of onsets that can no longer roll back
    at_weight: int | None = None  # weight cases: the weight whose tick switches the fault on


@dataclass(frozen=True)
class BlindWindow:
    """Fault onsets in [opens_at, closes_at) are never rolled back: promotion already started."""

    opens_at: float  # after P0: last promotion-deciding tick − δ
    closes_at: float  # after P0: Finalising (canary gets no more traffic)
    bad_requests: float  # worst case, for an onset right at ``opens_at``


@dataclass(frozen=True)
class CrashLoop:
    """The canary never becomes ready: silent rollback once the progress deadline passed (§2.7)."""

    deadline: float
    rollback_tick: int
    rollback_at: float  # after P0
    decision: Span  # trigger → rollback


@dataclass(frozen=True)
class SampleCheck:
    """Canary requests inside the metric window of one analysis check (healthy run)."""

    weight: int  # weight in effect before the check
    check_at: float  # after P0
    samples: float
    low: bool


@dataclass(frozen=True)
class Trap:
    code: str
    severity: Severity
    message: str
    remedy: str


@dataclass(frozen=True)
class LimitCheck:
    """One policy blast limit against the planned worst case, with changes that would meet it."""

    name: str
    predicted: float | None  # None: can never be met (e.g. no rollback)
    limit: float
    unit: str
    passed: bool
    note: str
    remedies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    canary: str  # <name>.<namespace>
    source: str | None
    strategy: Strategy
    interval: float
    threshold: int
    weights: tuple[int, ...]
    max_weight: int  # effective maxWeight (§2.5)
    reachable_weight: int  # highest weight a run can set (overshoot and A/B/B-G included)
    timeline: Timeline
    assumptions: Assumptions
    healthy: Healthy
    from_start: FaultCase
    at_weights: tuple[FaultCase, ...]
    random: FaultCase
    blind: BlindWindow | None
    crash_loop: CrashLoop
    samples: tuple[SampleCheck, ...]
    traps: tuple[Trap, ...]
    limits: tuple[LimitCheck, ...]
    verdict: Verdict
    reasons: tuple[str, ...]
