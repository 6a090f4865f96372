"""CSV exports of one run (pandas): load by bucket/version/status, samples, events, checks, measures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.errors import ReportError
from harness.report.evidence import time_origin
from harness.report.journal import RunRecord, redact_record
from harness.report.series import load_frame

SAMPLE_COLUMNS = [
    "t",
    "at",
    "phase",
    "canary_weight",
    "failed_checks",
    "iterations",
    "router_primary",
    "router_canary",
]
EVENT_COLUMNS = ["t", "at", "type", "phase", "message"]
CHECK_COLUMNS = ["t", "at", "metric", "value", "passed", "error", "query"]
MEASURE_COLUMNS = ["name", "measured", "limit", "unit", "passed", "predicted", "note"]


def export_csv(record: RunRecord, out_dir: Path) -> list[Path]:
    """Write ``<run_id>-{load,samples,events,checks,measures}.csv`` (``t`` = seconds from the trigger)."""
    record = redact_record(record)
    frames = {
        "load": load_frame(record),
        "samples": _samples(record),
        "events": _events(record),
        "checks": _checks(record),
        "measures": _measures(record),
    }
    out_dir = Path(out_dir)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in record.run_id)[:120] or "run"
    written = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            path = out_dir / f"{stem}-{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
    except OSError as exc:
        raise ReportError(f"cannot write CSV under {out_dir}: {exc.strerror or exc}") from exc
    return written


def _samples(record: RunRecord) -> pd.DataFrame:
    origin = time_origin(record)
    rows = [
        {
            "t": s.at - origin,
            "at": s.at,
            "phase": str(s.status.phase),
            "canary_weight": s.status.canary_weight,
            "failed_checks": s.status.failed_checks,
            "iterations": s.status.iterations,
            "router_primary": s.router_weights[0] if s.router_weights else None,
            "router_canary": s.router_weights[1] if s.router_weights else None,
        }
        for s in record.samples
    ]
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


def _events(record: RunRecord) -> pd.DataFrame:
    origin = time_origin(record)
    rows = [
        {"t": e.at - origin, "at": e.at, "type": e.type, "phase": str(e.phase), "message": e.message}
        for e in record.events
    ]
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def _checks(record: RunRecord) -> pd.DataFrame:
    origin = time_origin(record)
    rows = [
        {
            "t": c.at - origin,
            "at": c.at,
            "metric": c.metric,
            "value": c.value,
            "passed": c.passed,
            "error": c.error,
            "query": c.query,
        }
        for c in record.checks
    ]
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def _measures(record: RunRecord) -> pd.DataFrame:
    measures = record.verdict.measures if record.verdict else ()
    rows = [{column: getattr(m, column) for column in MEASURE_COLUMNS} for m in measures]
    return pd.DataFrame(rows, columns=MEASURE_COLUMNS)
