"""Terminal rendering of a ``RolloutPlan`` with rich tables (JSON: ``rollout.rollout_plan_to_json``)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.plan.render import duration_text, limits_table, print_verdict, traps_table
from harness.plan.rollout_model import RolloutCase, RolloutPlan


def render_rollout_plan(plan: RolloutPlan, console: Console) -> None:
    """Print the plan: summary, steps, fault cases, samples, traps, limits and the verdict."""
    console.print(_summary(plan))
    console.print(_steps(plan))
    console.print(_cases(plan))
    if plan.samples:
        console.print(_samples(plan))
    if plan.traps:
        console.print(traps_table(plan.traps))
    console.print(limits_table(plan.limits))
    print_verdict(console, plan.verdict, f"Rollout {plan.rollout}", plan.reasons)


def _summary(plan: RolloutPlan) -> Table:
    a = plan.assumptions
    table = Table(title=f"Guardrail plan for Rollout {plan.rollout}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("source", plan.source or "-")
    table.add_row("controller", plan.controller)
    table.add_row("weights (%)", " → ".join(str(w) for w in plan.weights) or "-")
    table.add_row("check delay δ", duration_text(a.check_delay))
    table.add_row(
        "load",
        f"{a.rps:g} req/s, fault breaks {a.fault_error_rate:.0%} of canary requests "
        f"(measurements become {a.fault_effect})",
    )
    table.add_row("canary readiness", duration_text(a.readiness_seconds))
    healthy = plan.healthy
    table.add_row("healthy update", f"{healthy.outcome} at {_at(healthy.decided_at)} ({healthy.cause})")
    never = plan.never_ready
    table.add_row("never ready", f"{never.outcome} at {_at(never.decided_at)}")
    return table


def _steps(plan: RolloutPlan) -> Table:
    table = Table(title="Healthy update, step by step (T0 = update start)", title_justify="left")
    for column in ("step", "", "start", "end", "weight"):
        table.add_column(column, justify="left" if column == "" else "right")
    for span in plan.steps:
        table.add_row(str(span.index), span.label, _at(span.start), _at(span.end), f"{span.weight} %")
    return table


def _cases(plan: RolloutPlan) -> Table:
    table = Table(
        title="Faults: onset → abort",
        title_justify="left",
        caption="times after T0; the worst onset is a supremum (just after a measurement)",
        caption_justify="left",
    )
    for column in ("fault", "onset", "outcome", "decided", "latency", "weight", "max weight", "bad req"):
        table.add_column(column, justify="left" if column in ("fault", "outcome") else "right")
    cases = [plan.from_start, *plan.at_steps, *([plan.worst_onset] if plan.worst_onset else [])]
    for case in cases:
        table.add_row(*_row(case))
    return table


def _row(case: RolloutCase) -> list[str]:
    weight = "-" if case.weight_at_abort is None else f"{case.weight_at_abort} %"
    bad = f"{case.bad_requests:,.0f}" if math.isfinite(case.bad_requests) else "unbounded"
    latency = "-" if case.latency is None else duration_text(case.latency)
    return [
        case.label,
        _at(case.onset),
        case.outcome,
        _at(case.decided_at),
        latency,
        weight,
        f"{case.max_weight} %",
        bad,
    ]


def _samples(plan: RolloutPlan) -> Table:
    window = plan.assumptions.window
    table = Table(title="Canary requests per measurement (healthy)", title_justify="left")
    for column in ("measured", "weight", f"in {duration_text(window or 0)} window", ""):
        table.add_column(column, justify="right")
    for sample in plan.samples:
        flag = Text("LOW", style="yellow") if sample.low else Text("")
        table.add_row(_at(sample.at), f"{sample.weight} %", f"{sample.samples:.0f}", flag)
    return table


def _at(seconds: float | None) -> str:
    return "never" if seconds is None else duration_text(seconds)
