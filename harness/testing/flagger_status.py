"""A Flagger-like Canary status writer and event payloads, for scripting ``FakeCluster`` timelines.

``FlaggerStatusWriter`` writes ``status`` exactly as Flagger does (semantics spec §1.2): the ``Promoted``
condition changes only when its status or reason changes, ``status.lastTransitionTime`` changes on every
write. ``flagger_event`` is an event-webhook payload (§6.1).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from harness.backends.kubernetes.api import CanaryStatusDict, ConditionDict

CONDITION_MESSAGES = {
    "Initializing": "New Deployment detected, starting initialization.",
    "Initialized": "Deployment initialization completed.",
    "Waiting": "Waiting for approval.",
    "WaitingPromotion": "Waiting for approval.",
    "Progressing": "New revision detected, progressing canary analysis.",
    "Promoting": "Canary analysis completed, starting primary rolling update.",
    "Finalising": "Canary analysis completed, routing all traffic to primary.",
    "Succeeded": "Canary analysis completed successfully, promotion finished.",
    "Failed": "Canary analysis failed, Deployment scaled to zero.",
}


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FlaggerStatusWriter:
    """Produces successive ``status`` dicts the way Flagger's ``pkg/canary/status.go`` writes them."""

    def __init__(self, wall0: datetime) -> None:
        self._wall0 = wall0
        self._condition: ConditionDict | None = None

    def write(
        self, at: float, phase: str, *, weight: int = 0, failed_checks: int = 0, spec_hash: str = "abc123"
    ) -> CanaryStatusDict:
        stamp = rfc3339(self._wall0 + timedelta(seconds=at))
        status: Literal["True", "False", "Unknown"] = (
            "True" if phase in ("Initialized", "Succeeded") else "False" if phase == "Failed" else "Unknown"
        )
        previous = self._condition
        if previous is None or previous["status"] != status or previous["reason"] != phase:
            keep_transition = previous is not None and previous["status"] == status
            self._condition = {
                "type": "Promoted",
                "status": status,
                "reason": phase,
                "message": CONDITION_MESSAGES.get(phase, ""),
                "lastUpdateTime": stamp,
                "lastTransitionTime": previous.get("lastTransitionTime", stamp)
                if keep_transition and previous
                else stamp,
            }
        return {
            "phase": phase,
            "canaryWeight": weight,
            "failedChecks": failed_checks,
            "iterations": 0,
            "lastAppliedSpec": spec_hash,
            "lastPromotedSpec": "stable0",
            "lastTransitionTime": stamp,
            "conditions": [copy.deepcopy(self._condition)] if self._condition else [],
        }


@dataclass(frozen=True)
class ScriptedStatus:
    """One status write, ``at`` seconds after the Canary was applied."""

    at: float
    status: CanaryStatusDict


def flagger_event(
    namespace: str,
    name: str,
    message: str,
    *,
    at_epoch_ms: int,
    phase: str = "Progressing",
    warning: bool = False,
) -> dict[str, Any]:
    """A Flagger event-webhook payload (semantics spec §6.1)."""
    return {
        "name": name,
        "namespace": namespace,
        "phase": phase,
        "checksum": "abc123",
        "metadata": {
            "eventMessage": message,
            "eventType": "Warning" if warning else "Normal",
            "timestamp": str(at_epoch_ms),
        },
    }
