"""Locust in child processes against a counting server on 127.0.0.1: both sides count every request."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.load import LocustLoad
from harness.load_model import (
    CohortSpec,
    RateStage,
    RouteSpec,
    cohort_for,
    requests_by_status,
    totals_by_version,
    user_id,
    users_hurt_by,
)
from harness.local.procs import pid_alive
from harness.model import LoadBucket

from .conftest import CountingServer, MakeLoad, load_config, wait_until

pytestmark = pytest.mark.e2e


def _run_to_end(load: LocustLoad, timeout: float = 30.0) -> list[LoadBucket]:
    """Start, collect while running, and collect the rest once every process has exited."""
    load.start()
    buckets: list[LoadBucket] = []
    deadline = time.monotonic() + timeout
    while load.health().processes and any(p.alive for p in load.health().processes):
        assert time.monotonic() < deadline, "Locust did not end within its run time"
        buckets.extend(load.collect())
        time.sleep(0.2)
    buckets.extend(load.collect())
    return buckets


def _session_members(pids: list[int]) -> list[int]:
    """Processes still alive in the sessions (process groups) the children were started in."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) in pids and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _assert_matches_server(buckets: list[LoadBucket], server: CountingServer) -> None:
    counts = requests_by_status(buckets)
    expected = dict(server.counts.by_version_status)
    expected[("none", 0)] = server.counts.slow  # every /slow request timed out on the client
    assert counts == expected
    totals = totals_by_version(buckets)
    assert totals["1.1.0"].bad == server.counts.bad_by_version["1.1.0"]
    assert totals["1.0.0"].bad == 0
    assert totals["none"].bad == server.counts.slow + server.counts.bad_by_version["none"]
    assert users_hurt_by(buckets, "1.1.0") == server.counts.hurt_by_version["1.1.0"]


class TestSingleProcess:
    def test_counts_bad_answers_hurt_users_and_pacing(self, server: CountingServer, make_load: MakeLoad):
        """One Locust process records exactly what the server sent, by version and status, at ~40 rps."""
        load = make_load(load_config(server.url))
        buckets = _run_to_end(load)
        _assert_matches_server(buckets, server)
        assert server.counts.bad_by_version["1.1.0"] > 0
        assert server.counts.slow > 0
        assert load.health().problem is None
        per_bucket = Counter[float]()
        for bucket in buckets:
            per_bucket[bucket.start] += bucket.requests
        middle = sorted(per_bucket)[1:-1]  # whole buckets after ramp-up and before the end
        rate = sum(per_bucket[start] for start in middle) / (len(middle) * 0.5)
        assert 30.0 <= rate <= 50.0, rate

    def test_latencies_and_timeouts(self, server: CountingServer, make_load: MakeLoad):
        """Timeouts are status 0 with latency near the request timeout; percentiles are ordered."""
        buckets = _run_to_end(make_load(load_config(server.url, run_time_seconds=3.0)))
        timeouts = [b for b in buckets if b.status == 0]
        assert timeouts
        assert all(b.version == "none" and b.bad == b.requests for b in timeouts)
        assert all(450 <= b.latency_max_ms < 1000 for b in timeouts)
        for b in buckets:
            assert b.latency_p50_ms <= b.latency_p95_ms <= b.latency_p99_ms <= b.latency_max_ms
            assert b.duration == pytest.approx(0.5)


class TestShapeAndCohorts:
    def test_shape_rates_cohorts_and_host_header(self, server: CountingServer, make_load: MakeLoad):
        """A 10→50 rps shape changes the rate; cohort users send header and cookie; Host is set."""
        cohort = CohortSpec("beta", 0.25, (("x-cohort", "beta"),), (("cohort", "beta"),))
        config = load_config(
            server.url,
            rps=None,
            shape=(RateStage(2.0, 10.0), RateStage(2.0, 50.0)),
            routes=(RouteSpec("/api/orders", "POST"),),
            cohorts=(cohort,),
            host_header="app.example",
        )
        buckets = _run_to_end(make_load(config))
        per_bucket = Counter[float]()
        for bucket in buckets:
            per_bucket[bucket.start] += bucket.requests
        starts = sorted(per_bucket)
        slow_phase = sum(per_bucket[s] for s in starts[1:3]) / 1.0  # whole buckets in 0.5–1.5 s
        fast_phase = sum(per_bucket[s] for s in starts[5:7]) / 1.0  # whole buckets in 2.5–3.5 s
        assert 5.0 <= slow_phase <= 15.0, slow_phase
        assert 35.0 <= fast_phase <= 65.0, fast_phase
        expected = {user_id(n) for n in range(8) if cohort_for(n, [cohort]) is cohort}
        assert server.counts.cohort_users == server.counts.cookie_users == expected
        assert server.counts.all_users == {user_id(n) for n in range(8)}
        assert server.counts.hosts == {"app.example"}


class TestDistributed:
    def test_two_workers_merge_to_the_server_totals(self, server: CountingServer, make_load: MakeLoad):
        """A master and two workers write separate files that merge to exactly what the server sent."""
        load = make_load(load_config(server.url, workers=2))
        buckets = _run_to_end(load)
        assert len(list(load.output_dir.glob("worker-*.jsonl"))) == 2
        _assert_matches_server(buckets, server)
        assert len({(b.start, b.version, b.status) for b in buckets}) == len(buckets)

    def test_killed_worker_is_reported_and_stop_leaves_nothing(
        self, server: CountingServer, make_load: MakeLoad
    ):
        """SIGKILL of a worker shows in health() with its exit code; stop() ends every process."""
        load = make_load(load_config(server.url, workers=2, run_time_seconds=30.0))
        load.start()
        assert wait_until(lambda: len(list(load.output_dir.glob("worker-*.jsonl"))) == 2, 15.0)
        victim = next(p for p in load.health().processes if p.name == "locust-worker-1")
        os.kill(victim.pid, signal.SIGKILL)
        assert wait_until(lambda: load.health().problem is not None, 5.0)
        problem = load.health().problem or ""
        assert "locust-worker-1" in problem
        assert "code -9" in problem
        pids = [p.pid for p in load.health().processes]
        started = time.monotonic()
        load.stop()
        load.stop()
        assert time.monotonic() - started < 10.0
        assert not any(pid_alive(pid) for pid in pids)
        assert _session_members(pids) == []


class TestStop:
    def test_sigterm_flushes_the_last_buckets(self, server: CountingServer, make_load: MakeLoad):
        """stop() mid-run ends the process, whose final flush makes the totals match the server's."""
        load = make_load(load_config(server.url, run_time_seconds=30.0))
        load.start()
        assert wait_until(lambda: any(load.output_dir.glob("*.jsonl")), 15.0)
        time.sleep(1.5)
        buckets = list(load.collect())
        pid = load.health().processes[0].pid
        load.stop()
        assert not pid_alive(pid)
        assert _session_members([pid]) == []
        buckets.extend(load.collect())
        lines = next(load.output_dir.glob("*.jsonl")).read_text().splitlines()
        assert '"final": true' in lines[-1]
        _assert_matches_server(buckets, server)
        assert load.health().problem is None


class TestIsolation:
    def test_harness_process_never_imports_locust(self):
        """Running Locust loads leaves gevent and locust out of this process's modules."""
        assert "gevent" not in sys.modules
        assert "locust" not in sys.modules
