"""Tabular views of a run record (pandas), shared by the charts and the CSV export."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from harness.report.evidence import canary_version, time_origin
from harness.report.journal import RunRecord

LOAD_COLUMNS = [
    "t",
    "start",
    "duration",
    "version",
    "status",
    "requests",
    "bad",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "hurt_users",
]
VERSION_COLUMNS = ["t", "version", "requests", "bad", "error_pct", "latency_p95_ms", "latency_p99_ms"]


def load_frame(record: RunRecord) -> pd.DataFrame:
    """One row per load bucket; ``t`` is seconds from the trigger; ``hurt_users`` is a count."""
    origin = time_origin(record)
    rows = [{**asdict(b), "hurt_users": len(b.hurt_users), "t": b.start - origin} for b in record.load]
    return pd.DataFrame(rows, columns=LOAD_COLUMNS)


def by_version(record: RunRecord) -> pd.DataFrame:
    """Per bucket and version: requests, bad, error %, and p95/p99 (the slowest status code's)."""
    frame = load_frame(record)
    if frame.empty:
        return pd.DataFrame(columns=VERSION_COLUMNS)
    grouped = frame.groupby(["t", "version"], as_index=False).agg(
        requests=("requests", "sum"),
        bad=("bad", "sum"),
        latency_p95_ms=("latency_p95_ms", "max"),
        latency_p99_ms=("latency_p99_ms", "max"),
    )
    grouped["error_pct"] = (100.0 * grouped["bad"] / grouped["requests"]).where(grouped["requests"] > 0)
    return grouped[VERSION_COLUMNS].sort_values(["version", "t"], ignore_index=True)


def blast_radius(record: RunRecord) -> pd.DataFrame:
    """Cumulative canary requests, bad canary requests and distinct users hurt, at each bucket's end."""
    canary = canary_version(record)
    origin = time_origin(record)
    rows, seen = [], set[str]()
    totals = {"requests": 0, "bad": 0}
    for bucket in sorted((b for b in record.load if b.version == canary), key=lambda b: b.start):
        totals["requests"] += bucket.requests
        totals["bad"] += bucket.bad
        seen.update(bucket.hurt_users)
        t = bucket.start + bucket.duration - origin
        rows.append(
            {
                "t": t,
                "canary_requests": totals["requests"],
                "canary_bad": totals["bad"],
                "users_hurt": len(seen),
            }
        )
    frame = pd.DataFrame(rows, columns=["t", "canary_requests", "canary_bad", "users_hurt"])
    return frame.groupby("t", as_index=False).max() if not frame.empty else frame
