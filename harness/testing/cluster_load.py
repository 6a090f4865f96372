"""``ClusterLoad``: the scripted load driver of ``EmulatedCluster`` (no processes, no sockets).

Per run-clock second and version, one bucket: the scenario's requests/s split by the namespace's current
TraefikService weights, the canary's share failing at its fault rate (``fault_error_rate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.clock import FakeClock
from harness.model import Ingress, LoadBucket
from harness.scenario.model import Scenario
from harness.testing.emulated_cluster import EmulatedCluster


@dataclass
class ClusterLoad:
    """A scripted load driver for ``EmulatedCluster``: one bucket per run-clock second per version."""

    cluster: EmulatedCluster
    scenario: Scenario
    namespace: str
    _next: float | None = None
    _clock: FakeClock | None = None  # the run clock of the run that started it
    stopped: bool = False

    @classmethod
    def for_ingress(cls, cluster: EmulatedCluster, scenario: Scenario, ingress: Ingress) -> ClusterLoad:
        return cls(cluster, scenario, (ingress.host_header or "").split(".")[0])

    def start(self) -> None:
        self._clock = self.cluster.run_clock()
        self._next = float(int(self._clock.now()))

    def collect(self) -> Sequence[LoadBucket]:
        if self._next is None or self._clock is None:
            raise RuntimeError("collect() before start()")
        out: list[LoadBucket] = []
        weight, error_rate = self.cluster.traffic(self.namespace)
        while self._next + 1 <= self._clock.now():
            rps = self.scenario.load.rps_at(self._next)
            canary = round(rps * weight / 100)
            bad = round(canary * error_rate)
            out += _buckets(self._next, self.scenario.stable.version, round(rps) - canary, 0)
            out += _buckets(self._next, self.scenario.revision.version, canary, bad)
            self._next += 1
        return out

    def problem(self) -> str | None:
        return None

    def stop(self) -> None:
        self.stopped = True


def _buckets(start: float, version: str, requests: int, bad: int) -> list[LoadBucket]:
    def bucket(status: int, count: int, hurt: int) -> LoadBucket:
        users = tuple(f"u{i:04d}" for i in range(hurt))
        return LoadBucket(start, 1.0, version, status, count, hurt, 5.0, 9.0, 12.0, 20.0, users)

    out = [bucket(200, requests - bad, 0)] if requests - bad > 0 else []
    return out + ([bucket(500, bad, bad)] if bad else [])
