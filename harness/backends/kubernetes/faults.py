"""Run-time faults on a cluster: PUT the fault list on every serving canary pod, from inside the pod.

The API server's service proxy strips ``Authorization``, so the harness execs a tiny script in the app
container that reads the pod's own ``ADMIN_TOKEN``; the token never leaves the cluster. Only Running,
Ready, non-terminating pods are targets (``ClusterApi.list_pods``). No target, or a pod that refuses, is
recorded and retried on later observations (bounded); a pod that appears later (a replacement) gets the
current list too. Faults whose effect restarts the container (``crash``, ``memory_leak``) are refused at
run time: the restarted process starts from the pod template's ``FAULTS`` env and would silently heal, so
they belong in the revision (``revision.faults``), which the backend writes into the template.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from harness.backends.kubernetes.api import ClusterApi
from harness.backends.kubernetes.manifests import APP_CONTAINER
from harness.clock import Clock
from harness.errors import ClusterError, InputError

RESTART_FAULT_KINDS = frozenset({"crash", "memory_leak"})
RETRY_EVERY_SECONDS = 5.0
# Runs inside the app container: PUT argv[1] to the local admin API with the pod's own ADMIN_TOKEN.
PUT_FAULTS = (
    "import os,sys,urllib.request as u,urllib.error as e\n"
    "r=u.Request('http://127.0.0.1:8080/admin/faults',data=sys.argv[1].encode(),method='PUT',"
    "headers={'Authorization':'Bearer '+os.environ['ADMIN_TOKEN'],'Content-Type':'application/json'})\n"
    "try:\n print(u.urlopen(r,timeout=10).status)\n"
    "except e.HTTPError as x:\n print(x.code, x.read()[:300])\n"
)


class FaultInjector:
    """Keeps the canary pods' run-time faults at the last list set, within ``max_failures`` retries."""

    def __init__(
        self, api: ClusterApi, namespace: str, selector: str, clock: Clock, *, max_failures: int = 12
    ) -> None:
        self._api, self._namespace, self._selector, self._clock = api, namespace, selector, clock
        self._max_failures = max_failures
        self._faults: tuple[Mapping[str, Any], ...] | None = None
        self._done: set[str] = set()
        self._failures = 0
        self._last_try = float("-inf")
        self.problems: list[str] = []

    @property
    def injected(self) -> frozenset[str]:
        """Pods that accepted the current list."""
        return frozenset(self._done)

    def set(self, faults: Sequence[Mapping[str, Any]]) -> None:
        restarting = sorted({str(f.get("kind")) for f in faults} & RESTART_FAULT_KINDS)
        if restarting:
            raise InputError(
                f"fault.spec: run-time faults {restarting} restart the container, which then starts from "
                "the pod template's FAULTS without them; put them in revision.faults instead"
            )
        self._faults, self._done, self._failures = tuple(faults), set(), 0
        self._push()

    def retry(self) -> None:
        """On each observation: give the list to pods that lack it (throttled, bounded)."""
        if self._faults is None or self._failures >= self._max_failures:
            return
        if self._clock.now() - self._last_try >= RETRY_EVERY_SECONDS:
            self._push()

    def _push(self) -> None:
        assert self._faults is not None
        self._last_try = now = self._clock.now()
        try:
            pods = self._api.list_pods(self._namespace, self._selector)
        except ClusterError as exc:
            self._fail(f"t={now:.0f}s: cannot list canary pods: {exc}")
            return
        if not pods:
            self._fail(f"t={now:.0f}s: no Ready canary pods ({self._selector}) in {self._namespace}")
            return
        command = ["python", "-c", PUT_FAULTS, json.dumps(list(self._faults))]
        for pod in pods:
            if pod in self._done:
                continue
            try:
                answer = self._api.exec_in_pod(self._namespace, pod, command, container=APP_CONTAINER).strip()
            except ClusterError as exc:
                self._fail(f"t={now:.0f}s: PUT /admin/faults in {pod}: {exc}")
                continue
            if answer == "200":
                self._done.add(pod)
            else:
                self._fail(f"t={now:.0f}s: PUT /admin/faults in {pod} answered {answer[:300]!r}")

    def _fail(self, problem: str) -> None:
        self._failures += 1
        self.problems.append(problem)
        if self._failures == self._max_failures:
            self.problems.append(f"gave up after {self._failures} failed attempts")
