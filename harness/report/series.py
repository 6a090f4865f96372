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


def cohort_columns(record: RunRecord) -> list[str]:
    """``users_hurt:<cohort>`` for every cohort the load records name (none without cohorts)."""
    names = sorted({b.cohort for b in record.load if b.cohort})
    return [f"users_hurt:{name}" for name in names]


def blast_radius(record: RunRecord) -> pd.DataFrame:
    """Cumulative canary requests, bad canary requests and distinct users hurt, at each bucket's end.

    With cohorts in the load records there is one more column per cohort, ``users_hurt:<cohort>``
    (``users_hurt:-`` for users in none): the blast radius on each side of the experiment's boundary."""
    canary = canary_version(record)
    origin = time_origin(record)
    extra = cohort_columns(record)
    rows, seen = [], set[str]()
    by_cohort: dict[str, set[str]] = {column: set() for column in extra}
    totals = {"requests": 0, "bad": 0}
    for bucket in sorted((b for b in record.load if b.version == canary), key=lambda b: b.start):
        totals["requests"] += bucket.requests
        totals["bad"] += bucket.bad
        seen.update(bucket.hurt_users)
        if bucket.cohort:
            by_cohort[f"users_hurt:{bucket.cohort}"].update(bucket.hurt_users)
        t = bucket.start + bucket.duration - origin
        rows.append(
            {
                "t": t,
                "canary_requests": totals["requests"],
                "canary_bad": totals["bad"],
                "users_hurt": len(seen),
                **{column: len(users) for column, users in by_cohort.items()},
            }
        )
    frame = pd.DataFrame(rows, columns=["t", "canary_requests", "canary_bad", "users_hurt", *extra])
    return frame.groupby("t", as_index=False).max() if not frame.empty else frame
