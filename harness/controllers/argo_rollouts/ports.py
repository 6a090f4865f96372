"""What the Argo Rollouts emulation needs from the world; the local backend and test fakes provide these.

The controller imports no client library. Ports raise the project's ``HarnessError`` subclasses
(``MetricsError`` for queries, ``ClusterError``/``ProcessError`` for the rest), never vendor exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from harness.controllers.argo_rollouts.model import RolloutEvent

# A Prometheus answer as Argo binds it to ``result``: a scalar is a float, an instant vector is the list of
# its sample values in response order (an empty vector is ``()``, never an error).
QueryResult = float | Sequence[float]


class PrometheusQueries(Protocol):
    def query(self, address: str, query: str, timeout: float) -> QueryResult:
        """Instant query of ``query`` (args already substituted); raise ``MetricsError`` on any failure."""
        ...


class TraefikWeights(Protocol):
    """The TraefikService named by ``weightedTraefikServiceName`` (semantics §4)."""

    def set_weight(self, canary_weight: int) -> None:
        """Write ``weight: canary_weight`` on the canary entry and ``100 - canary_weight`` on the stable one.

        Raise a ``HarnessError`` when the TraefikService or an entry is missing.
        """
        ...


class RolloutWorkload(Protocol):
    """The Rollout's ReplicaSets and its stable/canary Services."""

    def canary_hash(self) -> str:
        """Pod-template hash of the new (canary) ReplicaSet."""
        ...

    def scale_canary(self, replicas: int) -> None: ...

    def canary_available_replicas(self) -> int: ...

    def stable_available_replicas(self) -> int: ...

    def promote(self) -> None:
        """The stable Service now selects the canary's pods (``status.stableRS`` ← canary hash)."""
        ...

    def scale_down_previous_stable(self) -> None:
        """Scale the old stable ReplicaSet to 0 (after ``scaleDownDelaySeconds``)."""
        ...


class EventSink(Protocol):
    def emit(self, event: RolloutEvent) -> None: ...
