"""Terminal rendering of a ``Plan`` with rich tables (JSON output is
``harness.plan.planner.plan_to_json``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.durations import format_duration
from harness.plan.model import FaultCase, LimitCheck, Plan, Span, Trap

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_plan(plan: Plan, console: Console) -> None:
    """Print the plan: summary, timings, samples per check, traps, limits and the verdict."""
    console.print(_summary(plan))
    console.print(_cases(plan))
    if plan.samples:
        console.print(_samples(plan))
    if plan.traps:
        console.print(_traps(plan))
    console.print(_limits(plan))
    print_verdict(console, plan.verdict, plan.canary, plan.reasons)


def print_verdict(console: Console, verdict: str, subject: str, reasons: Sequence[str]) -> None:
    """``GO``/``NO-GO for <subject>`` (green/red), then one line per reason."""
    style = "bold green" if verdict == "GO" else "bold red"
    console.print(Text(verdict, style=style), Text(f" for {subject}"))
    for reason in reasons:
        console.print(f"  - {reason}")


def _summary(plan: Plan) -> Table:
    a = plan.assumptions
    table = Table(title=f"Guardrail plan for {plan.canary}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("source", plan.source or "-")
    table.add_row("strategy", plan.strategy)
    table.add_row("interval / threshold", f"{format_duration(plan.interval)} / {plan.threshold}")
    weights = " → ".join(str(w) for w in plan.weights) or "-"
    table.add_row(
        "weights (%)", f"{weights}  (maxWeight {plan.max_weight}, reachable {plan.reachable_weight})"
    )
    detection = "unknown, 0 – 1 interval" if a.detection_delay is None else duration_text(a.detection_delay)
    table.add_row("detection delay D", detection)
    table.add_row("check delay δ", duration_text(a.check_delay))
    table.add_row("load", f"{a.rps:g} req/s, fault breaks {a.fault_error_rate:.0%} of canary requests")
    table.add_row("readiness / promotion", f"{a.readiness_ticks} / {a.promotion_ticks} ticks of waiting")
    healthy = plan.healthy
    table.add_row(
        "healthy run",
        f"{healthy.outcome}, decided {_span(healthy.duration)} after the trigger "
        f"({_ticks(healthy.decided_tick)} after detection)",
    )
    crash = plan.crash_loop
    table.add_row(
        "never ready",
        f"silent rollback {_span(crash.decision)} after the trigger (deadline {crash.deadline:g} s, "
        f"tick {crash.rollback_tick}), no canary traffic",
    )
    return table


def _cases(plan: Plan) -> Table:
    table = Table(
        title="Faults: onset → rollback",
        title_justify="left",
        caption="latency from the onset (from start: from the trigger); '<x' is a bound never reached; "
        "ticks count from the detection tick",
        caption_justify="left",
    )
    for column in ("fault", "outcome", "rollback", "latency", "weight", "canary req", "bad req"):
        table.add_column(column, justify="left" if column in ("fault", "outcome") else "right")
    for case in (plan.from_start, *plan.at_weights, plan.random):
        table.add_row(*_case_row(case))
    return table


def _case_row(case: FaultCase) -> list[str]:
    rollback = "-" if case.rollback_tick is None else f"tick {case.rollback_tick}"
    latency = _span(case.latency)
    bad = _count(case.bad_requests)
    if case.mean_latency is not None:
        latency += f" (mean {duration_text(case.mean_latency)})"
        bad = f"≤ {bad} (mean {_count(case.mean_bad_requests)})"
    if case.escape_share > 0:
        rollback = f"{case.escape_share:.0%} escape"
    weight = "-" if case.weight_at_abort is None else f"{case.weight_at_abort} %"
    return [case.label, case.outcome, rollback, latency, weight, _count(case.canary_requests), bad]


def _samples(plan: Plan) -> Table:
    table = Table(title="Canary requests per check", title_justify="left")
    for column in ("check", "weight", f"in {duration_text(plan.assumptions.window)} window", ""):
        table.add_column(column, justify="right")
    for check in plan.samples:
        flag = Text("LOW", style="yellow") if check.low else Text("")
        table.add_row(duration_text(check.check_at), f"{check.weight} %", f"{check.samples:.0f}", flag)
    return table


def _traps(plan: Plan) -> Table:
    return traps_table(plan.traps)


def traps_table(traps: Sequence[Trap]) -> Table:
    table = Table(title="Traps", title_justify="left")
    for column in ("severity", "code", "problem", "remedy"):
        table.add_column(column)
    for trap in traps:
        style = _SEVERITY_STYLE[trap.severity]
        table.add_row(Text(trap.severity, style=style), trap.code, trap.message, trap.remedy)
    return table


def _limits(plan: Plan) -> Table:
    return limits_table(plan.limits)


def limits_table(limits: Sequence[LimitCheck]) -> Table:
    table = Table(title="Policy blast limits (worst case)", title_justify="left")
    for column in ("limit", "predicted", "policy", "result", "to meet it"):
        table.add_column(column)
    for check in limits:
        result = Text("pass", style="green") if check.passed else Text("FAIL", style="bold red")
        table.add_row(check.name, _value(check), _limit(check), result, "\n".join(check.remedies))
    return table


def _value(check: LimitCheck) -> str:
    if check.predicted is None or not math.isfinite(check.predicted):
        return "never"
    return duration_text(check.predicted) if check.unit == "s" else _number(check.predicted, check.unit)


def _limit(check: LimitCheck) -> str:
    return duration_text(check.limit) if check.unit == "s" else _number(check.limit, check.unit)


def _number(value: float, unit: str) -> str:
    if unit == "":
        return f"{value:.2%}"
    return f"{value:g} {unit}" if unit != "%" else f"{value:g} %"


def duration_text(seconds: float) -> str:
    """Seconds as a duration rounded to 0.1 s; infinity is "never"."""
    return format_duration(round(seconds, 1)) if math.isfinite(seconds) else "never"


def _span(span: Span | None) -> str:
    if span is None:
        return "-"
    if span.best == span.worst:
        return duration_text(span.best)
    return f"{duration_text(span.best)} – <{duration_text(span.worst)}"


def _ticks(tick: int | None) -> str:
    return "never" if tick is None else f"{tick} ticks"


def _count(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if math.isfinite(value) else "unbounded"
