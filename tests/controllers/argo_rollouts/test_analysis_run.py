"""AnalysisRun scheduling and assessment (semantics §3) on explicit times, with a scripted measurer."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from harness.controllers.argo_rollouts.analysis_run import (
    AnalysisRunState,
    ResolvedMetric,
    evaluate_result,
    next_due,
    settle,
    take_measurement,
    terminate,
    value_text,
)
from harness.controllers.argo_rollouts.expr import parse
from harness.controllers.argo_rollouts.model import AnalysisPhase, Measurement, MetricSpec, PrometheusProvider
from harness.errors import MetricsError

P, F, E, INC = AnalysisPhase.SUCCESSFUL, AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE
PROVIDER = PrometheusProvider("http://127.0.0.1:9090", "up")


def metric(name: str = "m", success: str = "", failure: str = "", **fields: object) -> ResolvedMetric:
    spec = MetricSpec(name, PROVIDER, success_condition=success, failure_condition=failure, **fields)  # type: ignore[arg-type]
    return ResolvedMetric(spec, parse(success) if success else None, parse(failure) if failure else None)


def scripted(phases: dict[str, Sequence[AnalysisPhase]]) -> Callable[[ResolvedMetric, float], Measurement]:
    """Each metric returns its phases in order, then repeats the last one."""
    taken: dict[str, int] = {}

    def measure(m: ResolvedMetric, now: float) -> Measurement:
        i = taken.get(m.name, 0)
        taken[m.name] = i + 1
        script = phases[m.name]
        phase = script[min(i, len(script) - 1)]
        return Measurement(phase, now, now, message="boom" if phase == E else "")

    return measure


Measurer = Callable[[ResolvedMetric, float], Measurement]


def drive(
    run: AnalysisRunState, measure: Measurer, until: float, start: float = 100.0
) -> tuple[AnalysisRunState, list[float]]:
    """Reconcile at creation and then at every due time, like the AnalysisRun controller."""
    times: list[float] = []
    now = start
    run, _ = settle(run, now, measure)
    for _ in range(1000):
        times += [m.finished_at for r in run.results for m in r.measurements if m.finished_at not in times]
        due = next_due(run)
        if due is None or due > until:
            break
        now = max(due, now)
        run, _ = settle(run, now, measure)
    times = sorted({m.finished_at for r in run.results for m in r.measurements} | set(times))
    return run, [t - start for t in times]


def new_run(*metrics: ResolvedMetric, dry_run: frozenset[str] = frozenset()) -> AnalysisRunState:
    return AnalysisRunState("ro-6f9c-2", "Background", metrics, dry_run=dry_run, created_at=100.0)


@pytest.mark.parametrize(
    ("success", "failure", "value", "phase"),
    [
        ("", "", [0.1], P),  # no condition: always Successful
        ("result[0] >= 0.95", "", [0.9], F),  # success only: false is a failure
        ("", "result[0] < 0.5", [0.9], P),  # failure only: false is a success
        ("result[0] >= 0.95", "result[0] < 0.5", [0.8], INC),  # neither holds: Inconclusive
        ("result[0] >= 0.5", "result[0] < 0.9", [0.8], F),  # both hold: failure wins
        ("isNaN(result) || result >= 0.95", "", math.nan, P),  # docs "NaN and Infinity", three cases
        ("result >= 0.95", "result < 0.95", math.nan, INC),
        ("result >= 0.95", "", math.nan, F),
        ("result >= 0.95", "", math.inf, P),
        ("", "isInf(result)", math.inf, F),
    ],
)
def test_evaluate_result_table(success: str, failure: str, value: object, phase: AnalysisPhase) -> None:
    assert evaluate_result(metric(success=success, failure=failure), value) == phase  # type: ignore[arg-type]


def test_prometheus_measurement_errors_and_values() -> None:
    class Down:
        def query(self, address: str, query: str, timeout: float) -> float:
            raise MetricsError("connection refused")

    class Empty:
        def query(self, address: str, query: str, timeout: float) -> Sequence[float]:
            return ()

    down = take_measurement(metric(success="result[0] > 0"), 5.0, Down())
    assert (down.phase, down.message) == (E, "connection refused")
    empty = take_measurement(metric(success="result[0] > 0"), 5.0, Empty())
    assert (empty.phase, empty.message) == (E, "index out of range: 0 (array length is 0)")
    assert take_measurement(metric(success="len(result) == 0"), 5.0, Empty()).phase == P
    assert value_text([0.97, 1.0]) == "[0.97,1]"
    assert (value_text(math.nan), value_text(math.inf), value_text(1e21)) == (
        "NaN",
        "+Inf",
        "1000000000000000000000",
    )


def test_count_and_interval_schedule_measurements_then_succeed() -> None:
    run, times = drive(new_run(metric(interval=60.0, count=3)), scripted({"m": [P]}), until=1000)
    assert times == [0.0, 60.0, 120.0]
    assert run.phase == P
    assert run.completed_at == 220.0


def test_failure_limit_fails_at_the_first_measurement_over_it() -> None:
    run, times = drive(new_run(metric(interval=60.0, failure_limit=2)), scripted({"m": [F]}), until=1000)
    assert times == [0.0, 60.0, 120.0]
    assert run.phase == F
    assert run.message == 'Metric "m" assessed Failed due to failed (3) > failureLimit (2)'


def test_failures_up_to_the_limit_are_forgiven_when_count_is_reached() -> None:
    """Pitfall 3: count ≤ failureLimit can never fail."""
    run, times = drive(
        new_run(metric(interval=30.0, count=3, failure_limit=3)), scripted({"m": [F]}), until=1000
    )
    assert times == [0.0, 30.0, 60.0]
    assert run.phase == P


def test_errors_retry_every_ten_seconds_and_do_not_use_up_count() -> None:
    run, times = drive(new_run(metric(interval=60.0, count=2)), scripted({"m": [E, P, P]}), until=1000)
    assert times == [0.0, 10.0, 70.0]
    assert run.phase == P
    assert (run.results[0].count, run.results[0].error) == (2, 1)


def test_consecutive_error_limit() -> None:
    run, times = drive(new_run(metric(interval=60.0)), scripted({"m": [E]}), until=1000)
    assert times == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert run.phase == E
    assert run.message == (
        'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: boom"'
    )
    run, times = drive(
        new_run(metric(interval=60.0, consecutive_error_limit=0)), scripted({"m": [E]}), until=1000
    )
    assert (times, run.phase) == ([0.0], E)


def test_an_error_between_successes_resets_the_streak() -> None:
    run, _ = drive(
        new_run(metric(interval=60.0, count=6)), scripted({"m": [E, E, E, E, P, E, E, E, E, P]}), until=1e4
    )
    assert run.phase == P


def test_inconclusive_limit() -> None:
    run, times = drive(
        new_run(metric(interval=60.0, inconclusive_limit=1)), scripted({"m": [INC]}), until=1000
    )
    assert (times, run.phase) == ([0.0, 60.0], INC)
    assert run.message == 'Metric "m" assessed Inconclusive due to inconclusive (2) > inconclusiveLimit (1)'


def test_initial_delay_waits_from_the_run_start() -> None:
    run, times = drive(
        new_run(metric(interval=60.0, count=2, initial_delay=45.0)), scripted({"m": [P]}), until=1000
    )
    assert times == [45.0, 105.0]
    assert run.phase == P


def test_one_failing_metric_terminates_the_others() -> None:
    slow = metric("slow", interval=60.0)
    fast = metric("fast", interval=10.0)
    run, times = drive(new_run(slow, fast), scripted({"slow": [P], "fast": [P, F]}), until=1000)
    assert run.phase == F
    assert times == [0.0, 10.0]
    slow_result = run.result("slow")
    assert slow_result is not None
    assert slow_result.phase == P  # an unlimited metric ends Successful when the run terminates


def test_dry_run_metric_never_decides() -> None:
    real = metric("real", interval=60.0, count=2)
    shadow = metric("shadow", interval=60.0, count=2)
    run, _ = drive(
        new_run(real, shadow, dry_run=frozenset({"shadow"})), scripted({"real": [P], "shadow": [F]}), 1e4
    )
    assert run.phase == P
    shadow_result = run.result("shadow")
    assert shadow_result is not None
    assert shadow_result.phase == F
    assert shadow_result.message == "Metric assessed Failed due to failed (1) > failureLimit (0)"


def test_terminating_an_unlimited_run_is_successful() -> None:
    run, _ = drive(new_run(metric(interval=60.0)), scripted({"m": [P]}), until=130.0)
    assert run.phase == AnalysisPhase.RUNNING
    ended, _ = settle(terminate(run), 300.0, scripted({"m": [P]}))
    assert (ended.phase, ended.message) == (P, "Run Terminated")


def test_consecutive_success_limit_not_reached_by_count_is_inconclusive() -> None:
    m = metric(interval=60.0, count=3, consecutive_success_limit=2)
    run, _ = drive(new_run(m), scripted({"m": [P, INC, P]}), until=1e4)
    assert run.phase == INC  # the Inconclusive measurement itself exceeds inconclusiveLimit 0 first
    m = metric(interval=60.0, count=3, consecutive_success_limit=3, failure_limit=1)
    run, _ = drive(new_run(m), scripted({"m": [P, F, P]}), until=1e4)
    assert run.phase == INC


def test_invalid_run_goes_straight_to_error() -> None:
    run = AnalysisRunState(
        "r", "Step", (), invalid="Unable to resolve metric arguments: boom", created_at=1.0
    )
    ended, events = settle(run, 1.0, scripted({}))
    assert (ended.phase, ended.message) == (E, "Unable to resolve metric arguments: boom")
    assert [e.reason for e in events] == ["AnalysisRunError"]
