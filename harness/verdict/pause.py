"""Outcome ``paused``: the controller holds the rollout, neither promoted nor rolled back (pure).

Argo Rollouts pauses a Rollout whose AnalysisRun is Inconclusive (``InconclusiveAnalysisRun``) until a
human promotes or aborts it; the status mapping carries that as ``CanaryStatus.paused_reason``. The hold
counts when it lasts from its start to the last sample of the watch (a pause step that ends is not one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.model import Measure, StatusSample
from harness.scenario.model import Expectations


@dataclass(frozen=True)
class Hold:
    reason: str
    since: float  # the first sample of the pause that lasts to the end


def held_pause(samples: Sequence[StatusSample], trigger: float) -> Hold | None:
    """The pause that holds at the end of the watch, from its first sample; None when the last is not one."""
    hold: Hold | None = None
    for sample in sorted(samples, key=lambda s: s.at):
        if sample.at < trigger:
            continue
        reason = sample.status.paused_reason
        if not reason:
            hold = None
        elif hold is None or hold.reason != reason:
            hold = Hold(reason, sample.at)
    return hold


def pause_measures(
    expect: Expectations, samples: Sequence[StatusSample], trigger: float | None, onset: float | None
) -> list[Measure]:
    """``outcome`` (paused) and, when expected, ``pause_within`` and ``pause_reason``."""
    hold = held_pause(samples, trigger) if trigger is not None else None
    judged = trigger is not None and bool(samples)
    measures = [
        Measure(
            "outcome",
            "paused" if hold else "not paused",
            "paused",
            "",
            (hold is not None) if judged else None,
            note=f"held by the controller ({hold.reason}) to the end of the watch" if hold else "",
        )
    ]
    if expect.pause_reason is not None:
        found = hold.reason if hold else None
        passed = None if not judged else found == expect.pause_reason
        measures.append(Measure("pause_reason", found, expect.pause_reason, "", passed))
    if expect.pause_within_seconds is not None:
        limit = expect.pause_within_seconds
        if hold is None or onset is None:
            note = "fault onset unknown" if hold else "no pause held to the end"
            measures.append(Measure("pause_within", None, limit, "s", False if judged else None, note=note))
        else:
            took = max(0.0, hold.since - onset)
            note = "from fault onset to the pause that held"
            measures.append(Measure("pause_within", round(took, 3), limit, "s", took <= limit, note=note))
    return measures
