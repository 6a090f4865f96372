"""Shared scripts for the FakeBackend/FakeLoad tests (a canary bad from the start, interval 60 s)."""

from __future__ import annotations

from collections.abc import Callable

from harness.flagger.model import Phase
from harness.testing_run import ScriptStep

ROLLBACK_EVENTS = (
    "Rolling back faulty-app.canary-chaos failed checks threshold reached 3",
    "Canary failed! Scaling down faulty-app.canary-chaos",
)
BAD_FROM_START = (
    ScriptStep(30, Phase.PROGRESSING, 0, 0, ("New revision detected! Scaling up faulty-app.canary-chaos",)),
    ScriptStep(90, Phase.PROGRESSING, 10, 0),
    ScriptStep(150, Phase.PROGRESSING, 10, 1),
    ScriptStep(210, Phase.PROGRESSING, 10, 2),
    ScriptStep(270, Phase.PROGRESSING, 10, 3),
    ScriptStep(330, Phase.FAILED, 0, 0, ROLLBACK_EVENTS),
)


def bad_canary_traffic(trigger_at: float) -> Callable[[float], dict[str, tuple[int, int]]]:
    def traffic(t: float) -> dict[str, tuple[int, int]]:
        canary = 0 if t < trigger_at + 90 or t >= trigger_at + 330 else 20
        return {"1.0.0": (200 - canary, 0), "1.1.0": (canary, canary)}

    return traffic
