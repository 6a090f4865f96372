"""What both cluster backends (``backend``: Flagger, ``argo_backend``: Argo Rollouts) do the same way.

``RunNamespace`` is the run's namespace: labelled as ours when created, ownership-checked before every
write, deleted once by teardown (after the check) unless kept. ``ClusterRun`` is the backends' shared
base: the run clock at the options' scale, the context manager, the diagnostics snapshot and the status
read from the follower.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Self, TypeVar

from harness.backends.kubernetes.api import ClusterApi
from harness.backends.kubernetes.faults import FaultInjector
from harness.backends.kubernetes.follow import StatusFollower
from harness.backends.kubernetes.safety import ensure_owned
from harness.clock import Clock, ScaledClock
from harness.controllers.flagger.model import CanaryStatus
from harness.errors import ClusterError

T = TypeVar("T")


class RunNamespace:
    """This run's namespace; ``name`` is None until ``create``."""

    def __init__(self, api: ClusterApi, run_id: str, *, keep: bool) -> None:
        self.api, self.run_id, self.keep = api, run_id, keep
        self.name: str | None = None
        self.torn_down = False

    def create(self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]) -> None:
        self.name = name  # set before creating: teardown cleans up even if a later step raises
        self.api.create_namespace(name, labels, annotations)
        self.ensure_ours()

    def ensure_ours(self) -> str:
        """The namespace, after checking it still carries this run's ownership labels."""
        if self.name is None or self.torn_down:
            raise ClusterError("no live run namespace: call deploy() first")
        ensure_owned(self.api.get_namespace(self.name), self.name, self.run_id)
        return self.name

    def teardown(self) -> None:
        """Idempotent: delete the namespace (after the ownership check) unless ``keep``."""
        if self.torn_down or self.name is None:
            return
        self.torn_down = True
        if self.keep:
            return
        current = self.api.get_namespace(self.name)
        if current is None:
            return
        ensure_owned(current, self.name, self.run_id)
        self.api.delete_namespace(self.name)


def run_clock(clock: Clock | None, time_scale: float) -> Clock:
    """``clock``, or a ``ScaledClock`` at ``time_scale``; a clock at another scale is refused."""
    clock = clock or ScaledClock(time_scale)
    if clock.scale != time_scale:
        raise ClusterError(f"clock scale {clock.scale:g} differs from time_scale {time_scale:g}")
    return clock


def deployed(value: T | None) -> T:
    """``value``, set by ``deploy()``; before it a ``ClusterError``."""
    if value is None:
        raise ClusterError("nothing deployed yet: call deploy() first")
    return value


class ClusterRun(ABC):
    """The cluster backends' shared base; a subclass supplies the follower ``status()`` reads."""

    name = "kubernetes"

    def __init__(self, api: ClusterApi, run_id: str, *, keep: bool) -> None:
        self._run_namespace = RunNamespace(api, run_id, keep=keep)
        self._diagnostics: dict[str, str] = {}
        self._faults: FaultInjector | None = None

    @abstractmethod
    def _status_follower(self) -> StatusFollower: ...

    @property
    def run_id(self) -> str:
        return self._run_namespace.run_id

    @property
    def namespace(self) -> str | None:
        return self._run_namespace.name

    def status(self) -> CanaryStatus:
        follower = self._status_follower()
        if follower.last is None:
            follower.relist()
        return follower.last or CanaryStatus()

    def _collect(self, sources: Mapping[str, Callable[[], str]]) -> None:
        """Each source's text into ``diagnostics()``; one the cluster cannot give says why."""
        for key, source in sources.items():
            try:
                self._diagnostics[key] = source()
            except ClusterError as exc:
                self._diagnostics[key] = f"<unavailable: {exc}>"

    def diagnostics(self) -> Mapping[str, str]:
        found = dict(self._diagnostics)
        if self._faults is not None and self._faults.problems:
            found["fault-injection"] = "\n".join(self._faults.problems[-20:])
        return found

    def teardown(self) -> None:
        """Idempotent: delete this run's namespace (after the ownership check) unless ``keep``."""
        self._run_namespace.teardown()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.teardown()

    def _ensure_ours(self) -> str:
        return self._run_namespace.ensure_ours()
