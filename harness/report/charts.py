"""Run charts as inline SVG (matplotlib, Agg): four panels on one time axis, seconds from the trigger.

Text stays text (``svg.fonttype: none``) so the SVG is small and crisp, ids are salted per run so several
runs can share one HTML page, and no metadata (dates) is written, so output is reproducible.
"""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MultipleLocator
from matplotlib.typing import RcKeyType

from harness.durations import format_clock
from harness.report.evidence import canary_version, end_time, phase_spans, time_origin, versions
from harness.report.journal import RunRecord
from harness.report.series import blast_radius, by_version, cohort_columns

PANEL_TITLES = (
    "Canary weight and phase",
    "Error rate by version",
    "Latency p95 / p99 by version",
    "Blast radius (cumulative, canary)",
)
PHASE_COLOURS = {
    "Progressing": "#dbeafe",
    "WaitingPromotion": "#fef3c7",
    "Promoting": "#dcfce7",
    "Finalising": "#dcfce7",
    "Succeeded": "#bbf7d0",
    "Failed": "#fecaca",
}
LEGEND: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.07, 1.0),
    "fontsize": 7,
    "frameon": False,
}
VERSION_COLOURS = ("#2563eb", "#ea580c", "#6b7280", "#7c3aed", "#0891b2")
COHORT_COLOURS = ("#db2777", "#0d9488", "#a16207", "#4f46e5", "#65a30d", "#9ca3af")  # users hurt per cohort
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
}


def run_chart_svg(record: RunRecord) -> str:
    """The four-panel chart of one run as an ``<svg>`` element string (no XML prologue)."""
    with plt.rc_context({**STYLE, "svg.hashsalt": f"{record.run_id}"}):
        figure, axes = plt.subplots(4, 1, figsize=(11, 9.2), sharex=True, layout="constrained")
        try:
            origin = time_origin(record)
            colours = {v: VERSION_COLOURS[i % len(VERSION_COLOURS)] for i, v in enumerate(versions(record))}
            _weight_panel(axes[0], record, origin)
            _error_panel(axes[1], record, colours)
            _latency_panel(axes[2], record, colours)
            _blast_panel(axes[3], record)
            for ax, title in zip(axes, PANEL_TITLES, strict=True):
                ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
                _mark_lines(ax, record, origin, labelled=ax is axes[0])
            _time_axis(axes[3], record, origin)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(figure)
    return _bare_svg(buffer.getvalue())


def _weight_panel(ax: Axes, record: RunRecord, origin: float) -> None:
    for span in phase_spans(record):
        colour = PHASE_COLOURS.get(span.phase)
        if colour and span.end > span.start:
            ax.axvspan(span.start - origin, span.end - origin, color=colour, alpha=0.7, lw=0)
            ax.text(
                (span.start + span.end) / 2 - origin,
                103,
                span.phase,
                ha="center",
                fontsize=7,
                color="#374151",
            )
    samples = sorted(record.samples, key=lambda s: s.at)
    times = [s.at - origin for s in samples]
    ax.step(
        times,
        [s.status.canary_weight for s in samples],
        where="post",
        color="#ea580c",
        lw=2,
        label="canary weight (status)",
    )
    applied = [(s.at - origin, s.router_weights[1]) for s in samples if s.router_weights is not None]
    if applied:
        ax.step(
            *zip(*applied, strict=True), where="post", color="#9a3412", lw=0.8, ls=":", label="router weight"
        )
    failed = sorted({c.at for c in record.checks if not c.passed})
    if failed:
        ax.plot(
            [t - origin for t in failed],
            [_weight_at(samples, t) for t in failed],
            "x",
            color="#b91c1c",
            ms=7,
            mew=2,
            label="failed check",
        )
    limit = record.rollback_conditions.max_weight if record.rollback_conditions else None
    if limit is not None:
        ax.axhline(limit, color="#6b7280", lw=0.8, ls="--", label=f"maxWeight {limit}%")
    ax.set_ylim(0, 115)
    ax.set_ylabel("weight %")
    ax.legend(**LEGEND)


def _error_panel(ax: Axes, record: RunRecord, colours: dict[str, str]) -> None:
    frame = by_version(record)
    for version, rows in frame.groupby("version", sort=False):
        ax.plot(
            rows["t"],
            rows["error_pct"],
            color=colours.get(str(version)),
            lw=1.4,
            label=_label(record, str(version)),
        )
    ax.set_ylabel("errors %")
    ax.set_ylim(bottom=0)
    _legend(ax)


def _latency_panel(ax: Axes, record: RunRecord, colours: dict[str, str]) -> None:
    frame = by_version(record)
    for version, rows in frame.groupby("version", sort=False):
        colour, label = colours.get(str(version)), _label(record, str(version))
        ax.plot(rows["t"], rows["latency_p95_ms"], color=colour, lw=1.4, label=f"{label} p95")
        ax.plot(rows["t"], rows["latency_p99_ms"], color=colour, lw=1, ls="--", label=f"{label} p99")
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    _legend(ax)


def _blast_panel(ax: Axes, record: RunRecord) -> None:
    frame = blast_radius(record)
    if frame.empty:
        ax.text(0.5, 0.5, "no canary traffic recorded", transform=ax.transAxes, ha="center", color="#6b7280")
        return
    ax.plot(frame["t"], frame["canary_requests"], color="#ea580c", lw=1.4, label="canary requests")
    ax.plot(frame["t"], frame["canary_bad"], color="#b91c1c", lw=1.4, label="bad canary requests")
    ax.set_ylabel("requests")
    ax.set_ylim(bottom=0)
    users = ax.twinx()
    users.plot(frame["t"], frame["users_hurt"], color="#7c3aed", lw=1.2, ls="-.", label="users hurt")
    for column, colour in zip(cohort_columns(record), COHORT_COLOURS, strict=False):
        cohort = column.split(":", 1)[1]
        label = f"hurt, {'outside every cohort' if cohort == '-' else 'cohort ' + cohort}"
        users.plot(frame["t"], frame[column], color=colour, lw=1, ls=":", label=label)
    users.set_ylabel("users")
    users.set_ylim(bottom=0)
    users.grid(False)
    handles = ax.get_legend_handles_labels()[0] + users.get_legend_handles_labels()[0]
    ax.legend(handles=handles, **LEGEND)


def _mark_lines(ax: Axes, record: RunRecord, origin: float, *, labelled: bool) -> None:
    styles = {
        "fault_on": ("#b91c1c", "--"),
        "fault_off": ("#15803d", "--"),
        "rollback": ("#7f1d1d", "-"),
        "promotion": ("#15803d", "-"),
    }
    for mark in record.marks:
        if mark.kind in styles:
            colour, line = styles[mark.kind]
            ax.axvline(mark.at - origin, color=colour, ls=line, lw=1.1)
    if labelled:
        for mark in record.marks:
            if mark.kind in styles:
                ax.text(
                    mark.at - origin + 3,
                    0.5,
                    mark.kind.replace("_", " "),
                    transform=ax.get_xaxis_transform(),
                    fontsize=7,
                    color=styles[mark.kind][0],
                    rotation=90,
                    va="center",
                )


def _time_axis(ax: Axes, record: RunRecord, origin: float) -> None:
    span = max(60.0, end_time(record) - origin)
    step = next((s for s in (30, 60, 120, 300, 600, 1800, 3600) if span / s <= 12), 7200)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: format_clock(value)))
    ax.set_xlabel("time since trigger (mm:ss, emulated)")


def _weight_at(samples: list, at: float) -> int:  # type: ignore[type-arg]
    weight = 0
    for sample in samples:
        if sample.at <= at:
            weight = sample.status.canary_weight
    return weight


def _label(record: RunRecord, version: str) -> str:
    role = (
        "canary"
        if version == canary_version(record)
        else "primary"
        if version == record.primary_version
        else ""
    )
    return f"{version} ({role})" if role else version


def _legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**LEGEND)


def _bare_svg(document: str) -> str:
    """Drop the XML declaration, DOCTYPE, metadata and fixed size so the SVG inlines in HTML and scales."""
    svg = document[document.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.S)
    # Namespace declarations are implied for SVG inlined in HTML; dropping them keeps the page URL-free.
    svg = (
        re.sub(r'\s(xmlns(:xlink)?|width|height)="[^"]*"', "", svg[: svg.index(">") + 1])
        + svg[svg.index(">") + 1 :]
    )
    if "<script" in svg.lower():
        raise ValueError("refusing to inline an SVG that contains a script element")
    return svg
