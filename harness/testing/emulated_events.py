"""The core/v1 Events an emulated Argo Rollouts controller's ``RolloutEvent``s become on the API server.

As client-go's recorder and EventCorrelator store them (Argo v1.9.1 records through
``utils/record/record.go``): one Event per distinct (object kind, object name, type, reason, message); an
identical repeat increments its ``count`` and moves ``lastTimestamp``; timestamps are ``metav1.Time``, whole
seconds of the cluster's wall clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime

from harness.backends.kubernetes.api import EventInfo
from harness.controllers.argo_rollouts.model import RolloutEvent


def recorded_events(
    namespace: str, events: Iterable[RolloutEvent], wall: Callable[[float], datetime]
) -> list[EventInfo]:
    """The Events for ``events`` (in emission order; ``at`` in cluster seconds, ``wall`` → wall time)."""
    folded: dict[tuple[str, str, str, str, str], EventInfo] = {}
    for event in events:
        key = (event.object_kind, event.object_name, event.type, event.reason, event.message)
        moment = wall(event.at).strftime("%Y-%m-%dT%H:%M:%SZ")
        known = folded.get(key)
        if known is None:
            uid = hashlib.sha256(repr((namespace, *key)).encode()).hexdigest()[:16]
            folded[key] = EventInfo(uid, *key, count=1, first_time=moment, last_time=moment)
        else:
            folded[key] = EventInfo(
                known.uid, *key, count=known.count + 1, first_time=known.first_time, last_time=moment
            )
    return list(folded.values())
