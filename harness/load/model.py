"""Load generator data, pure: the Locust child's config, its JSON-lines records, and their merging.

Each Locust process that runs users writes ``<out>/load-<role><index>.jsonl``. Requests are attributed
to the bucket of ``bucket_seconds`` real seconds (aligned on the epoch, so buckets of several processes
line up) in which they *completed*. Lines are either a bucket record

    {"k": "b", "s": <epoch start>, "l": length, "v": version, "c": status, "n": requests, "bad": n,
     "p50": ms, "p95": ms, "p99": ms, "max": ms, "h": [[bin, count], ...], "u": ["u0003", ...],
     "wl": "canary", "co": "insider", "rt": "GET /api/orders", "fu": "u0003"}

``wl`` is the workload that served the requests (the router's ``WORKLOAD_HEADER``; "" when absent),
``co`` the synthetic users' cohort (``harness.scenario.cohorts.OUTSIDE`` for users in none; "" when the
scenario declares no cohorts), ``rt`` the route (``"<METHOD> <path>"``) and ``fu`` the user of the
bucket's first request (an example for the verdict's notes). Older lines without them read as "".

or a watermark ``{"k": "w", "t": <epoch s>, "final": bool}``: the writer promises no more records for
buckets starting before ``t`` (``final``: no more records at all).

Merging the records of one (start, version, status, workload, cohort, route) from several processes is
exact for requests, bad and hurt users (``fu`` becomes the smallest id). Percentiles come from the
summed latency histogram: bins are log-spaced with ratio ``HIST_RATIO`` = 1.05 and each bin is
represented by its geometric centre, so a merged percentile is within ±2.5 % of the exact nearest-rank
value (for latencies ≥ ``HIST_MIN_MS``). A key seen by a single record keeps that child's exact
percentiles.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import TypeAdapter

from harness.model import NO_VERSION, LoadBucket

HIST_RATIO = 1.05
HIST_MIN_MS = 0.01  # bin 0 holds everything below this
_LOG_RATIO = math.log(HIST_RATIO)
CONFIG_ENV = "CANARY_LOADGEN_CONFIG"  # path of the ChildConfig JSON file
ROLE_ENV = "CANARY_LOADGEN_ROLE"  # "local" | "master" | "worker"
INDEX_ENV = "CANARY_LOADGEN_INDEX"
VERSION_HEADER = "X-App-Version"


@dataclass(frozen=True)
class RouteConfig:
    path: str
    method: str = "GET"
    weight: int = 1
    validate_checksum: bool = False  # POST /api/orders: a 200 must carry a valid body checksum


@dataclass(frozen=True)
class CohortConfig:
    """A fraction of the users that send these headers on every request (cookies already as ``Cookie``)."""

    name: str
    fraction: float
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StageConfig:
    duration_seconds: float  # real seconds
    rps: float


@dataclass(frozen=True)
class ChildConfig:
    """Everything the Locust child needs; written as JSON to the file named by ``CONFIG_ENV``."""

    url: str
    users: int
    out_dir: str
    start_epoch: float  # time.time() when the parent started the load: shape time 0
    host_header: str | None = None
    rps: float | None = 10.0  # total target requests/s (real); None = follow ``shape``
    shape: tuple[StageConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = (RouteConfig("/"),)
    cohorts: tuple[CohortConfig, ...] = ()
    request_timeout_seconds: float = 5.0
    bucket_seconds: float = 1.0  # real seconds
    workers: int = 0
    seed: int = 0  # shifts the cohort assignment and seeds each user's route choices

    def rps_at(self, elapsed: float) -> float:
        """Target total requests/s ``elapsed`` real seconds after ``start_epoch`` (last stage repeats)."""
        if self.rps is not None:
            return self.rps
        start = 0.0
        for stage in self.shape:
            if elapsed < start + stage.duration_seconds:
                return stage.rps
            start += stage.duration_seconds
        return self.shape[-1].rps if self.shape else 0.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @staticmethod
    def from_json(text: str) -> ChildConfig:
        return _CONFIG_ADAPTER.validate_json(text)


_CONFIG_ADAPTER = TypeAdapter(ChildConfig)


RecordKey = tuple[float, str, int, str, str, str]  # start, version, status, workload, cohort, route


@dataclass(frozen=True)
class BucketRecord:
    """Requests of one process (or merged), one bucket, one version, one status; epoch times."""

    start: float
    length: float
    version: str
    status: int
    requests: int
    bad: int
    p50: float
    p95: float
    p99: float
    max: float
    hist: tuple[tuple[int, int], ...] = ()
    hurt: tuple[str, ...] = ()
    workload: str = ""
    cohort: str = ""
    route: str = ""
    first_user: str = ""

    @property
    def key(self) -> RecordKey:
        return (self.start, self.version, self.status, self.workload, self.cohort, self.route)


@dataclass(frozen=True)
class Watermark:
    through: float
    final: bool = False


Record = BucketRecord | Watermark


def bucket_start(epoch: float, length: float) -> float:
    """The epoch start of the bucket holding ``epoch`` (rounded so every process agrees)."""
    return round(math.floor(epoch / length) * length, 6)


def is_bad(status: int, valid_body: bool = True) -> bool:
    """5xx, no response (status 0) or a body that failed validation."""
    return status == 0 or status >= 500 or not valid_body


def hist_bin(latency_ms: float) -> int:
    if latency_ms < HIST_MIN_MS:
        return 0
    return int(math.log(latency_ms / HIST_MIN_MS) / _LOG_RATIO) + 1


def bin_value(index: int) -> float:
    """The geometric centre of a histogram bin, in ms."""
    if index <= 0:
        return 0.0
    return float(HIST_MIN_MS * HIST_RATIO ** (index - 0.5))


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _hist_percentile(hist: Sequence[tuple[int, int]], total: int, q: float) -> float:
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, count in hist:
        seen += count
        if seen >= rank:
            return bin_value(index)
    return bin_value(hist[-1][0]) if hist else 0.0


def summarize(
    start: float,
    length: float,
    version: str,
    status: int,
    latencies_ms: Iterable[float],
    bad: int,
    hurt: Iterable[str],
    workload: str = "",
    *,
    cohort: str = "",
    route: str = "",
    first_user: str = "",
) -> BucketRecord:
    """One process's exact record of a bucket, with its histogram for later merging."""
    ordered = sorted(latencies_ms)
    counts: dict[int, int] = {}
    for latency in ordered:
        counts[hist_bin(latency)] = counts.get(hist_bin(latency), 0) + 1
    return BucketRecord(
        start=start,
        length=length,
        version=version,
        status=status,
        requests=len(ordered),
        bad=bad,
        p50=nearest_rank(ordered, 0.50),
        p95=nearest_rank(ordered, 0.95),
        p99=nearest_rank(ordered, 0.99),
        max=ordered[-1] if ordered else 0.0,
        hist=tuple(sorted(counts.items())),
        hurt=tuple(sorted(set(hurt))),
        workload=workload,
        cohort=cohort,
        route=route,
        first_user=first_user,
    )


def merge_records(records: Sequence[BucketRecord]) -> BucketRecord:
    """Merge records of one key: exact counts and hurt users, percentiles via the histograms."""
    if len(records) == 1:
        return records[0]
    first = records[0]
    counts: dict[int, int] = {}
    for record in records:
        for index, count in record.hist:
            counts[index] = counts.get(index, 0) + count
    hist = tuple(sorted(counts.items()))
    total = sum(record.requests for record in records)
    top = max(record.max for record in records)
    return dataclasses.replace(
        first,
        requests=total,
        bad=sum(record.bad for record in records),
        p50=min(top, _hist_percentile(hist, total, 0.50)),
        p95=min(top, _hist_percentile(hist, total, 0.95)),
        p99=min(top, _hist_percentile(hist, total, 0.99)),
        max=top,
        hist=hist,
        hurt=tuple(sorted({user for record in records for user in record.hurt})),
        first_user=min((r.first_user for r in records if r.first_user), default=""),
    )


def encode_record(record: Record) -> str:
    if isinstance(record, Watermark):
        return json.dumps({"k": "w", "t": record.through, "final": record.final})
    r = record
    return json.dumps(
        {"k": "b", "s": r.start, "l": r.length, "v": r.version, "c": r.status, "n": r.requests,
         "bad": r.bad, "p50": r.p50, "p95": r.p95, "p99": r.p99, "max": r.max,
         "h": [list(pair) for pair in r.hist], "u": list(r.hurt), "wl": r.workload,
         "co": r.cohort, "rt": r.route, "fu": r.first_user}
    )  # fmt: skip


def parse_line(line: str) -> Record | None:
    """Decode one JSON line; None for blank or unreadable lines (a torn write)."""
    try:
        raw = json.loads(line)
        if raw["k"] == "w":
            return Watermark(float(raw["t"]), bool(raw.get("final", False)))
        return BucketRecord(
            start=float(raw["s"]), length=float(raw["l"]), version=str(raw["v"] or NO_VERSION),
            status=int(raw["c"]), requests=int(raw["n"]), bad=int(raw["bad"]), p50=float(raw["p50"]),
            p95=float(raw["p95"]), p99=float(raw["p99"]), max=float(raw["max"]),
            hist=tuple((int(i), int(c)) for i, c in raw["h"]), hurt=tuple(str(u) for u in raw["u"]),
            workload=str(raw.get("wl") or ""), cohort=str(raw.get("co") or ""),
            route=str(raw.get("rt") or ""), first_user=str(raw.get("fu") or ""),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None


def split_lines(buffer: bytes) -> tuple[list[str], bytes]:
    """Complete lines of ``buffer`` and the unterminated rest (kept until its newline arrives)."""
    *lines, rest = buffer.split(b"\n")
    return [line.decode(errors="replace") for line in lines if line.strip()], rest


@dataclass
class BucketMerger:
    """Gathers records from named sources and releases merged buckets once every source is past them."""

    sources: tuple[str, ...]
    _pending: dict[RecordKey, list[BucketRecord]] = field(default_factory=dict)
    _marks: dict[str, Watermark] = field(default_factory=dict)
    requests_seen: int = 0

    def add(self, source: str, records: Iterable[Record]) -> None:
        for record in records:
            if isinstance(record, Watermark):
                self._marks[source] = record
            else:
                self._pending.setdefault(record.key, []).append(record)
                self.requests_seen += record.requests

    def _through(self) -> float:
        marks = [self._marks.get(source) for source in self.sources]
        if any(mark is None for mark in marks):
            return -math.inf
        return min(math.inf if mark.final else mark.through for mark in marks if mark is not None)

    def release(self, everything: bool = False) -> list[BucketRecord]:
        """Merged records whose bucket every source has finished (or all of them when ``everything``)."""
        through = math.inf if everything else self._through()
        ready = sorted(
            key
            for key, records in self._pending.items()
            if records[0].start + records[0].length <= through + 1e-6
        )
        return [merge_records(self._pending.pop(key)) for key in ready]


def to_load_bucket(
    record: BucketRecord, from_epoch: Callable[[float], float], to_emulated: Callable[[float], float]
) -> LoadBucket:
    return LoadBucket(
        start=from_epoch(record.start),
        duration=to_emulated(record.length),
        version=record.version,
        status=record.status,
        requests=record.requests,
        bad=record.bad,
        latency_p50_ms=record.p50,
        latency_p95_ms=record.p95,
        latency_p99_ms=record.p99,
        latency_max_ms=record.max,
        hurt_users=record.hurt,
        workload=record.workload,
        cohort=record.cohort,
        route=record.route,
        first_user=record.first_user,
    )
