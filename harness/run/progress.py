"""Live progress display: phase, weight, failedChecks, RPS and errors by version."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from harness.durations import format_clock


@dataclass(frozen=True)
class ProgressSnapshot:
    scenario_id: str
    stage: str
    elapsed: float  # emulated seconds since the scenario started
    phase: str = ""
    canary_weight: int = 0
    failed_checks: int = 0
    rps_by_version: Mapping[str, float] = field(default_factory=dict)
    error_pct_by_version: Mapping[str, float] = field(default_factory=dict)


class ProgressView(Protocol):
    def update(self, snapshot: ProgressSnapshot) -> None: ...

    def message(self, text: str) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    def update(self, snapshot: ProgressSnapshot) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """For logs and CI: one line whenever stage, phase, weight or failedChecks changes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._last: tuple[str, str, int, int] | None = None

    def update(self, snapshot: ProgressSnapshot) -> None:
        key = (snapshot.stage, snapshot.phase, snapshot.canary_weight, snapshot.failed_checks)
        if key == self._last:
            return
        self._last = key
        self._stream.write(_one_line(snapshot) + "\n")
        self._stream.flush()

    def message(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class RichProgress:
    """An in-place table for interactive terminals."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._live = Live(console=self._console, refresh_per_second=8, transient=False)
        self._live.start()

    def update(self, snapshot: ProgressSnapshot) -> None:
        self._live.update(_table(snapshot))

    def message(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        self._live.stop()


def make_progress(enabled: bool) -> ProgressView:
    if not enabled:
        return NullProgress()
    return RichProgress() if sys.stderr.isatty() else LineProgress()


def _one_line(s: ProgressSnapshot) -> str:
    load = " ".join(
        f"{v}:{s.rps_by_version[v]:.0f}rps/{s.error_pct_by_version.get(v, 0.0):.1f}%err"
        for v in sorted(s.rps_by_version)
    )
    return (
        f"[{s.scenario_id}] {format_clock(s.elapsed)} {s.stage:<9} phase={s.phase or '-'} "
        f"weight={s.canary_weight}% failedChecks={s.failed_checks} {load}"
    )


def _table(s: ProgressSnapshot) -> Table:
    table = Table(title=f"{s.scenario_id} — {s.stage} — t={format_clock(s.elapsed)}", expand=False)
    table.add_column("phase")
    table.add_column("canary weight", justify="right")
    table.add_column("failedChecks", justify="right")
    table.add_column("load by version")
    load = ", ".join(
        f"{v}: {s.rps_by_version[v]:.0f} rps, {s.error_pct_by_version.get(v, 0.0):.1f}% errors"
        for v in sorted(s.rps_by_version)
    )
    table.add_row(s.phase or "-", f"{s.canary_weight}%", str(s.failed_checks), load or "-")
    return table
