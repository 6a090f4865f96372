"""CanaryFollower: watch resume after 410 Gone, de-duplication, and deadlines on a FakeClock."""

from __future__ import annotations

import pytest

from harness.backends.kubernetes.follow import CanaryFollower, WaitTimeout
from harness.controllers.flagger.model import Phase
from harness.testing.cluster import FakeCluster

NS = "canary-chaos-f0110w"
ALL_WRITES = [5, 70, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660, 720]


def start(cluster: FakeCluster) -> CanaryFollower:
    cluster.create_namespace(NS, {}, {})
    canary = {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": "faulty-app"},
        "spec": {},
    }
    cluster.apply(NS, [canary])
    return CanaryFollower(cluster, NS, "faulty-app", cluster.clock)


def follow_until(follower: CanaryFollower, clock, end: float) -> list[float]:
    times = []
    for _ in range(1000):  # bounded: every poll advances the fake clock by its timeout
        if clock.now() >= end:
            break
        follower.poll(7.0)
        times += [s.at for s in follower.drain() if s.status.phase != Phase.NONE]
    return times


class TestWatchResume:
    def test_no_break_sees_every_write_once(self, cluster, clock):
        """Without 410s the watch delivers each status write exactly once, in order."""
        follower = start(cluster)
        assert follow_until(follower, clock, 800) == ALL_WRITES
        assert follower.relists == 1

    def test_gone_at_an_undelivered_write_relists_it(self, cluster, clock):
        """A watch dying with 410 just as a write lands: the re-list returns that write; nothing is lost."""
        cluster.watch_breaks = [300]
        follower = start(cluster)
        assert follow_until(follower, clock, 800) == ALL_WRITES
        assert follower.relists == 2

    def test_gone_between_writes_adds_no_duplicate(self, cluster, clock):
        """A 410 between writes re-lists an object already seen: no duplicate sample."""
        cluster.watch_breaks = [330, 335, 601]
        follower = start(cluster)
        assert follow_until(follower, clock, 800) == ALL_WRITES
        assert follower.relists == 4

    def test_resume_from_compacted_version_relists(self, cluster, clock):
        """A watch restarted from a resourceVersion older than the compaction gets 410 and re-lists."""
        cluster.watch_breaks = [100, 110]
        follower = start(cluster)
        times = follow_until(follower, clock, 800)
        assert times == ALL_WRITES
        assert sum(1 for c in cluster.calls if c[0] == "get_canary") == follower.relists == 3


class TestWaitUntil:
    def test_sees_a_state_passed_within_one_watch_chunk(self, cluster, clock):
        """A phase seen only mid-chunk (Initializing at 5 s) still satisfies the wait."""
        follower = start(cluster)
        status = follower.wait_until(
            lambda s: s.phase == Phase.INITIALIZING,
            budget_seconds=100,
            what="Initializing",
            on_timeout=lambda: None,
        )
        assert status.phase == Phase.INITIALIZING

    def test_deadline_calls_diagnostics_then_raises_with_deadline(self, cluster, clock):
        """Past the budget the follower collects diagnostics first, then raises naming the deadline."""
        follower = start(cluster)
        dumped = []
        with pytest.raises(
            WaitTimeout, match=r"Succeeded not reached within 4m \(deadline t=240s, last phase 'Progressing'"
        ):
            follower.wait_until(
                lambda s: s.phase == Phase.SUCCEEDED,
                budget_seconds=240,
                what="Succeeded",
                on_timeout=lambda: dumped.append(clock.now()),
            )
        assert dumped == [240]

    def test_include_current_false_ignores_the_state_already_seen(self, cluster, clock):
        """Waiting for Failed after a previous Failed only accepts a new write."""
        follower = start(cluster)
        follower.wait_until(
            lambda s: s.phase == Phase.FAILED, budget_seconds=700, what="Failed", on_timeout=lambda: None
        )
        at_first = clock.now()
        follower.wait_until(
            lambda s: s.phase == Phase.FAILED,
            budget_seconds=200,
            what="Failed",
            on_timeout=lambda: None,
            include_current=False,
        )
        assert clock.now() > at_first
