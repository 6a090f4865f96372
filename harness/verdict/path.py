"""Measures of the controller's path (pure): weights walked, failedChecks, first failed check, events.

Each ``expect`` path field (``harness.scenario.model.PathExpectations``) becomes one ``Measure`` with
what was measured against the limit. Paths are read from the Canary status samples after the trigger
while the run was active (Progressing … Finalising), so a stale terminal status before the run and the
reset to 0 at the decision are not part of them. Path values show as ``10 → 20 → 30``.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.controllers.flagger.model import CanaryEvent
from harness.model import Measure, StatusSample
from harness.scenario.model import PathExpectations
from harness.verdict.measure import ACTIVE_PHASES


def path_measures(
    expect: PathExpectations,
    samples: Sequence[StatusSample],
    events: Sequence[CanaryEvent],
    *,
    trigger: float | None,
    onset: float | None,
    complete: bool,
) -> list[Measure]:
    active = _active(samples, trigger)
    judged = complete and bool(active)
    measures = []
    if expect.weights_walked is not None:
        measures.append(_path("weights_walked", weights_walked(active), expect.weights_walked, judged, "%"))
    if expect.failed_checks_path is not None:
        measured = failed_checks_path(active)
        measures.append(_path("failed_checks_path", measured, expect.failed_checks_path, judged, ""))
    if expect.first_failed_check_within_seconds is not None:
        measures.append(_first_failed(expect.first_failed_check_within_seconds, active, onset, judged))
    if expect.events_include:
        measures.append(_events(expect.events_include, events, trigger, complete))
    return measures


def weights_walked(active: Sequence[StatusSample]) -> tuple[int, ...]:
    """Distinct canary weights > 0 in the order the status showed them."""
    return _distinct([s.status.canary_weight for s in active if s.status.canary_weight > 0])


def failed_checks_path(active: Sequence[StatusSample]) -> tuple[int, ...]:
    """Distinct ``failedChecks`` values in the order the status showed them."""
    return _distinct([s.status.failed_checks for s in active])


def _active(samples: Sequence[StatusSample], trigger: float | None) -> list[StatusSample]:
    if trigger is None:
        return []
    ordered = sorted(samples, key=lambda s: s.at)
    return [s for s in ordered if s.at >= trigger and s.status.phase in ACTIVE_PHASES]


def _distinct(values: Sequence[int]) -> tuple[int, ...]:
    out: list[int] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return tuple(out)


def _path(name: str, measured: tuple[int, ...], limit: tuple[int, ...], judged: bool, unit: str) -> Measure:
    passed = (measured == limit) if judged else None
    note = "" if judged else "no active Canary status after the trigger"
    return Measure(name, show_path(measured), show_path(limit), unit, passed, note=note)


def _first_failed(limit: float, active: Sequence[StatusSample], onset: float | None, judged: bool) -> Measure:
    name, note = "first_failed_check_within", "fault onset → first status with failedChecks > 0"
    if onset is None:
        return Measure(name, None, limit, "s", None, note="fault onset unknown")
    before = max((s.status.failed_checks for s in active if s.at < onset), default=0)
    first = next((s for s in active if s.at >= onset and s.status.failed_checks > before), None)
    if first is None:
        return Measure(name, None, limit, "s", False if judged else None, note="no failed check; " + note)
    took = round(first.at - onset, 3)
    return Measure(name, took, limit, "s", took <= limit, note=note)


def _events(
    texts: Sequence[str], events: Sequence[CanaryEvent], trigger: float | None, complete: bool
) -> Measure:
    seen = [e.message for e in events if trigger is not None and e.at >= trigger]
    missing = [text for text in texts if not any(text in message for message in seen)]
    note = ("missing: " + "; ".join(repr(t) for t in missing)) if missing else "every text found"
    passed = None if not seen and not complete else not missing
    return Measure("events_include", len(texts) - len(missing), len(texts), "events", passed, note=note)


def show_path(values: tuple[int, ...]) -> str:
    """How a path measure shows its values: ``10 → 20 → 30`` (``—`` when empty)."""
    return " → ".join(str(v) for v in values) or "—"
