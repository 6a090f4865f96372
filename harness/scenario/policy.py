"""The release policy: blast limits and abort criteria every scenario is judged against (pure).

Defaults come from the course material (shared/seeds/000): max canary traffic before full confidence
25–50 % (we take 50), progressDeadlineSeconds 600 s as the longest experiment without a decision,
success rate ≥ 99 %, error rate < 2× baseline over 5 minutes, p95 latency < +30 % over baseline.
``abort_within``, ``max_failed_fraction``, ``recovery_within``, ``error_rate_floor`` and
``min_samples_per_interval`` are our own defaults; ``scenarios/policy.yaml`` states and explains them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.controllers.flagger.model import AnalysisSpec, CanarySpec
from harness.scenario.fields import Fields, duration, integer, number
from harness.scenario.yamlloc import FieldPath, Located, load_located

POLICY_FILE = "policy.yaml"


@dataclass(frozen=True)
class Policy:
    """Blast limits (durations in seconds, rates as fractions unless the name says percent)."""

    max_canary_weight: int = 50  # % of traffic the canary may ever get before promotion
    progress_deadline_seconds: float = 600.0  # longest experiment without a decision
    min_success_rate: float = 99.0  # % non-5xx on the guarded endpoint
    max_error_rate_ratio: float = 2.0  # × baseline error rate ...
    error_rate_window_seconds: float = 300.0  # ... over this window
    max_p95_latency_increase: float = 0.30  # +30 % p95 over baseline
    min_samples_per_interval: int = 50  # canary requests per check interval ("no sample, no signal")
    abort_within_seconds: float | None = 600.0  # fault onset → rollback
    max_failed_fraction: float | None = 0.05  # bad requests / all requests over the run
    recovery_within_seconds: float | None = 120.0  # rollback → error rate back at baseline
    error_rate_floor: float = 0.001  # recovery threshold never below this error fraction
    source: str | None = None  # file it came from


# YAML key → (dataclass field, kind); durations are written as "5m" or seconds.
_KEYS: dict[str, tuple[str, Any]] = {
    "max_canary_weight": ("max_canary_weight", integer(1, 100)),
    "progress_deadline_seconds": ("progress_deadline_seconds", duration(positive=True)),
    "min_success_rate": ("min_success_rate", number(0, 100)),
    "max_error_rate_ratio": ("max_error_rate_ratio", number(1)),
    "error_rate_window": ("error_rate_window_seconds", duration(positive=True)),
    "max_p95_latency_increase": ("max_p95_latency_increase", number(0)),
    "min_samples_per_interval": ("min_samples_per_interval", integer(0)),
    "abort_within": ("abort_within_seconds", duration(positive=True)),
    "max_failed_fraction": ("max_failed_fraction", number(0, 1)),
    "recovery_within": ("recovery_within_seconds", duration()),
    "error_rate_floor": ("error_rate_floor", number(0, 1)),
}
POLICY_KEYS = tuple(_KEYS)

DEFAULT_POLICY = Policy()


def read_policy(reader: Fields, at: FieldPath, defaults: Policy) -> Policy:
    """Read policy keys from the mapping at ``at`` (all optional), falling back to ``defaults``."""
    if reader.mapping(at, POLICY_KEYS) is None:
        return defaults
    changes: dict[str, Any] = {}
    for key, (field_name, kind) in _KEYS.items():
        if reader.present((*at, key)):
            changes[field_name] = reader.get((*at, key), kind, getattr(defaults, field_name))
    return replace(defaults, **changes)


def parse_policy(located: Located) -> Policy:
    """Validate a loaded policy document; raise ``ScenarioError`` listing every problem."""
    reader = Fields(located)
    policy = read_policy(reader, (), DEFAULT_POLICY)
    reader.raise_if_problems()
    return replace(policy, source=located.file)


def load_policy(path: str | Path) -> Policy:
    """Load ``policy.yaml``; missing keys take the documented defaults."""
    return parse_policy(load_located(path))


def find_policy(start: Path, levels: int = 2) -> Path | None:
    """The nearest ``policy.yaml`` in ``start`` or up to ``levels`` parents (negative/ → the catalog)."""
    directory = start
    for _ in range(levels + 1):
        candidate = directory / POLICY_FILE
        if candidate.is_file():
            return candidate
        directory = directory.parent
    return None


def reachable_weight(analysis: AnalysisSpec) -> int:
    """Highest canary weight Flagger's canary strategy sets, including overshoot (§2.5): 50/20 → 60."""
    if analysis.iterations > 0:
        return 0  # Blue/Green on Traefik keeps the canary at weight 0 (§2.11)
    if analysis.step_weights:
        return min(100, analysis.step_weights[-1])
    if analysis.step_weight <= 0:
        return 0
    cap = analysis.max_weight if analysis.max_weight > 0 else 100
    return min(100, math.ceil(cap / analysis.step_weight) * analysis.step_weight)


def policy_warnings(policy: Policy, canary: CanarySpec) -> list[str]:
    """Where a Canary's tuning cannot meet the policy; for the report and the planner, not an error."""
    analysis = canary.analysis
    warnings: list[str] = []
    reach = reachable_weight(analysis)
    if reach > policy.max_canary_weight:
        warnings.append(
            f"the Canary sends up to {reach} % to the canary, above the policy's {policy.max_canary_weight} %"
        )
    floor = analysis.threshold * analysis.interval_seconds
    if policy.abort_within_seconds is not None and floor > policy.abort_within_seconds:
        warnings.append(
            f"threshold × interval = {floor:g} s from the first failed check to rollback exceeds "
            f"the policy's abort_within {policy.abort_within_seconds:g} s"
        )
    if canary.progress_deadline_seconds > policy.progress_deadline_seconds:
        warnings.append(
            f"progressDeadlineSeconds {canary.progress_deadline_seconds} exceeds the policy's "
            f"{policy.progress_deadline_seconds:g} s"
        )
    success = [m for m in analysis.metrics if m.name == "request-success-rate"]
    minimum = success[0].threshold_range.min if success and success[0].threshold_range else None
    if minimum is None or minimum < policy.min_success_rate:
        warnings.append(
            f"request-success-rate minimum is {minimum if minimum is not None else 'unset'}, "
            f"below the policy's {policy.min_success_rate:g} %"
        )
    return warnings
