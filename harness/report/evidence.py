"""Pure views over a run record that the report, the CSV export and the remediation notes share."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from harness.durations import DurationError, format_duration, parse_duration
from harness.model import NO_VERSION, Measure
from harness.report.journal import RunRecord
from harness.verdict.attribution import canary_load
from harness.verdict.measure import window_tally

MIN_CANARY_REQUESTS = 10  # below this many canary requests in a check window: "no sample, no signal"


@dataclass(frozen=True)
class IntervalSample:
    """Canary traffic seen by one analysis tick's metric window."""

    at: float  # tick time, emulated seconds on the run clock
    window: float  # seconds of traffic the tick's queries look back over
    canary_requests: int
    canary_bad: int
    failed_metrics: tuple[str, ...]

    @property
    def low(self) -> bool:
        return self.canary_requests < MIN_CANARY_REQUESTS


@dataclass(frozen=True)
class PhaseSpan:
    phase: str
    start: float
    end: float


def time_origin(record: RunRecord) -> float:
    """Emulated time of the trigger (the zero of every chart), else of the first observation."""
    triggers = [m.at for m in record.marks if m.kind == "trigger"]
    if triggers:
        return min(triggers)
    return min(_instants(record), default=0.0)


def end_time(record: RunRecord) -> float:
    """The last observed emulated time."""
    ends = [*_instants(record), *(b.start + b.duration for b in record.load)]
    return max(ends, default=time_origin(record))


def _instants(record: RunRecord) -> list[float]:
    times = [s.at for s in record.samples] + [e.at for e in record.events] + [c.at for c in record.checks]
    return times + [m.at for m in record.marks] + [b.start for b in record.load]


def versions(record: RunRecord) -> list[str]:
    """App versions seen in the load, primary first, canary second, others (and 'none') after."""
    seen = sorted({b.version for b in record.load})
    first = [v for v in (record.primary_version, canary_version(record)) if v in seen]
    return first + [v for v in seen if v not in first]


def canary_version(record: RunRecord) -> str | None:
    """The canary's X-App-Version: as recorded, else the served version with the fewest requests."""
    if record.canary_version:
        return record.canary_version
    totals: dict[str, int] = defaultdict(int)
    for bucket in record.load:
        if bucket.version not in (NO_VERSION, record.primary_version):
            totals[bucket.version] += bucket.requests
    if len(totals) < (1 if record.primary_version else 2):
        return None
    return min(totals, key=lambda v: (totals[v], v))


def metric_window(record: RunRecord) -> float:
    """The widest metric window in force (seconds), else the analysis interval, else 60 s."""
    conditions = record.rollback_conditions
    if conditions is None:
        return 60.0
    windows = [numeric(c.window) for c in conditions.criteria if c.window]
    return max((w for w in windows if w), default=conditions.interval_seconds)


def interval_samples(record: RunRecord) -> tuple[IntervalSample, ...]:
    """Per analysis tick (distinct check times): the canary workload's requests in the tick's metric window
    (counted as the verdict's low-sample warnings count them)."""
    canary = canary_version(record)
    window = metric_window(record)
    failed: dict[float, list[str]] = defaultdict(list)
    for check in record.checks:
        failed.setdefault(check.at, [])
        if not check.passed:
            failed[check.at].append(check.metric)
    trigger = min((m.at for m in record.marks if m.kind == "trigger"), default=None)
    served = canary_load(record.load, record.samples, canary, trigger=trigger) if canary else []
    samples = []
    for at in sorted(failed):
        requests, bad = window_tally(served, at - window, at)
        samples.append(IntervalSample(at, window, round(requests), round(bad), tuple(failed[at])))
    return tuple(samples)


def phase_spans(record: RunRecord) -> tuple[PhaseSpan, ...]:
    """Consecutive status samples merged into spans of one Canary phase."""
    spans: list[PhaseSpan] = []
    ordered = sorted(record.samples, key=lambda s: s.at)
    for index, sample in enumerate(ordered):
        end = ordered[index + 1].at if index + 1 < len(ordered) else sample.at
        phase = str(sample.status.phase) or "(none)"
        if spans and spans[-1].phase == phase:
            spans[-1] = PhaseSpan(phase, spans[-1].start, end)
        else:
            spans.append(PhaseSpan(phase, sample.at, end))
    return tuple(spans)


def numeric(value: float | str | None) -> float | None:
    """A measure's value as seconds/number when it is one (durations like '5m40s' included)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_duration(value)
    except DurationError:
        return None


def format_value(value: float | str | None, unit: str = "") -> str:
    """'5m40s' for seconds, '60%' for percentages, '130 users' for counts, '—' for missing."""
    number = numeric(value) if not isinstance(value, str) or unit == "s" else None
    if value is None:
        return "—"
    if number is None:
        return str(value)
    if unit == "s":
        return format_duration(number)
    text = f"{number:g}"
    return f"{text}%" if unit == "%" else f"{text} {unit}".rstrip()


def failed_measures(measures: tuple[Measure, ...]) -> tuple[Measure, ...]:
    return tuple(m for m in measures if m.passed is False)
