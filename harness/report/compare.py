"""One fault against several controllers, side by side (pure): the report's "Controllers compared".

Runs of the same scenario file under different controllers (``canary-chaos run --controller
flagger,argo-rollouts``) form a group; each row is one run with the figures an SRE compares first: the
decision, the outcome, fault onset → rollback (abort time), trigger → decision, the highest canary
weight and the share of failed requests. Repeats of a run each get their own row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.durations import format_duration
from harness.report.journal import RunRecord


@dataclass(frozen=True)
class CompareRow:
    controller: str
    scenario_id: str
    decision: str
    outcome: str
    abort_seconds: float | None  # fault onset → rollback (measure abort_within)
    decision_seconds: float | None  # trigger → Succeeded/Failed (measure decision_within)
    max_canary_weight: float | None
    failed_fraction: float | None


@dataclass(frozen=True)
class CompareGroup:
    scenario_file: str
    rows: tuple[CompareRow, ...]


def compare_groups(records: Sequence[RunRecord]) -> list[CompareGroup]:
    """Groups of runs of one scenario file under at least two controllers, in first-run order."""
    by_file: dict[str, list[RunRecord]] = {}
    for record in records:
        by_file.setdefault(record.scenario_file, []).append(record)
    groups = []
    for file, runs in by_file.items():
        if len({run.controller for run in runs}) >= 2:
            groups.append(CompareGroup(file, tuple(_row(run) for run in runs)))
    return groups


def _row(record: RunRecord) -> CompareRow:
    measured = {m.name: m.measured for m in record.verdict.measures} if record.verdict else {}

    def number(name: str) -> float | None:
        value = measured.get(name)
        return float(value) if isinstance(value, int | float) else None

    outcome = measured.get("outcome")
    return CompareRow(
        controller=record.controller,
        scenario_id=record.scenario_id,
        decision=str(record.decision),
        outcome=str(outcome) if outcome is not None else "—",
        abort_seconds=number("abort_within"),
        decision_seconds=number("decision_within"),
        max_canary_weight=number("max_canary_weight"),
        failed_fraction=number("max_failed_fraction"),
    )


def seconds_text(value: float | None) -> str:
    return "—" if value is None else f"{format_duration(round(value))} ({value:.0f} s)"


def compare_lines(records: Sequence[RunRecord]) -> list[str]:
    """The comparison as console lines (empty when no scenario ran under two controllers)."""
    lines: list[str] = []
    for group in compare_groups(records):
        lines.append(f"compared: {group.scenario_file}")
        lines.append(f"  {'controller':<15} {'decision':<13} {'outcome':<12} {'abort time':<16} "
                     f"{'decision after':<16} {'max weight':<10} failed")  # fmt: skip
        for row in group.rows:
            weight = "—" if row.max_canary_weight is None else f"{row.max_canary_weight:g} %"
            failed = "—" if row.failed_fraction is None else f"{100 * row.failed_fraction:.2f} %"
            lines.append(
                f"  {row.controller:<15} {row.decision:<13} {row.outcome:<12} "
                f"{seconds_text(row.abort_seconds):<16} {seconds_text(row.decision_seconds):<16} "
                f"{weight:<10} {failed}"
            )
    return lines
