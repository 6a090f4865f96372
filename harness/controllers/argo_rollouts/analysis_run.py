"""One AnalysisRun: measurement scheduling and assessment (docs/argo-rollouts-semantics.md §3).

Pure functions over a frozen ``AnalysisRunState``; ``reconcile`` is one ``reconcileAnalysisRun``
(``analysis/analysis.go``): pick the due measurements (``generateMetricTasks``), take them through the
``measure`` callable, update the counters (``runMeasurements``) and assess metrics and run
(``assessMetricStatus``, ``assessRunStatus``). ``settle`` repeats it while the run changes, as the real
controller is re-enqueued by its own status update.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from harness.controllers.argo_rollouts.errors import EvaluationError
from harness.controllers.argo_rollouts.expr import Expression
from harness.controllers.argo_rollouts.expr_eval import evaluate_condition
from harness.controllers.argo_rollouts.model import (
    ERROR_RETRY_INTERVAL,
    AnalysisPhase,
    Measurement,
    MetricResult,
    MetricSpec,
    RolloutEvent,
    is_worse,
)
from harness.controllers.argo_rollouts.ports import PrometheusQueries, QueryResult
from harness.errors import MetricsError

HISTORY_LIMIT = 10  # DefaultMeasurementHistoryLimit
_EPSILON = 1e-9

RunKind = Literal["Step", "Background"]


@dataclass(frozen=True)
class ResolvedMetric:
    """A metric with its arguments substituted and its conditions compiled (or the compile error text)."""

    spec: MetricSpec
    success: Expression | str | None = None
    failure: Expression | str | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class AnalysisRunState:
    name: str
    kind: RunKind
    metrics: tuple[ResolvedMetric, ...]
    dry_run: frozenset[str] = frozenset()
    step_index: int | None = None  # the canary step of a step run
    phase: AnalysisPhase = AnalysisPhase.NONE
    message: str = ""
    started_at: float | None = None
    terminate: bool = False
    results: tuple[MetricResult, ...] = ()
    invalid: str = ""  # set at creation: the run goes straight to Error with this message
    created_at: float = 0.0
    completed_at: float | None = None

    def result(self, name: str) -> MetricResult | None:
        return next((r for r in self.results if r.name == name), None)


Measure = Callable[[ResolvedMetric, float], Measurement]


@dataclass
class _Pass:
    run: AnalysisRunState
    events: list[RolloutEvent] = field(default_factory=list)

    def emit(self, at: float, phase: AnalysisPhase, reason: str, message: str) -> None:
        kind: Literal["Normal", "Warning"] = (
            "Warning" if phase in (AnalysisPhase.FAILED, AnalysisPhase.ERROR) else "Normal"
        )
        self.events.append(RolloutEvent(at, kind, reason, message, "AnalysisRun", self.run.name))


def terminate(run: AnalysisRunState) -> AnalysisRunState:
    """``cancelAnalysisRuns``: ``spec.terminate: true`` on a run that has not completed."""
    return run if run.phase.completed or run.terminate else replace(run, terminate=True)


def settle(
    run: AnalysisRunState, now: float, measure: Measure
) -> tuple[AnalysisRunState, list[RolloutEvent]]:
    """Reconcile until nothing changes (bounded): the run's own update re-enqueues it at once."""
    events: list[RolloutEvent] = []
    for _ in range(4):
        updated, new_events = reconcile(run, now, measure)
        events += new_events
        if updated == run:
            break
        run = updated
    return run, events


def reconcile(
    run: AnalysisRunState, now: float, measure: Measure
) -> tuple[AnalysisRunState, list[RolloutEvent]]:
    if run.phase.completed:
        return run, []
    state = _Pass(run)
    if run.invalid:
        state.run = replace(run, phase=AnalysisPhase.ERROR, message=run.invalid, completed_at=now)
        state.emit(now, AnalysisPhase.ERROR, "AnalysisRunError", "Analysis Completed. Result: Error")
        return state.run, state.events
    terminating = is_terminating(run)
    results = {r.name: r for r in run.results}
    for metric in run.metrics:
        current = results.get(metric.name)
        if _is_due(run, metric.spec, current, now, terminating):
            start = current or MetricResult(metric.name, dry_run=metric.name in run.dry_run)
            results[metric.name] = record(start, measure(metric, now))
    state.run = replace(run, results=tuple(results[m.name] for m in run.metrics if m.name in results))
    phase, message = _assess_run(state, now)
    if phase != state.run.phase:
        state.run = replace(state.run, phase=phase, message=message)
        if phase.completed:
            state.run = replace(state.run, completed_at=now)
            state.emit(now, phase, f"AnalysisRun{phase}", f"Analysis Completed. Result: {phase}")
    return state.run, state.events


def next_due(run: AnalysisRunState) -> float | None:
    """``calculateNextReconcileTime``: the earliest time a metric wants a measurement."""
    if run.phase.completed:
        return None
    if run.started_at is None or run.invalid:
        return run.created_at
    due: list[float] = []
    for metric in run.metrics:
        result = run.result(metric.name)
        if result is not None and result.phase.completed:
            continue
        if result is None or not result.measurements:
            due.append(run.started_at + (metric.spec.initial_delay or 0.0))
            continue
        count = metric.spec.effective_count()
        if count is not None and result.count >= count:
            continue
        due.append(result.measurements[-1].finished_at + _retry_interval(metric.spec, result))
    return min(due) if due else None


def is_terminating(run: AnalysisRunState) -> bool:
    """``IsTerminating``: asked to stop, or a non-dry-run metric already Failed/Error/Inconclusive."""
    ending = (AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE)
    return run.terminate or any(r.phase in ending and not r.dry_run for r in run.results)


def _retry_interval(metric: MetricSpec, result: MetricResult) -> float:
    if result.measurements[-1].phase == AnalysisPhase.ERROR or metric.interval is None:
        return ERROR_RETRY_INTERVAL
    return metric.interval


def _is_due(
    run: AnalysisRunState, metric: MetricSpec, result: MetricResult | None, now: float, terminating: bool
) -> bool:
    if result is not None and result.phase.completed:
        return False
    if terminating:
        return False
    if result is None or not result.measurements:
        if metric.initial_delay:
            return run.started_at is not None and run.started_at + metric.initial_delay <= now + _EPSILON
        return True
    count = metric.effective_count()
    if count is not None and result.count >= count:
        return False
    return result.measurements[-1].finished_at + _retry_interval(metric, result) <= now + _EPSILON


def record(result: MetricResult, measurement: Measurement) -> MetricResult:
    """``runMeasurements``: counters per completed measurement; errors do not count towards ``count``."""
    kept = (*result.measurements, measurement)[-HISTORY_LIMIT:]
    phase = measurement.phase
    if phase == AnalysisPhase.SUCCESSFUL:
        return replace(
            result,
            successful=result.successful + 1,
            count=result.count + 1,
            consecutive_error=0,
            consecutive_success=result.consecutive_success + 1,
            measurements=kept,
        )
    if phase == AnalysisPhase.ERROR:
        return replace(
            result,
            error=result.error + 1,
            consecutive_error=result.consecutive_error + 1,
            consecutive_success=0,
            measurements=kept,
        )
    counter = "failed" if phase == AnalysisPhase.FAILED else "inconclusive"
    return replace(
        result,
        **{counter: getattr(result, counter) + 1},
        count=result.count + 1,
        consecutive_error=0,
        consecutive_success=0,
        measurements=kept,
    )


def limit_exceeded(metric: MetricSpec, result: MetricResult) -> tuple[AnalysisPhase, str]:
    """``assessMetricFailureInconclusiveOrError``; the last check that holds wins.

    So Error beats Inconclusive beats Failed.
    """
    phase, message = AnalysisPhase.NONE, ""
    if metric.failure_limit >= 0 and result.failed > metric.failure_limit:
        phase, message = (
            AnalysisPhase.FAILED,
            f"failed ({result.failed}) > failureLimit ({metric.failure_limit})",
        )
    if result.inconclusive > metric.inconclusive_limit:
        phase = AnalysisPhase.INCONCLUSIVE
        message = f"inconclusive ({result.inconclusive}) > inconclusiveLimit ({metric.inconclusive_limit})"
    if result.consecutive_error > metric.consecutive_error_limit:
        phase = AnalysisPhase.ERROR
        message = (
            f"consecutiveErrors ({result.consecutive_error}) > "
            f"consecutiveErrorLimit ({metric.consecutive_error_limit})"
        )
    return phase, message


def assess_metric(metric: MetricSpec, result: MetricResult, terminating: bool) -> AnalysisPhase:
    """``assessMetricStatus``."""
    if result.phase.completed:
        return result.phase
    if not result.measurements:
        return AnalysisPhase.SUCCESSFUL if terminating else AnalysisPhase.PENDING
    exceeded, _ = limit_exceeded(metric, result)
    if exceeded != AnalysisPhase.NONE:
        return exceeded
    success_limit = metric.consecutive_success_limit
    if success_limit > 0 and result.consecutive_success >= success_limit:
        return AnalysisPhase.SUCCESSFUL
    count = metric.effective_count()
    if count is not None and result.count >= count:
        if success_limit > 0:
            return AnalysisPhase.INCONCLUSIVE if metric.failure_limit >= 0 else AnalysisPhase.FAILED
        return AnalysisPhase.SUCCESSFUL
    return AnalysisPhase.SUCCESSFUL if terminating else AnalysisPhase.RUNNING


def _assess_run(state: _Pass, now: float) -> tuple[AnalysisPhase, str]:
    """``assessRunStatus``: the worst completed non-dry-run metric, once all completed or terminating."""
    run = state.run
    terminating = is_terminating(run)
    worst: AnalysisPhase | None = None
    worst_message = "Run Terminated" if run.terminate else ""
    everything_completed = True
    results = {r.name: r for r in run.results}
    for metric in run.metrics:
        result = results.get(metric.name)
        if result is None:
            everything_completed = False
            continue
        status = assess_metric(metric.spec, result, terminating)
        if result.phase != status:
            if status.completed:
                state.emit(
                    now, status, f"Metric{status}", f"Metric '{metric.name}' Completed. Result: {status}"
                )
            last = result.measurements[-1].message if result.measurements else result.message
            result = replace(result, phase=status, message=last)
        if not status.completed:
            everything_completed = False
        else:
            _, reason = limit_exceeded(metric.spec, result)
            if not result.dry_run:
                if worst is None or is_worse(worst, status):
                    worst = status
                    if reason:
                        worst_message = f'Metric "{metric.name}" assessed {status} due to {reason}'
                        if result.message:
                            worst_message += f': "Error Message: {result.message}"'
            else:
                worst = worst or AnalysisPhase.SUCCESSFUL
                if reason:
                    result = replace(result, message=f"Metric assessed {status} due to {reason}")
        results[metric.name] = result
    state.run = replace(run, results=tuple(results[m.name] for m in run.metrics if m.name in results))
    if state.run.started_at is None:
        state.run = replace(state.run, started_at=now)
    worst_message = worst_message.strip()
    if terminating:
        return (worst or AnalysisPhase.SUCCESSFUL), worst_message
    if not everything_completed or worst is None:
        return AnalysisPhase.RUNNING, ""
    return worst, worst_message


# ---- one Prometheus measurement ---------------------------------------------------------------------


def take_measurement(metric: ResolvedMetric, now: float, prometheus: PrometheusQueries) -> Measurement:
    """``metricproviders/prometheus`` ``Run``: query, then ``EvaluateResult``; any error is phase Error."""
    provider = metric.spec.provider
    try:
        value = prometheus.query(provider.address, provider.query, provider.timeout)
    except MetricsError as exc:
        return Measurement(AnalysisPhase.ERROR, now, now, message=str(exc))
    try:
        phase = evaluate_result(metric, value)
    except EvaluationError as exc:
        return Measurement(AnalysisPhase.ERROR, now, now, message=str(exc))
    return Measurement(phase, now, now, value=value_text(value))


def evaluate_result(metric: ResolvedMetric, value: QueryResult) -> AnalysisPhase:
    """``utils/evaluate/evaluate.go`` ``EvaluateResult`` (semantics §3.4)."""
    success = _condition(metric.success, value)
    failure = _condition(metric.failure, value)
    if success is None and failure is None:
        return AnalysisPhase.SUCCESSFUL
    if failure is None:
        failure = not success
    if success is None:
        success = not failure
    if failure:
        return AnalysisPhase.FAILED
    return AnalysisPhase.SUCCESSFUL if success else AnalysisPhase.INCONCLUSIVE


def _condition(condition: Expression | str | None, value: QueryResult) -> bool | None:
    if condition is None:
        return None
    if isinstance(condition, str):
        raise EvaluationError(condition)
    return evaluate_condition(condition, value)


def value_text(value: QueryResult) -> str:
    """Prometheus' ``SampleValue.String`` for a scalar, ``[v1,v2]`` for a vector."""
    if isinstance(value, Sequence):
        return "[" + ",".join(_go_float(v) for v in value) + "]"
    return _go_float(value)


def _go_float(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    text = format(Decimal(repr(float(number))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
