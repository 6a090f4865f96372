"""Data of an Argo Rollouts guardrail plan (pure, frozen).

Times are seconds after **T0**, the reconcile that starts the update (docs/argo-rollouts-semantics.md §9);
latencies are seconds from the fault's onset. ``None`` means never.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.plan.model import LimitCheck, Trap, Verdict
from harness.plan.rollout_runs import FaultEffect
from harness.plan.rollout_walk import Outcome, StepSpan


@dataclass(frozen=True)
class RolloutAssumptions:
    rps: float  # requests/s through the ingress; the canary gets weight % of them
    fault_error_rate: float  # share of canary requests the fault breaks
    fault_effect: FaultEffect  # what a measurement that sees the fault becomes
    check_delay: float  # δ: onset → first measurement that sees it (inf: never)
    readiness_seconds: float  # canary pods become available this long after a scale-up
    scrape_interval: float
    window: float | None  # range of the deciding metric's query ([1m] → 60), None when not found
    run_seconds: float  # denominator of the failed-request fraction


@dataclass(frozen=True)
class RolloutCase:
    """One update: healthy, or a fault with onset ``onset`` (after T0)."""

    label: str
    onset: float | None
    outcome: Outcome
    decided_at: float | None  # promotion / abort / stall time after T0
    cause: str
    latency: float | None  # onset → abort; None unless aborted (a supremum for the worst onset)
    weight_at_abort: int | None
    max_weight: int  # highest canary weight before promotion or abort
    bad_requests: float  # canary requests the fault broke before the decision (inf: unbounded)


@dataclass(frozen=True)
class RolloutSample:
    """Canary requests in the deciding metric's query window at one measurement of a healthy update."""

    at: float
    weight: int
    samples: float
    low: bool


@dataclass(frozen=True)
class BlindWindow:
    """Faults starting in [opens_at, closes_at) are never aborted: the update promotes first."""

    opens_at: float
    closes_at: float


@dataclass(frozen=True)
class RolloutPlan:
    rollout: str  # <name>.<namespace>
    source: str | None
    controller: str
    steps: tuple[StepSpan, ...]  # of the healthy update
    weights: tuple[int, ...]  # setWeight values walked by a healthy update
    assumptions: RolloutAssumptions
    healthy: RolloutCase
    from_start: RolloutCase
    at_steps: tuple[RolloutCase, ...]
    worst_onset: RolloutCase | None  # the onset with the largest latency (a supremum)
    never_ready: RolloutCase
    blind: BlindWindow | None
    samples: tuple[RolloutSample, ...]
    traps: tuple[Trap, ...]
    limits: tuple[LimitCheck, ...]
    verdict: Verdict
    reasons: tuple[str, ...]
