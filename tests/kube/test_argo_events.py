"""Argo Rollouts' Kubernetes Events → CanaryEvents on the cluster path: dedupe, repeats, times, gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.backends.kubernetes.api import EventInfo
from harness.backends.kubernetes.argo_events import RolloutEvents
from harness.clock import FakeClock
from harness.controllers.argo_rollouts.model import RolloutEvent
from harness.controllers.flagger.model import CanaryEvent, Phase
from harness.errors import ClusterError
from harness.testing.cluster import FakeCluster
from harness.testing.emulated_events import recorded_events

WALL0 = datetime(2026, 1, 1, tzinfo=UTC)
NS = "canary-chaos-abc"


def at(seconds: float) -> str:
    return (WALL0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def info(
    uid: str, reason: str, first: float, last: float | None = None, count: int = 1, kind: str = "Rollout"
) -> EventInfo:
    return EventInfo(
        uid, kind, "faulty-app", "Warning" if reason == "RolloutAborted" else "Normal", reason,
        f"{reason} text", count, at(first), at(first if last is None else last),
    )  # fmt: skip


def reader(cluster: FakeCluster) -> RolloutEvents:
    return RolloutEvents(cluster, NS, cluster.clock, {})


def test_each_event_once_across_reads_with_argo_s_reason_and_both_kinds() -> None:
    cluster = FakeCluster(clock=FakeClock(100.0, start_wall=WALL0))
    cluster.kube_events[NS] = [
        info("a", "RolloutUpdated", 5),
        info("r", "AnalysisRunFailed", 40, kind="AnalysisRun"),
    ]
    events = reader(cluster)
    first = events.read(Phase.PROGRESSING)
    assert first == [
        CanaryEvent(5.0, "Normal", "RolloutUpdated text", Phase.PROGRESSING, "RolloutUpdated"),
        CanaryEvent(40.0, "Normal", "AnalysisRunFailed text", Phase.PROGRESSING, "AnalysisRunFailed"),
    ]
    cluster.kube_events[NS].append(info("b", "RolloutAborted", 50))
    assert [(e.reason, e.type, e.phase) for e in events.read(Phase.FAILED)] == [
        ("RolloutAborted", "Warning", Phase.FAILED)
    ]
    assert events.read(Phase.FAILED) == []
    assert ("list_events", (NS, "AnalysisRun")) in cluster.calls


def test_a_repeat_is_one_more_event_at_its_last_time_per_read_that_saw_the_count_grow() -> None:
    cluster = FakeCluster(clock=FakeClock(200.0, start_wall=WALL0))
    cluster.kube_events[NS] = [info("p", "RolloutPaused", 10, 30, count=2)]  # already repeated on first sight
    events = reader(cluster)
    assert [e.at for e in events.read(Phase.PROGRESSING)] == [10.0, 30.0]
    cluster.kube_events[NS] = [info("p", "RolloutPaused", 10, 90, count=5)]  # three more, folded
    assert [(e.at, e.message) for e in events.read(Phase.PROGRESSING)] == [(90.0, "RolloutPaused text")]
    assert events.read(Phase.PROGRESSING) == []  # same count: nothing new


def test_times_are_run_clock_seconds_at_the_time_scale_and_never_after_the_read() -> None:
    cluster = FakeCluster(clock=FakeClock(600.0, start_wall=WALL0, scale=60.0))
    cluster.kube_events[NS] = [info("a", "RolloutStepCompleted", 3), info("z", "RolloutCompleted", 11)]
    # 3 real seconds after the origin at 60x is t=180; 11 s would be t=660, later than now (600): capped
    assert [e.at for e in reader(cluster).read(Phase.SUCCEEDED)] == [180.0, 600.0]


def test_an_unreadable_list_is_a_gap_until_a_good_read_which_loses_nothing() -> None:
    cluster = FakeCluster(clock=FakeClock(100.0, start_wall=WALL0))
    cluster.kube_events[NS] = [info("b", "RolloutAborted", 50)]
    cluster.fail["list_events"] = ClusterError("list Rollout events: HTTP 403 forbidden")
    events = reader(cluster)
    assert events.read(Phase.FAILED) == []
    assert events.gap is not None
    assert "403" in events.gap
    assert "403" in events.diagnostics["rollout-events-error"]
    del cluster.fail["list_events"]
    assert [e.reason for e in events.read(Phase.FAILED)] == ["RolloutAborted"]
    assert events.gap is None


def test_the_emulated_api_server_folds_identical_repeats_as_client_go_does() -> None:
    emitted = [
        RolloutEvent(1.2, "Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)", "Rollout", "app"),
        RolloutEvent(5.0, "Warning", "RolloutAborted", "aborted", "Rollout", "app"),
        RolloutEvent(9.7, "Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)", "Rollout", "app"),
    ]
    paused, aborted = recorded_events(NS, emitted, lambda s: WALL0 + timedelta(seconds=s))
    assert (paused.count, paused.first_time, paused.last_time) == (2, at(1), at(9))  # whole seconds
    assert (aborted.count, aborted.type, aborted.involved_kind) == (1, "Warning", "Rollout")
    assert paused.uid != aborted.uid
