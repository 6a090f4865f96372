"""Whole scenarios through ScenarioRun + KubernetesBackend against EmulatedCluster (our Flagger emulation
behind our ClusterApi port): deploy, trigger, watch, events, faults, rollback/promotion, verdict, cleanup."""

from __future__ import annotations

from pathlib import Path

from harness.backends.kubernetes.backend import KubernetesBackend, KubernetesOptions
from harness.clock import FakeClock
from harness.model import Decision
from harness.run.execute import RunOptions, run_scenarios
from harness.scenario.loader import load_scenario
from harness.testing.cluster_load import ClusterLoad
from harness.testing.emulated_cluster import EmulatedCluster, WatchBreak

REPO = Path(__file__).resolve().parents[2]
SCALE = 4.0


def scenario(name: str):  # type: ignore[no-untyped-def]
    return load_scenario(REPO / "scenarios" / f"{name}.yaml")


def run(tmp_path: Path, cluster: EmulatedCluster, names: list[str], parallel: int = 1):  # type: ignore[no-untyped-def]
    def backend(s, options, run_dir):  # type: ignore[no-untyped-def]
        # Parallel runs share the cluster, each on its own run clock (as each sees real time on a cluster).
        clock = FakeClock(scale=SCALE) if parallel > 1 else cluster.clock
        cluster.bind_clock(clock)
        opts = KubernetesOptions(
            context_allow=("kind-canary-chaos",),
            manifests_dir=REPO / "cluster" / "app",
            run_id=s.id,
            time_scale=SCALE,
            check_ingress=False,  # load goes to the emulated cluster, not through a Traefik on 127.0.0.1
        )
        return KubernetesBackend(cluster, opts, clock=clock, epoch=lambda: 1_800_000_000.0)

    def load(options, run_dir, backend):  # type: ignore[no-untyped-def]
        return lambda s, ingress: ClusterLoad.for_ingress(cluster, s, ingress)

    options = RunOptions(backend="kubernetes", time_scale=SCALE, report_dir=tmp_path, progress=False,
                         parallel=parallel)  # fmt: skip
    return run_scenarios([scenario(n) for n in names], options, backend_factory=backend, load_factory=load)


def new_cluster(**kwargs) -> EmulatedCluster:  # type: ignore[no-untyped-def]
    return EmulatedCluster(clock=FakeClock(scale=SCALE), **kwargs)


def test_a_bad_canary_is_rolled_back_within_its_limits(tmp_path: Path) -> None:
    cluster = new_cluster()
    batch = run(tmp_path, cluster, ["http-5xx-spike"])
    record = batch.records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert any("Rolling back" in e.message for e in record.events)
    assert cluster.namespaces == {}  # cleaned up
    assert record.cluster_canary is not None
    assert record.cluster_canary["manifest"]["spec"]["analysis"]["interval"] == "15s"


def test_three_scenarios_in_parallel_namespaces(tmp_path: Path) -> None:
    cluster = new_cluster()
    batch = run(tmp_path, cluster, ["http-5xx-spike", "healthy-control", "fault-at-high-weight"], parallel=3)
    decisions = {r.scenario_id: r.decision for r in batch.records}
    assert decisions == dict.fromkeys(
        ["http-5xx-spike", "healthy-control", "fault-at-high-weight"], Decision.GO
    ), [(r.scenario_id, r.incomplete_reason, r.verdict) for r in batch.records]
    namespaces = {ns for _, ns in cluster.calls if ns.startswith("canary-chaos-")}
    assert len(namespaces) == 3
    assert cluster.namespaces == {}
    by_id = {r.scenario_id: r for r in batch.records}
    assert any(m.kind == "promotion" for m in by_id["healthy-control"].marks)
    assert any(m.kind == "fault_on" for m in by_id["fault-at-high-weight"].marks)
    # events never cross: each run saw only its own Canary's rollback or promotion
    assert not any("Rolling back" in e.message for e in by_id["healthy-control"].events)


def test_410_gone_mid_watch_is_resumed_by_a_relist(tmp_path: Path) -> None:
    cluster = new_cluster(watch_breaks=[WatchBreak(at=400.0, kind="gone")])
    batch = run(tmp_path, cluster, ["http-5xx-spike"])
    assert batch.records[0].decision == Decision.GO
    assert cluster.watch_breaks == []  # it fired
    gets = [m for m, _ in cluster.calls if m == "get_canary"]
    assert len(gets) >= 2  # the initial list and the re-list after 410


def test_a_dropped_watch_is_reopened(tmp_path: Path) -> None:
    cluster = new_cluster(watch_breaks=[WatchBreak(at=400.0, kind="drop"), WatchBreak(at=500.0, kind="drop")])
    batch = run(tmp_path, cluster, ["http-5xx-spike"])
    assert batch.records[0].decision == Decision.GO
    assert cluster.watch_breaks == []


def test_a_hung_call_times_out_and_the_run_ends_cleaned_up(tmp_path: Path) -> None:
    """The watch stops answering mid-run: each call errors after the request timeout, the run ends
    INCOMPLETE (infrastructure, exit 3) instead of stalling, and the namespace is still deleted."""
    cluster = new_cluster(hang_from={"watch_canary": 300.0}, request_timeout_seconds=10.0)
    batch = run(tmp_path, cluster, ["http-5xx-spike"])
    record = batch.records[0]
    assert record.decision == "INCOMPLETE"
    assert "request timeout" in (record.incomplete_reason or "")
    assert batch.exit_code == 3
    assert cluster.namespaces == {}
    assert cluster.clock.now() < 300.0 + 4 * 10.0 * SCALE  # ended after one timed-out call, not hours


def test_lost_events_make_the_run_inconclusive(tmp_path: Path) -> None:
    cluster = new_cluster(events_lost_from=200.0)
    batch = run(tmp_path, cluster, ["http-5xx-spike"])
    assert batch.records[0].decision == Decision.INCONCLUSIVE
