"""``ClusterLoad``: the scripted load driver of ``EmulatedCluster`` (no processes, no sockets).

Per run-clock second and version, one bucket: the scenario's requests/s split by the namespace's current
TraefikService weights, the canary's share failing at its fault rate (``fault_error_rate``).

On Linkerd (a namespace whose Canary is ``gatewayapi:*``) the split is the client proxy's: each second, the
requests of each cohort's users (``load.cohorts``, assigned per user as the Locust child does:
``cohort_for_user``; users keep their cohort) on each route go through the current HTTPRoute with that
cohort's headers and cookie (``emulated_mesh.split``) — but only while the load path holds (meshed ingress,
IngressRoute to the apex Service with nativeLB). Otherwise every request reaches the primary, as on a real
cluster. Buckets then carry ``workload``, ``cohort`` and ``route``, as the real load generator writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.clock import FakeClock
from harness.model import Ingress, LoadBucket
from harness.providers.linkerd.httproute import HTTPRoute
from harness.scenario.cohorts import OUTSIDE, cohort_for_user, request_headers, user_id
from harness.scenario.model import Cohort, Scenario
from harness.testing.emulated_cluster import EmulatedCluster
from harness.testing.emulated_mesh import split


@dataclass
class ClusterLoad:
    """A scripted load driver for ``EmulatedCluster``: one bucket per run-clock second per version."""

    cluster: EmulatedCluster
    scenario: Scenario
    namespace: str
    _next: float | None = None
    _clock: FakeClock | None = None  # the run clock of the run that started it
    stopped: bool = False
    _groups: list[tuple[Cohort | None, tuple[str, ...]]] = field(default_factory=list)  # cohort → its users

    @classmethod
    def for_ingress(cls, cluster: EmulatedCluster, scenario: Scenario, ingress: Ingress) -> ClusterLoad:
        return cls(cluster, scenario, (ingress.host_header or "").split(".")[0])

    def start(self) -> None:
        self._clock = self.cluster.run_clock()
        self._next = float(int(self._clock.now()))
        load = self.scenario.load
        members: dict[str, list[str]] = {}
        cohorts: dict[str, Cohort | None] = {}
        for number in range(load.users):
            cohort = cohort_for_user(number, load.cohorts, seed=load.seed)
            name = cohort.name if cohort else OUTSIDE
            cohorts[name] = cohort
            members.setdefault(name, []).append(user_id(number))
        self._groups = [(cohorts[name], tuple(users)) for name, users in members.items()]

    def collect(self) -> Sequence[LoadBucket]:
        if self._next is None or self._clock is None:
            raise RuntimeError("collect() before start()")
        out: list[LoadBucket] = []
        weight, error_rate = self.cluster.traffic(self.namespace)
        mesh = self.cluster.mesh_traffic(self.namespace)
        while mesh is not None and self._next + 1 <= self._clock.now():
            holds, route, error_rate = mesh
            out += self._mesh_second(self._next, route if holds else None, holds, error_rate)
            self._next += 1
        while self._next + 1 <= self._clock.now():
            rps = self.scenario.load.rps_at(self._next)
            canary = round(rps * weight / 100)
            bad = round(canary * error_rate)
            out += _buckets(self._next, self.scenario.stable.version, round(rps) - canary, 0)
            out += _buckets(self._next, self.scenario.revision.version, canary, bad)
            self._next += 1
        return out

    def _mesh_second(
        self, start: float, route: HTTPRoute | None, holds: bool, error_rate: float
    ) -> list[LoadBucket]:
        """One second through the client proxy's HTTPRoute (``holds``), else everything to the primary."""
        load, out = self.scenario.load, []
        rps = load.rps_at(start)
        total_weight = sum(r.weight for r in load.routes) or 1
        declared = bool(load.cohorts)
        for cohort, users in self._groups:
            headers = request_headers(cohort)
            for r in load.routes:
                requests = round(rps * len(users) / max(1, load.users) * r.weight / total_weight)
                if holds:
                    primary, canary, unrouted = split(route, headers, r.path, requests)
                else:
                    primary, canary, unrouted = requests, 0, 0
                bad = round(canary * error_rate)
                tags = (cohort.name if cohort else OUTSIDE) if declared else "", f"{r.method} {r.path}", users
                out += _buckets(start, self.scenario.stable.version, primary, 0, "primary", *tags)
                out += _buckets(start, self.scenario.revision.version, canary, bad, "canary", *tags)
                out += _buckets(
                    start, self.scenario.stable.version, unrouted, unrouted, "", *tags, status=404
                )
        return out

    def problem(self) -> str | None:
        return None

    def stop(self) -> None:
        self.stopped = True


def _buckets(
    start: float,
    version: str,
    requests: int,
    bad: int,
    workload: str = "",
    cohort: str = "",
    route: str = "",
    users: Sequence[str] = (),
    *,
    status: int = 500,
) -> list[LoadBucket]:
    """Buckets of one second: the good answers (200) and the bad (``status``), each hurting a distinct user
    of ``users`` per bad request (``u0000``… without users)."""

    def bucket(code: int, count: int, hurt: int) -> LoadBucket:
        hurt_users = tuple(users[:hurt]) if users else tuple(f"u{i:04d}" for i in range(hurt))
        first = users[0] if users else ""
        return LoadBucket(start, 1.0, version, code, count, hurt, 5.0, 9.0, 12.0, 20.0, hurt_users,
                          workload, cohort, route, first)  # fmt: skip

    out = [bucket(200, requests - bad, 0)] if requests - bad > 0 else []
    return out + ([bucket(status, bad, bad)] if bad else [])
