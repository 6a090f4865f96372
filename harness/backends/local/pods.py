"""Pods and Deployments of the local backend: the bookkeeping ``LocalWorkloads`` reconciles.

Not thread-safe on their own: ``LocalWorkloads`` holds its lock around every call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends.local.deployment import (
    ConditionTracker,
    ReplicaCounts,
    backoff_expired,
    crashloop_delay,
)
from harness.controllers.flagger.ports import DeploymentState
from harness.processes.ports import LOOPBACK
from harness.processes.procs import ManagedProcess, ProcessGroup


@dataclass(frozen=True)
class PodTemplate:
    """What a revision changes: app version, fault list and extra environment."""

    version: str
    faults: tuple[Mapping[str, Any], ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls, version: str, faults: Sequence[Mapping[str, Any]] = (), env: Mapping[str, str] | None = None
    ) -> PodTemplate:
        return cls(version, tuple(faults), tuple(sorted((env or {}).items())))

    @property
    def hash(self) -> str:
        """Stable short hash of the canonical JSON form (the pod-template-hash)."""
        canonical = json.dumps(
            {"version": self.version, "faults": list(self.faults), "env": dict(self.env)},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:10]


@dataclass(eq=False)
class Pod:
    """One replica on a fixed loopback port; a restarted container keeps the port, like a pod its IP."""

    name: str
    template: PodTemplate
    port: int
    started_at: float  # emulated seconds
    process: ManagedProcess | None = None
    ready: bool = False
    restarts: int = 0
    crashes: int = 0  # consecutive, for the backoff
    restart_at: float | None = None  # emulated seconds; set while in CrashLoopBackOff
    crashed_at: float | None = None  # emulated seconds of the last crash seen
    start_failed: bool = False

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive

    @property
    def waiting(self) -> str | None:
        return "CrashLoopBackOff" if self.restart_at is not None else None


Spawn = Callable[[Pod], None]
MakePod = Callable[["Deployment"], Pod]


class Deployment:
    """Spec (template, replicas, generation), pods, and status of one Deployment."""

    def __init__(
        self,
        name: str,
        template: PodTemplate,
        replicas: int,
        *,
        now: float,
        progress_deadline_seconds: float,
        max_unavailable: int,
        backoff_initial: float,
        backoff_cap: float,
    ) -> None:
        self.name = name
        self.template = template
        self.replicas = replicas
        self.generation = 1
        self.observed_generation = 0
        self.pods: list[Pod] = []
        self.free_ports: list[int] = []  # ports of retired pods, reused first
        self.max_unavailable = max_unavailable
        self.tracker = ConditionTracker(
            progress_deadline_seconds=progress_deadline_seconds, max_unavailable=max_unavailable
        )
        self.tracker.new_template(now)
        self._backoff = (backoff_initial, backoff_cap)
        self._counts = ReplicaCounts(spec=replicas, total=0, updated=0, available=0, updated_available=0)
        self._seq = 0

    # ---- spec changes

    def set_template(self, template: PodTemplate, now: float) -> None:
        if template.hash != self.template.hash:
            self.template = template
            self.generation += 1
            self.tracker.new_template(now)

    def scale(self, replicas: int, now: float) -> None:
        if replicas < 0:
            raise ValueError(f"replicas must be ≥ 0, got {replicas}")
        if replicas != self.replicas:
            self.replicas = replicas
            self.generation += 1

    def next_pod_name(self) -> str:
        self._seq += 1
        return f"{self.name}-{self.template.hash}-{self._seq}"

    # ---- reconcile steps

    def reap_crashed(self, now: float, group: ProcessGroup) -> None:
        """Exited containers go into CrashLoopBackOff: restart after 10 s, 20 s, 40 s … (emulated)."""
        initial, cap = self._backoff
        for pod in self.pods:
            exited = pod.process is not None and not pod.process.alive
            if not (exited or pod.start_failed):
                continue
            if pod.process is not None:
                group.stop(pod.process, 0.0)
            ran_for = now - pod.started_at
            pod.crashes = 1 if backoff_expired(ran_for, cap=cap) else pod.crashes + 1
            pod.crashed_at = now
            pod.restart_at = now + crashloop_delay(pod.crashes, initial=initial, cap=cap)
            pod.process, pod.ready, pod.start_failed = None, False, False

    def restart_due(self, now: float, spawn: Spawn) -> None:
        for pod in self.pods:
            if pod.process is None and pod.restart_at is not None and pod.restart_at <= now:
                pod.restart_at = None
                pod.restarts += 1
                spawn(pod)

    def scale_new_pods(self, make_pod: MakePod) -> None:
        """Create current-template pods up to spec.replicas (all at once: maxSurge 100%)."""
        missing = self.replicas - len(self._current())
        for _ in range(max(0, missing)):
            self.pods.append(make_pod(self))

    def retire_pods(self) -> list[ManagedProcess]:
        """Remove surplus current pods, every not-ready old pod, and ready old pods the new ones replace
        (availability never drops below replicas − maxUnavailable). Returns processes to stop."""
        current = self._current()
        old = [p for p in self.pods if p.template.hash != self.template.hash]
        surplus = len(current) - self.replicas
        doomed = sorted(current, key=lambda p: (p.ready, -self.pods.index(p)))[: max(0, surplus)]
        doomed += [p for p in old if not p.ready]
        ready_new = sum(1 for p in current if p.ready and p not in doomed)
        keep = max(0, self.replicas - self.max_unavailable - ready_new)
        doomed += [p for p in old if p.ready][keep:]
        stopping: list[ManagedProcess] = []
        for pod in doomed:
            self.pods.remove(pod)
            self.free_ports.append(pod.port)  # a later pod reuses it, like a stable scrape target
            pod.ready = False
            if pod.process is not None:
                stopping.append(pod.process)
                pod.process = None
        return stopping

    def observe(self, now: float) -> None:
        current = self._current()
        self._counts = ReplicaCounts(
            spec=self.replicas,
            total=len(self.pods),
            updated=len(current),
            available=sum(1 for p in self.pods if p.ready),
            updated_available=sum(1 for p in current if p.ready),
        )
        self.observed_generation = self.generation
        self.tracker.observe(self._counts, now)

    # ---- views

    def state(self) -> DeploymentState:
        counts = self._counts
        return DeploymentState(
            name=self.name,
            generation=self.generation,
            observed_generation=self.observed_generation,
            replicas=self.replicas,
            updated_replicas=counts.updated,
            available_replicas=counts.available,
            status_replicas=counts.total,
            conditions=self.tracker.conditions,
            template_hash=self.template.hash,
        )

    def ready_urls(self) -> tuple[str, ...]:
        return tuple(p.url for p in self.pods if p.ready)

    def take_all_processes(self) -> list[ManagedProcess]:
        """Forget every pod (teardown) and return their processes."""
        procs = [p.process for p in self.pods if p.process is not None]
        self.pods.clear()
        return procs

    def _current(self) -> list[Pod]:
        return [p for p in self.pods if p.template.hash == self.template.hash]
