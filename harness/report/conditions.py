"""The rollback conditions in force, derived purely from a Canary manifest as applied (a raw mapping).

Defaulting follows Flagger (spec §1, §2.5): interval < 10 s → 10 s, unparsable → 60 s; threshold ≤ 0 → 1;
maxWeight from ``stepWeights[-1]``, else ``maxWeight``, else 100; metric window default ``1m`` for builtin
metrics. Working from the raw mapping keeps a journal re-renderable with nothing but the journal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.durations import DurationError, format_duration, parse_duration

BUILTIN_METRICS = frozenset({"request-success-rate", "request-duration"})
DEFAULT_INTERVAL_SECONDS = 60.0
MIN_INTERVAL_SECONDS = 10.0
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600


@dataclass(frozen=True)
class AbortCriterion:
    """One ``analysis.metrics[]`` entry: a failed check when the value leaves [min, max] over the window."""

    metric: str
    min: float | None = None
    max: float | None = None
    window: str | None = None  # metric ``interval`` (the query's range), e.g. "1m"
    template: str | None = None  # templateRef name, for custom metrics

    def describe(self) -> str:
        """'request-success-rate ≥ 99 over 1m'."""
        bounds = []
        if self.min is not None:
            bounds.append(f"≥ {self.min:g}")
        if self.max is not None:
            bounds.append(f"≤ {self.max:g}")
        text = f"{self.metric} {' and '.join(bounds) if bounds else '(no bound)'}"
        if self.window:
            text += f" over {self.window}"
        if self.template:
            text += f" (template {self.template})"
        return text


@dataclass(frozen=True)
class RollbackConditions:
    """What makes Flagger roll this canary back, and how far it may go before it decides."""

    canary: str  # "<name>.<namespace>"
    criteria: tuple[AbortCriterion, ...]
    threshold: int
    interval_seconds: float
    progress_deadline_seconds: int
    max_weight: int  # effective maxWeight()
    step_weight: int
    step_weights: tuple[int, ...]  # as configured (stepWeights)
    progression: tuple[int, ...]  # canary weights actually taken: maxWeight 50, stepWeight 20 → 20, 40, 60
    iterations: int = 0
    sentence: str = ""

    @property
    def abort_after_first_failure_seconds(self) -> float:
        """Time from the first failing check to rollback: threshold × interval (spec §3.1)."""
        return self.threshold * self.interval_seconds

    @property
    def peak_weight(self) -> int:
        """The highest canary weight of the progression (may overshoot maxWeight)."""
        return max(self.progression, default=0)


def rollback_conditions(manifest: Mapping[str, Any]) -> RollbackConditions:
    """Derive the rollback conditions from a Canary manifest mapping; never raises on odd values."""
    metadata = _mapping(manifest.get("metadata"))
    spec = _mapping(manifest.get("spec"))
    analysis = _mapping(spec.get("analysis"))
    interval = effective_interval(analysis.get("interval"))
    threshold = max(1, _int(analysis.get("threshold"), 1))
    step_weight = max(0, _int(analysis.get("stepWeight"), 0))
    step_weights = tuple(_int(w, 0) for w in _sequence(analysis.get("stepWeights")))
    max_weight = effective_max_weight(_int(analysis.get("maxWeight"), 0), step_weights)
    deadline = _int(spec.get("progressDeadlineSeconds"), DEFAULT_PROGRESS_DEADLINE_SECONDS)
    conditions = RollbackConditions(
        canary=f"{metadata.get('name', '?')}.{metadata.get('namespace', 'default')}",
        criteria=tuple(_criterion(_mapping(m)) for m in _sequence(analysis.get("metrics"))),
        threshold=threshold,
        interval_seconds=interval,
        progress_deadline_seconds=deadline,
        max_weight=max_weight,
        step_weight=step_weight,
        step_weights=step_weights,
        progression=weight_progression(step_weight, step_weights, max_weight),
        iterations=max(0, _int(analysis.get("iterations"), 0)),
    )
    return _with_sentence(conditions)


def effective_interval(raw: object) -> float:
    """Flagger's ``GetAnalysisInterval``: unparsable → 60 s, below 10 s → 10 s."""
    try:
        seconds = parse_duration(raw) if isinstance(raw, str) and raw.strip() else DEFAULT_INTERVAL_SECONDS
    except DurationError:
        seconds = DEFAULT_INTERVAL_SECONDS
    return max(seconds, MIN_INTERVAL_SECONDS)


def effective_max_weight(max_weight: int, step_weights: Sequence[int]) -> int:
    """Flagger's ``maxWeight()``: last stepWeights element, else maxWeight, else 100 (capped at 100)."""
    if step_weights:
        return min(100, step_weights[-1])
    return min(100, max_weight) if max_weight > 0 else 100


def weight_progression(step_weight: int, step_weights: Sequence[int], max_weight: int) -> tuple[int, ...]:
    """Weights the canary takes while every check passes, up to the first one ≥ maxWeight (spec §2.5)."""
    if step_weights and step_weight <= 0:
        return tuple(min(100, w) for w in step_weights)
    if step_weight <= 0:
        return ()
    steps = math.ceil(max_weight / step_weight)
    return tuple(min(100, step_weight * k) for k in range(1, steps + 1))


def _with_sentence(c: RollbackConditions) -> RollbackConditions:
    interval = format_duration(c.interval_seconds)
    total = format_duration(c.abort_after_first_failure_seconds)
    worst = format_duration(c.abort_after_first_failure_seconds + c.interval_seconds)
    steps = " → ".join(f"{w}%" for w in c.progression) or "no weight steps"
    criteria = "; ".join(a.describe() for a in c.criteria) or "no metric checks"
    sentence = (
        f"Flagger rolls back after {c.threshold} failed checks ({c.threshold} × {interval} = {total} "
        f"after the first failing check); a fault that starts mid-analysis is rolled back {total}–{worst} "
        f"(+ detection delay) after it starts. A check fails when any of: {criteria}. "
        f"Traffic steps {steps} (maxWeight {c.max_weight}%); "
        f"progressDeadlineSeconds {c.progress_deadline_seconds} s."
    )
    return RollbackConditions(**{**c.__dict__, "sentence": sentence})


def _criterion(metric: Mapping[str, Any]) -> AbortCriterion:
    name = str(metric.get("name", "?"))
    bounds = _mapping(metric.get("thresholdRange"))
    low, high = _float(bounds.get("min")), _float(bounds.get("max"))
    legacy = _float(metric.get("threshold"))
    if not bounds and legacy is not None:  # deprecated form: success-rate is a minimum, others a maximum
        low, high = (legacy, None) if name == "request-success-rate" else (None, legacy)
    window = metric.get("interval")
    template = _mapping(metric.get("templateRef")).get("name")
    if window is None and (name in BUILTIN_METRICS or metric.get("query")):
        window = "1m"
    return AbortCriterion(
        metric=name,
        min=low,
        max=high,
        window=str(window) if window is not None else None,
        template=str(template) if template else None,
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def _int(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def _float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
