"""LocalWorkloads: replicas as processes with Deployment-like status (spec §2.7)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from harness.backends.local.supervisor import Endpoints, LocalWorkloads, PodTemplate
from harness.clock import ScaledClock
from harness.controllers.flagger.ports import DeploymentState
from harness.errors import ProcessError
from harness.processes.ports import wait_port_free
from harness.processes.procs import ProcessGroup, pid_alive

SCALE = 20.0  # 10 s emulated = 0.5 s real
MakeWorkloads = Callable[..., LocalWorkloads]
Poll = Callable[..., bool]


def condition(state: DeploymentState, kind: str) -> tuple[str, str, float]:
    found = next(c for c in state.conditions if c.type == kind)
    return found.status, found.reason, found.last_update_time


class Recorder:
    """Collects every endpoints publication (thread-safe)."""

    def __init__(self) -> None:
        self.seen: list[Endpoints] = []
        self._lock = threading.Lock()

    def __call__(self, endpoints: Endpoints) -> None:
        with self._lock:
            self.seen.append(endpoints)


@pytest.fixture
def make_workloads(
    group: ProcessGroup, app_command: Callable[[int], list[str]]
) -> Iterator[Callable[..., LocalWorkloads]]:
    """Build and start LocalWorkloads on a ScaledClock(20) with the stand-in app; stopped after the test."""
    made: list[LocalWorkloads] = []

    def make(template: PodTemplate | None = None, **options: object) -> LocalWorkloads:
        workloads = LocalWorkloads(
            target="podinfo",
            template=template or PodTemplate.of("v1"),
            group=group,
            clock=ScaledClock(SCALE),
            app_command=app_command,
            **options,  # type: ignore[arg-type]
        )
        made.append(workloads.start())
        return workloads

    try:
        yield make
    finally:
        for workloads in made:
            workloads.stop()


class TestReadiness:
    def test_replica_becomes_ready_from_readyz(self, make_workloads: MakeWorkloads, poll: Poll) -> None:
        """A replica is an endpoint only after /readyz answers 200; then the Deployment is complete."""
        recorder = Recorder()
        workloads = make_workloads(
            PodTemplate.of("v1", env={"STANDIN_READY_AFTER": "1.0"}), on_endpoints_changed=recorder
        )
        assert poll(lambda: workloads.pods("canary") and workloads.pods("canary")[0].pid, 5.0)
        time.sleep(0.5)
        state = workloads.canary_state()
        assert state.available_replicas == 0
        assert state.updated_replicas == 1
        assert workloads.endpoints("canary") == ()
        assert poll(lambda: workloads.canary_state().available_replicas == 1, 5.0)
        state = workloads.canary_state()
        assert condition(state, "Progressing")[:2] == ("True", "NewReplicaSetAvailable")
        assert condition(state, "Available")[:2] == ("True", "MinimumReplicasAvailable")
        assert state.observed_generation == state.generation == 1
        url = workloads.pods("canary")[0].url
        assert workloads.endpoints("canary") == (url,)
        assert poll(lambda: recorder.seen and recorder.seen[-1] == Endpoints((), (url,)), 2.0)
        assert httpx.get(f"{url}/version").headers["X-App-Version"] == "v1"

    def test_failed_endpoint_publication_is_retried(self, make_workloads: MakeWorkloads, poll: Poll) -> None:
        """When the endpoints callback raises (router briefly down), the next pass publishes again."""
        calls: list[Endpoints] = []

        def flaky(endpoints: Endpoints) -> None:
            calls.append(endpoints)
            if len(calls) <= 2:
                raise ProcessError("router unreachable")

        workloads = make_workloads(on_endpoints_changed=flaky)
        assert poll(lambda: len(calls) >= 3 and calls[-1].canary == workloads.endpoints("canary") != (), 5.0)

    def test_primary_needs_ensure_primary(self, make_workloads: MakeWorkloads) -> None:
        """primary_state raises until ensure_primary creates <target>-primary from the target template."""
        workloads = make_workloads()
        with pytest.raises(ProcessError, match="podinfo-primary not found"):
            workloads.primary_state()
        workloads.ensure_primary()
        assert workloads.primary_state().template_hash == workloads.target_template_hash()


class TestCrashLoop:
    def test_backoff_doubles_in_emulated_seconds(self, make_workloads: MakeWorkloads) -> None:
        """A replica that crashes at startup is scheduled for restart exactly 10 s, then 20 s, then 40 s
        (emulated) after each crash, and is not restarted before that."""
        workloads = make_workloads(PodTemplate.of("v1", env={"STANDIN_MODE": "crash"}))
        clock = workloads.clock
        scheduled: dict[int, tuple[float, float]] = {}  # restarts so far → (crash seen, restart due)
        restarted: dict[int, float] = {}  # restart number → when it was first seen
        deadline = time.monotonic() + 20.0
        while len(restarted) < 3 and time.monotonic() < deadline:
            pods = workloads.pods("canary")
            if pods:
                pod = pods[0]
                if pod.waiting and pod.last_crash_at is not None and pod.next_restart_at is not None:
                    scheduled.setdefault(pod.restarts, (pod.last_crash_at, pod.next_restart_at))
                if pod.restarts:
                    restarted.setdefault(pod.restarts, clock.now())
            time.sleep(0.005)
        delays = [due - crash for crash, due in (scheduled[n] for n in range(3))]
        assert delays == pytest.approx([10, 20, 40])
        for n in range(3):  # never early; late by less than one more backoff (a loaded machine polls late)
            assert scheduled[n][1] <= restarted[n + 1] <= scheduled[n][1] + delays[n], (scheduled, restarted)
        state = workloads.canary_state()
        assert state.available_replicas == 0
        assert condition(state, "Available")[:2] == ("False", "MinimumReplicasUnavailable")


class TestProgressDeadline:
    def test_never_ready_canary_exceeds_its_progress_deadline(
        self, make_workloads: MakeWorkloads, poll: Poll
    ) -> None:
        """A never-ready replica: Available=False/MinimumReplicasUnavailable at once, and
        Progressing=False/ProgressDeadlineExceeded once progressDeadlineSeconds (30 s) pass."""
        workloads = make_workloads(
            PodTemplate.of("v1", env={"STANDIN_MODE": "never_ready"}), progress_deadline_seconds=30
        )
        assert poll(lambda: workloads.canary_state().updated_replicas == 1, 5.0)
        progressed_at = condition(workloads.canary_state(), "Progressing")[2]
        assert poll(
            lambda: condition(workloads.canary_state(), "Progressing")[1] == "ProgressDeadlineExceeded", 4.0
        )
        state = workloads.canary_state()
        status, _, exceeded_at = condition(state, "Progressing")
        assert status == "False"
        assert 30 <= exceeded_at - progressed_at <= 33
        available = condition(state, "Available")
        assert available[:2] == ("False", "MinimumReplicasUnavailable")
        assert progressed_at <= available[2] <= progressed_at + 3


class TestScaling:
    def test_scale_to_zero_stops_processes_and_frees_ports(
        self, make_workloads: MakeWorkloads, poll: Poll
    ) -> None:
        """scale_canary(0) stops every replica process, frees its port and empties the endpoints."""
        recorder = Recorder()
        workloads = make_workloads(replicas=2, on_endpoints_changed=recorder)
        assert poll(lambda: workloads.canary_state().available_replicas == 2, 6.0)
        pods = workloads.pods("canary")
        workloads.scale_canary(0)
        assert poll(lambda: workloads.canary_state().status_replicas == 0, 5.0)
        for pod in pods:
            assert pod.pid is not None
            assert poll(lambda pid=pod.pid: not pid_alive(pid), 5.0)
            assert wait_port_free(int(pod.url.rsplit(":", 1)[1]), 5.0)
        assert workloads.endpoints("canary") == ()
        assert recorder.seen[-1] == Endpoints((), ())
        state = workloads.canary_state()
        assert (state.replicas, state.generation, state.observed_generation) == (0, 2, 2)
        assert workloads.target_replicas() == 2

    def test_new_revision_waits_for_scale_up(self, make_workloads: MakeWorkloads, poll: Poll) -> None:
        """A template change at 0 replicas bumps generation and hash; pods start only on scale-up."""
        workloads = make_workloads()
        workloads.scale_canary(0)
        old_hash = workloads.target_template_hash()
        new_hash = workloads.set_target_template("v2", faults=[{"kind": "error"}])
        assert new_hash != old_hash
        assert workloads.target_template_hash() == new_hash
        time.sleep(0.2)
        assert workloads.pods("canary") == ()
        workloads.scale_canary(workloads.target_replicas())
        assert poll(lambda: workloads.canary_state().available_replicas == 1, 5.0)
        assert workloads.pods("canary")[0].template_hash == new_hash


class TestPromotion:
    def test_promote_is_a_rolling_update_without_unavailability(
        self, make_workloads: MakeWorkloads, poll: Poll
    ) -> None:
        """promote() starts the new template beside the old one and retires the old replica only when the
        new one is ready, so the primary always has an endpoint."""
        recorder = Recorder()
        workloads = make_workloads(on_endpoints_changed=recorder)
        workloads.ensure_primary()
        assert poll(lambda: workloads.primary_state().available_replicas == 1, 5.0)
        old = workloads.pods("primary")[0]
        workloads.set_target_template("v2", env={"STANDIN_READY_AFTER": "1.0"})
        workloads.promote()
        assert poll(lambda: workloads.primary_state().status_replicas == 2, 3.0)
        mid = workloads.primary_state()
        assert (mid.updated_replicas, mid.available_replicas) == (1, 1)
        assert mid.generation == 2
        assert workloads.endpoints("primary") == (old.url,)
        assert poll(lambda: workloads.primary_state().status_replicas == 1, 5.0)
        done = workloads.primary_state()
        assert (done.updated_replicas, done.available_replicas) == (1, 1)
        assert condition(done, "Progressing")[:2] == ("True", "NewReplicaSetAvailable")
        new = workloads.pods("primary")[0]
        assert new.template_hash == workloads.target_template_hash() != old.template_hash
        assert httpx.get(f"{new.url}/version").headers["X-App-Version"] == "v2"
        first_up = next(i for i, e in enumerate(recorder.seen) if e.primary)
        assert all(e.primary for e in recorder.seen[first_up:])  # never without a primary endpoint once up
        assert poll(lambda: not pid_alive(old.pid or 0), 5.0)


class TestRuntimeFaults:
    def test_faults_reach_running_canary_replicas(self, make_workloads: MakeWorkloads, poll: Poll) -> None:
        """set_canary_faults_runtime PUTs the list to /admin/faults with the Bearer token."""
        workloads = make_workloads()
        assert poll(lambda: workloads.canary_state().available_replicas == 1, 5.0)
        faults = [{"kind": "error", "rate": 0.5}]
        workloads.set_canary_faults_runtime(faults)
        url = workloads.pods("canary")[0].url
        seen = httpx.get(f"{url}/admin/faults", headers={"Authorization": f"Bearer {workloads.admin_token}"})
        assert seen.json() == {"faults": faults}

    def test_no_running_canary_is_a_process_error(self, make_workloads: MakeWorkloads) -> None:
        """Injecting faults into a canary scaled to zero fails loudly."""
        workloads = make_workloads(replicas=0)
        with pytest.raises(ProcessError, match="no running replica"):
            workloads.set_canary_faults_runtime([])


class TestPodTemplate:
    def test_hash_is_stable_and_sensitive(self) -> None:
        """Same content → same hash regardless of env order; any change in faults or env → new hash."""
        a = PodTemplate.of("v1", [{"kind": "error", "rate": 0.1}], {"A": "1", "B": "2"})
        b = PodTemplate.of("v1", [{"rate": 0.1, "kind": "error"}], {"B": "2", "A": "1"})
        assert a.hash == b.hash
        assert len(a.hash) == 10
        assert PodTemplate.of("v1", [{"kind": "error", "rate": 0.2}]).hash != a.hash
        assert PodTemplate.of("v2").hash != PodTemplate.of("v1").hash
