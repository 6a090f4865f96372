"""faulty_app replicas as local processes, shaped like the two Deployments Flagger works with.

``LocalWorkloads`` implements ``harness.controllers.flagger.ports.Workloads`` for ``<target>`` (the canary)
and ``<target>-primary``. A reconcile thread plays kube-controller-manager and the kubelet: it creates and
deletes replica processes (rolling update with maxUnavailable 0: old pods go once new ones are ready),
restarts crashed ones with CrashLoopBackOff delays on the emulated clock, probes ``/readyz``, and keeps
generation, replica counts and the ``Progressing``/``Available`` conditions
(``harness.backends.local.deployment``). Ready replicas are the Services' endpoints; ``on_endpoints_changed``
hands them to the router.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from harness.backends.local.deployment import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_INITIAL_SECONDS,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
)
from harness.backends.local.pods import Deployment, Pod, PodTemplate
from harness.clock import Clock
from harness.controllers.flagger.ports import DeploymentState
from harness.errors import HarnessError, ProcessError
from harness.processes.ports import LOOPBACK, free_port, is_port_free
from harness.processes.procs import ManagedProcess, ProcessGroup

log = logging.getLogger(__name__)

Which = Literal["primary", "canary"]
AppCommand = Callable[[int], Sequence[str]]


def faulty_app_command(port: int) -> list[str]:
    """The real app: ``python -m faulty_app --host 127.0.0.1 --port PORT``."""
    return [sys.executable, "-m", "faulty_app", "--host", LOOPBACK, "--port", str(port)]


@dataclass(frozen=True)
class Endpoints:
    """Ready replica URLs behind ``<svc>-primary`` and ``<svc>-canary``."""

    primary: tuple[str, ...] = ()
    canary: tuple[str, ...] = ()


@dataclass(frozen=True)
class PodStatus:
    """One replica, for diagnostics and tests."""

    name: str
    template_hash: str
    url: str
    pid: int | None
    ready: bool
    restarts: int
    waiting: str | None  # "CrashLoopBackOff" while waiting to be restarted
    last_crash_at: float | None = None  # emulated seconds
    next_restart_at: float | None = None  # emulated seconds, while waiting


class LocalWorkloads:
    """The target and primary Deployments as processes; start with ``start()`` or ``with``."""

    def __init__(
        self,
        *,
        target: str,
        template: PodTemplate,
        group: ProcessGroup,
        clock: Clock,
        replicas: int = 1,
        app_command: AppCommand = faulty_app_command,
        admin_token: str | None = None,
        progress_deadline_seconds: float = DEFAULT_PROGRESS_DEADLINE_SECONDS,
        max_unavailable: int = 0,
        backoff_initial: float = BACKOFF_INITIAL_SECONDS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        poll_interval: float | None = None,
        on_endpoints_changed: Callable[[Endpoints], None] | None = None,
        probe_timeout: float = 1.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.target = target
        self.clock = clock
        self.admin_token = admin_token or secrets.token_urlsafe(16)
        self.on_endpoints_changed = on_endpoints_changed
        self._group = group
        self._app_command = app_command
        self._progress_deadline_seconds = progress_deadline_seconds
        self._max_unavailable = max_unavailable
        self._backoff = (backoff_initial, backoff_cap)
        self._poll_interval = poll_interval or min(0.5, max(0.05, 1.0 / clock.scale))
        self._probe_timeout = probe_timeout
        self._stop_timeout = stop_timeout
        self._user_replicas = replicas
        self._lock = threading.RLock()
        self._target = self._new_deployment(target, template, replicas)
        self._primary: Deployment | None = None
        self._published: Endpoints | None = None
        self._http = httpx.Client(timeout=probe_timeout, trust_env=False)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"supervisor-{target}", daemon=True)

    # ---- lifecycle

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the reconcile loop and every replica. Idempotent."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(10.0)
        with self._lock:
            procs = [p for d in self._deployments() for p in d.take_all_processes()]
        for proc in procs:
            self._group.stop(proc, self._stop_timeout)
        self._http.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- Workloads (harness.controllers.flagger.ports)

    def target_template_hash(self) -> str:
        with self._lock:
            return self._target.template.hash

    def ensure_primary(self) -> None:
        with self._lock:
            if self._primary is None:
                replicas = self._user_replicas if self._user_replicas > 0 else 1
                self._primary = self._new_deployment(
                    f"{self.target}-primary", self._target.template, replicas
                )
        self._wake.set()

    def primary_state(self) -> DeploymentState:
        with self._lock:
            if self._primary is None:
                raise ProcessError(f"deployment {self.target}-primary not found")
            return self._primary.state()

    def canary_state(self) -> DeploymentState:
        with self._lock:
            return self._target.state()

    def scale_canary(self, replicas: int) -> None:
        with self._lock:
            self._target.scale(replicas, self.clock.now())
        self._wake.set()

    def target_replicas(self) -> int:
        return self._user_replicas

    def promote(self) -> None:
        with self._lock:
            if self._primary is None:
                raise ProcessError(f"deployment {self.target}-primary not found")
            self._primary.set_template(self._target.template, self.clock.now())
        self._wake.set()

    # ---- backend API

    def set_target_template(
        self,
        version: str,
        faults: Sequence[Mapping[str, Any]] = (),
        env: Mapping[str, str] | None = None,
        *,
        replicas: int | None = None,
    ) -> str:
        """Apply a new revision of the target (a pod-template change); returns its template hash."""
        template = PodTemplate.of(version, faults, env)
        with self._lock:
            self._target.set_template(template, self.clock.now())
            if replicas is not None:
                self._user_replicas = replicas
                self._target.scale(replicas, self.clock.now())
        self._wake.set()
        return template.hash

    def set_canary_faults_runtime(self, faults: Sequence[Mapping[str, Any]]) -> None:
        """Replace the faults of every running canary replica via ``PUT /admin/faults`` (no new revision;
        a replica restarted later starts again from its template's faults)."""
        with self._lock:
            urls = [pod.url for pod in self._target.pods if pod.running]
        if not urls:
            raise ProcessError(f"no running replica of {self.target} to inject faults into")
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        for url in urls:
            try:
                response = self._http.put(f"{url}/admin/faults", json=list(faults), headers=headers)
            except httpx.HTTPError as exc:
                raise ProcessError(f"PUT {url}/admin/faults failed: {exc!r}") from exc
            if response.status_code != 200:
                raise ProcessError(f"PUT {url}/admin/faults: HTTP {response.status_code}: {response.text}")

    def endpoints(self, which: Which) -> tuple[str, ...]:
        """URLs of the ready replicas behind ``<svc>-<which>`` (the Service's endpoints)."""
        with self._lock:
            deployment = self._target if which == "canary" else self._primary
            return deployment.ready_urls() if deployment is not None else ()

    def pods(self, which: Which) -> tuple[PodStatus, ...]:
        with self._lock:
            deployment = self._target if which == "canary" else self._primary
            if deployment is None:
                return ()
            return tuple(
                PodStatus(
                    p.name,
                    p.template.hash,
                    p.url,
                    p.pid,
                    p.ready,
                    p.restarts,
                    p.waiting,
                    p.crashed_at,
                    p.restart_at,
                )
                for p in deployment.pods
            )

    def wait_for(self, predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
        """Poll ``predicate`` for up to ``timeout`` real seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)
        return True

    # ---- reconcile loop

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.reconcile()
            except HarnessError as exc:  # expected failures (router gone…): one line, no traceback spam
                log.warning("supervisor reconcile failed: %s: %s", type(exc).__name__, exc)
            except Exception:  # a broken tick must not end supervision
                log.exception("supervisor reconcile failed")
            self._wake.wait(self._poll_interval)
            self._wake.clear()

    def reconcile(self) -> None:
        """One pass: crashes and restarts, scaling, readiness probes, rolling update, status, endpoints."""
        now = self.clock.now()
        with self._lock:
            for deployment in self._deployments():
                deployment.reap_crashed(now, self._group)
                deployment.restart_due(now, self._spawn)
                deployment.scale_new_pods(self._make_pod)
            probes = [pod for d in self._deployments() for pod in d.pods if pod.running]
        results = [(pod, self._probe(pod)) for pod in probes]
        stopping: list[ManagedProcess] = []
        with self._lock:
            for pod, ready in results:
                pod.ready = ready and pod.running
            now = self.clock.now()
            for deployment in self._deployments():
                stopping += deployment.retire_pods()
                deployment.observe(now)
            primary = self._primary.ready_urls() if self._primary is not None else ()
            endpoints = Endpoints(primary=primary, canary=self._target.ready_urls())
        try:
            if endpoints != self._published and self.on_endpoints_changed is not None:
                self.on_endpoints_changed(endpoints)  # before stopping: the router stops sending first
            self._published = endpoints  # a failed publication is retried on the next pass
        finally:
            for proc in stopping:
                self._group.stop(proc, self._stop_timeout)

    def _probe(self, pod: Pod) -> bool:
        try:
            return self._http.get(f"{pod.url}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def _deployments(self) -> list[Deployment]:
        return [self._target] if self._primary is None else [self._target, self._primary]

    def _new_deployment(self, name: str, template: PodTemplate, replicas: int) -> Deployment:
        return Deployment(
            name,
            template,
            replicas,
            now=self.clock.now(),
            progress_deadline_seconds=self._progress_deadline_seconds,
            max_unavailable=self._max_unavailable,
            backoff_initial=self._backoff[0],
            backoff_cap=self._backoff[1],
        )

    def _make_pod(self, deployment: Deployment) -> Pod:
        port = _reuse_port(deployment.free_ports)
        pod = Pod(deployment.next_pod_name(), deployment.template, port, started_at=self.clock.now())
        self._spawn(pod)
        return pod

    def _spawn(self, pod: Pod) -> None:
        env = {
            "APP_VERSION": pod.template.version,
            "FAULTS": json.dumps(list(pod.template.faults)),
            "ADMIN_TOKEN": self.admin_token,
            "TIME_SCALE": repr(self.clock.scale),
            **dict(pod.template.env),
        }
        try:
            pod.process = self._group.start(pod.name, self._app_command(pod.port), env=env)
        except ProcessError as exc:
            log.warning("cannot start %s: %s", pod.name, exc)
            pod.process = None
            pod.start_failed = True
        pod.started_at = self.clock.now()


__all__ = ["AppCommand", "Endpoints", "LocalWorkloads", "PodStatus", "PodTemplate", "faulty_app_command"]


def _reuse_port(free_ports: list[int]) -> int:
    """A port this Deployment used before (so scrape targets stay stable), else a fresh one."""
    while free_ports:
        port = free_ports.pop(0)
        if is_port_free(port):
            return port
    return free_port()
