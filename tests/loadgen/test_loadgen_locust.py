"""The Locust gateway end to end against a counting 127.0.0.1 app: exact totals, pacing, failures."""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from harness.clock import ScaledClock
from harness.load.gateway import LocustLoad
from harness.load.model import ChildConfig, CohortConfig, RouteConfig
from harness.model import LoadBucket
from harness.processes.procs import pid_alive
from harness.scenario.cohorts import parse_user_id

pytestmark = pytest.mark.timeout(45)

MIXED = (RouteConfig("/", weight=3), RouteConfig("/api/orders", "POST", 1, validate_checksum=True))
BETA = CohortConfig("beta", 0.5, headers=(("X-Cohort", "beta"), ("Cookie", "canary=always")))


def _is_beta(user_id: str, *, workers: int) -> bool:
    """The cohort rule of ``locustfile``: ``w<i>u<n>`` is user ``n * workers + i``, golden-ratio spread."""
    index, number = parse_user_id(user_id)
    return ((number * workers + index) * (math.sqrt(5) - 1) / 2) % 1.0 < BETA.fraction


def _load(url: str, tmp_path: Path, *, workers: int = 0, **overrides: object) -> LocustLoad:
    fields: dict[str, object] = {"users": 4, "rps": 40.0, "routes": MIXED, "request_timeout_seconds": 1.0,
                                 "bucket_seconds": 0.5, "host_header": "shop.example"}  # fmt: skip
    fields.update(overrides)
    config = ChildConfig(url=url, out_dir=str(tmp_path / "load"), start_epoch=0.0, **fields)  # type: ignore[arg-type]
    return LocustLoad(config, clock=ScaledClock(1.0), run_dir=tmp_path, workers=workers, spawn_rate=100,
                      run_time_seconds=60, stall_seconds=1.5)  # fmt: skip


@pytest.fixture
def started() -> Iterator[list[LocustLoad]]:
    """Loads registered here are stopped even when a test fails; their processes must be gone."""
    loads: list[LocustLoad] = []
    try:
        yield loads
    finally:
        for load in loads:
            load.stop()
            assert not any(pid_alive(proc.pid) for proc in load.processes)


def _drive(load: LocustLoad, seconds: float, until_requests: int = 0) -> list[LoadBucket]:
    """Start, poll like the runner for ``seconds`` after the first request shows up (bounded)."""
    load.start()
    got: list[LoadBucket] = []
    deadline = time.monotonic() + 20.0
    first: float | None = None
    while time.monotonic() < deadline and (first is None or time.monotonic() < first + seconds):
        got += load.collect()
        assert load.problem() is None
        if first is None and sum(b.requests for b in got) > until_requests:
            first = time.monotonic()
        time.sleep(0.05)
    assert first is not None, "no requests recorded in 20 s"
    return got


def _totals(buckets: Sequence[LoadBucket]) -> Counter[tuple[str, int]]:
    totals: Counter[tuple[str, int]] = Counter()
    for bucket in buckets:
        totals[(bucket.version, bucket.status)] += bucket.requests
    return totals


class TestLocalLoad:
    def test_totals_pacing_cohorts_and_wrong_answers(self, app_server, tmp_path, started) -> None:  # type: ignore[no-untyped-def]
        """Totals equal the server's counts exactly; 40 rps holds within 25 %; bad and hurt are right."""
        url, app = app_server
        load = _load(url, tmp_path, cohorts=(BETA,))
        started.append(load)
        clock = load.clock
        during = _drive(load, 3.5)
        for bucket in during:  # only complete buckets before stop
            assert bucket.start + bucket.duration <= clock.from_epoch(time.time())
        load.stop()
        got = during + list(load.collect())
        assert len({(b.start, b.version, b.status, b.cohort, b.route) for b in got}) == len(got)  # each once
        assert _totals(got) == app.sent
        assert sum(app.sent.values()) > 100
        bad = sum(b.bad for b in got)
        assert bad == app.sent[("1.1.0", 500)] + app.sent[("none", 503)] + app.corrupted
        assert app.corrupted > 0
        assert app.hosts == Counter({"shop.example": sum(app.sent.values())})
        assert {u for b in got if b.status == 503 for u in b.hurt_users} == {"u0000", "u0002"}
        assert app.cookies["canary=always"] == app.sent[("none", 503)]
        by_segment: Counter[tuple[str, str]] = Counter()
        for bucket in got:  # the records say each request's cohort and route, as the app saw them
            by_segment[(bucket.cohort, bucket.route)] += bucket.requests
            assert bucket.first_user
            assert _is_beta(bucket.first_user, workers=1) is (bucket.cohort == "beta")
        assert by_segment == app.routes
        assert {k[1] for k in by_segment} == {"GET /", "POST /api/orders"}
        window = [t for t in app.times if app.times[0] + 0.5 <= t < app.times[0] + 3.0]
        assert 40 * 2.5 * 0.75 <= len(window) <= 40 * 2.5 * 1.25, len(window)
        assert "gevent" not in sys.modules
        assert "locust" not in sys.modules

    def test_timeouts_are_status_zero_without_version(self, app_server, tmp_path, started) -> None:  # type: ignore[no-untyped-def]
        """Requests slower than the timeout are recorded as status 0, version none, bad, one each."""
        url, app = app_server
        load = _load(
            url, tmp_path, users=2, rps=4.0, routes=(RouteConfig("/slow"),), request_timeout_seconds=0.3
        )
        started.append(load)
        during = _drive(load, 1.5)
        load.stop()
        got = during + list(load.collect())
        assert _totals(got) == Counter({("none", 0): app.slow})
        assert app.slow >= 4
        assert sum(b.bad for b in got) == app.slow
        assert all(300 <= b.latency_p50_ms < 1000 for b in got)
        assert {u for b in got for u in b.hurt_users} == {"u0000", "u0001"}

    def test_stalled_child_is_reported(self, app_server, tmp_path, started) -> None:  # type: ignore[no-untyped-def]
        """A live child that records nothing for the stall bound makes problem() name the stall."""
        url, _app = app_server
        load = _load(url, tmp_path, users=1, rps=5.0, routes=(RouteConfig("/"),))
        started.append(load)
        _drive(load, 0.5)
        child = load.processes[0]
        os.kill(child.pid, signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 6.0
            while (problem := load.problem()) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert problem is not None
            assert "no requests recorded" in problem
        finally:
            os.kill(child.pid, signal.SIGCONT)


class TestDistributedLoad:
    def test_two_workers_match_server_totals(self, app_server, tmp_path, started) -> None:  # type: ignore[no-untyped-def]
        """Master plus two workers: merged totals, bad and hurt users agree with what the server sent."""
        url, app = app_server
        load = _load(url, tmp_path, workers=2, cohorts=(BETA,))
        started.append(load)
        during = _drive(load, 2.5)
        load.stop()
        got = during + list(load.collect())
        assert {path.name for path in (tmp_path / "load").iterdir()} == {
            "load-worker0.jsonl",
            "load-worker1.jsonl",
        }
        assert _totals(got) == app.sent
        assert sum(app.sent.values()) > 50
        assert sum(b.bad for b in got) == app.sent[("1.1.0", 500)] + app.sent[("none", 503)] + app.corrupted
        hurt_by_cohort = {u for b in got if b.status == 503 for u in b.hurt_users}
        assert {b.cohort for b in got if b.status == 503} == {"beta"}
        # 4 users, half beta: w0u0000 and w0u0001. Locust may re-dispatch users between workers under load
        # (new user objects, new ids), so check the assignment rule of every hurt id, not only the count.
        assert len(hurt_by_cohort) >= 2
        assert all(_is_beta(u, workers=2) for u in hurt_by_cohort), hurt_by_cohort
        assert len({(b.start, b.version, b.status, b.cohort, b.route) for b in got}) == len(got)

    def test_killed_worker_is_a_problem(self, app_server, tmp_path, started) -> None:  # type: ignore[no-untyped-def]
        """SIGKILLing a worker makes problem() name it and its exit code; stop() still cleans up."""
        url, _app = app_server
        load = _load(url, tmp_path, workers=2, users=2, rps=10.0, routes=(RouteConfig("/"),))
        started.append(load)
        _drive(load, 0.3)
        victim = next(proc for proc in load.processes if proc.name == "locust-worker1")
        os.kill(victim.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while (problem := load.problem()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert problem is not None
        assert "locust-worker1" in problem
        assert "code -9" in problem
        load.stop()
        assert load.problem() is None  # after stop nothing is reported any more
        assert not any(pid_alive(proc.pid) for proc in load.processes)


def test_harness_process_never_imported_locust() -> None:
    """The monkey-patching libraries stay out of the test (harness) process."""
    assert "gevent" not in sys.modules
    assert "locust" not in sys.modules
