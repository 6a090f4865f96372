"""Runs on N slots at once (``--parallel N``): a worker pool, interruption, and shared-output guards.

Signals reach only the main thread (``harness.local.procs.install_signal_handlers`` raises
``Interrupted`` there). The main thread waits for the workers in short steps, so the interrupt lands in
its wait; it then sets the batch's stop flag, drops the runs that have not started, and waits for the
running ones. Each run's backend is wrapped in ``CancellableBackend``: its next lifecycle call raises
``Interrupted`` inside that run's thread, so ``ScenarioRun`` records the interruption and runs its full
teardown (Locust stopped, namespace deleted) exactly as a serial run does on Ctrl-C.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from harness.backends.base import Backend, Observation, PreflightCheck
from harness.clock import Clock
from harness.controllers.flagger.model import CanaryStatus
from harness.controllers.registry import ControllerSpec
from harness.errors import Interrupted
from harness.model import Ingress, Revision
from harness.run.progress import ProgressSnapshot, ProgressView

Job = TypeVar("Job")

WAIT_STEP_SECONDS = 0.2


class StopFlag:
    """Set once when the batch is interrupted; remembers which signal did it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ""

    def set(self, signal_name: str) -> None:
        if not self._event.is_set():
            self.signal_name = signal_name
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class CancellableBackend:
    """A backend whose lifecycle calls raise ``Interrupted`` once ``stop`` is set.

    ``diagnostics`` and ``teardown`` always go through: cleanup must run after an interrupt.
    """

    def __init__(self, inner: Backend, stop: StopFlag) -> None:
        self.inner, self._stop = inner, stop
        self.name = inner.name

    @property
    def clock(self) -> Clock:
        return self.inner.clock

    def _check(self) -> None:
        if self._stop.is_set():
            raise Interrupted(self._stop.signal_name or "SIGINT")

    def preflight(self) -> Sequence[PreflightCheck]:
        self._check()
        return self.inner.preflight()

    def deploy(self, canary: ControllerSpec, stable: Revision) -> Ingress:
        self._check()
        return self.inner.deploy(canary, stable)

    def trigger(self, revision: Revision) -> float:
        self._check()
        return self.inner.trigger(revision)

    def set_canary_faults(self, faults: Sequence[Mapping[str, Any]]) -> None:
        self._check()
        self.inner.set_canary_faults(faults)

    def observe(self) -> Observation:
        self._check()
        return self.inner.observe()

    def status(self) -> CanaryStatus:
        self._check()
        return self.inner.status()

    def diagnostics(self) -> Mapping[str, str]:
        return self.inner.diagnostics()

    def teardown(self) -> None:
        self.inner.teardown()

    def __getattr__(self, name: str) -> Any:  # backend-specific properties (namespace, cluster_canary…)
        return getattr(self.inner, name)


class SharedProgress:
    """One progress view shared by concurrent runs: serialised, one line per change per scenario, and
    ``close`` left to the batch (a run ending must not close the view of the runs still going)."""

    def __init__(self, inner: ProgressView) -> None:
        self._inner, self._lock = inner, threading.Lock()
        self._last: dict[str, tuple[str, str, int, int]] = {}

    def update(self, snapshot: ProgressSnapshot) -> None:
        key = (snapshot.stage, snapshot.phase, snapshot.canary_weight, snapshot.failed_checks)
        with self._lock:
            if self._last.get(snapshot.scenario_id) == key:
                return
            self._last[snapshot.scenario_id] = key
            self._inner.update(snapshot)

    def message(self, text: str) -> None:
        with self._lock:
            self._inner.message(text)

    def close(self) -> None:
        pass


def run_pool(
    jobs: Sequence[Job],
    parallel: int,
    run_one: Callable[[Job], None],
    stop: StopFlag,
    *,
    wait_step: float = WAIT_STEP_SECONDS,
) -> Interrupted | None:
    """Run ``run_one`` on every job, ``parallel`` at a time, taken in order as workers free up.

    Returns the ``Interrupted`` that stopped the batch (the runs not started are dropped, the running
    ones are stopped through ``stop`` and waited for), or None. ``run_one`` must not raise.
    """
    interrupted: Interrupted | None = None
    with cf.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="canary-chaos-run") as pool:
        futures = [pool.submit(_guarded, run_one, job, stop) for job in jobs]
        pending = set(futures)
        while pending:
            try:
                _, pending = cf.wait(pending, timeout=wait_step)
            except Interrupted as exc:
                interrupted = interrupted or exc
                stop.set(exc.signal_name)
                for future in futures:
                    future.cancel()  # not started yet: never starts
        for future in futures:
            if not future.cancelled():
                future.result()  # re-raise a crash of run_one (a harness bug), after every run ended
    return interrupted


def _guarded(run_one: Callable[[Job], None], job: Job, stop: StopFlag) -> None:
    if not stop.is_set():
        run_one(job)
