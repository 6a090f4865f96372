"""Whole Argo Rollouts scenarios through ScenarioRun + ArgoRolloutsBackend against EmulatedArgoCluster (our
Argo emulation behind our ClusterApi port): deploy, pod-template trigger, Rollout watch, AnalysisRuns,
rollback or promotion, verdict and cleanup."""

from __future__ import annotations

import math
from pathlib import Path

from harness.backends.kubernetes.argo_backend import ArgoRolloutsBackend
from harness.backends.kubernetes.backend import KubernetesOptions
from harness.clock import FakeClock
from harness.controllers.argo_rollouts.canary_view import canary_status_from_rollout
from harness.controllers.argo_rollouts.status_map import canary_status
from harness.model import Decision
from harness.run.execute import RunOptions, run_scenarios
from harness.scenario.argo_fields import go_duration
from harness.scenario.loader import load_scenario
from harness.testing.cluster_load import ClusterLoad
from harness.testing.emulated_argo import EmulatedArgoCluster, rollout_status_dict
from harness.testing.emulated_cluster import WatchBreak
from harness.verdict.measure import rollback_cause

REPO = Path(__file__).resolve().parents[2]
SCALE = 2.0  # the Argo scenarios measure every 30 s: at 4 that is below 3 scrapes of 5 s (refused)


def run(tmp_path: Path, cluster: EmulatedArgoCluster, names: list[str]):  # type: ignore[no-untyped-def]
    def backend(s, options, run_dir):  # type: ignore[no-untyped-def]
        opts = KubernetesOptions(
            context_allow=("kind-canary-chaos",), run_id=s.id, time_scale=SCALE, check_ingress=False
        )
        return ArgoRolloutsBackend(cluster, opts, clock=cluster.clock, epoch=lambda: 1_800_000_000.0)

    def load(options, run_dir, backend):  # type: ignore[no-untyped-def]
        return lambda s, ingress: ClusterLoad.for_ingress(cluster, s, ingress)

    options = RunOptions(backend="kubernetes", time_scale=SCALE, report_dir=tmp_path, progress=False)
    scenarios = [load_scenario(REPO / "scenarios" / f"{name}.yaml") for name in names]
    return run_scenarios(scenarios, options, backend_factory=backend, load_factory=load)


def new_cluster(**kwargs) -> EmulatedArgoCluster:  # type: ignore[no-untyped-def]
    return EmulatedArgoCluster(clock=FakeClock(scale=SCALE), **kwargs)


def test_a_failing_canary_is_aborted_and_rolled_back(tmp_path: Path) -> None:
    cluster = new_cluster()
    record = run(tmp_path, cluster, ["argo-5xx-first-step"]).records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert any(m.kind == "rollback" for m in record.marks)
    assert cluster.namespaces == {}  # cleaned up
    app = next(iter(cluster.retired.values()))
    assert app.status.abort
    assert app.weights == (100, 0)  # traffic back on the stable ReplicaSet
    applied = record.cluster_canary
    assert applied is not None
    pauses = [c for c in applied["changes"] if c["path"].endswith("pause.duration")]
    assert pauses  # each divided by the time scale
    assert all(c["after"] == f"{math.ceil(go_duration(c['before']) / SCALE)}s" for c in pauses), (
        pauses
    )  # scaled by 2
    assert applied["manifest"]["kind"] == "Rollout"


def test_the_rollback_s_events_come_from_argo_s_kubernetes_events(tmp_path: Path) -> None:
    """The cluster's Events (not the status) carry the abort reason into record.events, once each, and
    the verdict reads the rollback's cause from them as on the local backend."""
    cluster = new_cluster()
    record = run(tmp_path, cluster, ["argo-5xx-first-step"]).records[0]
    aborts = [e for e in record.events if e.reason == "RolloutAborted"]
    assert len(aborts) == 1, record.events
    assert aborts[0].type == "Warning"
    assert "analysis phase error/failed" in aborts[0].message
    trigger = next(m.at for m in record.marks if m.kind == "trigger")
    rollback = next(m.at for m in record.marks if m.kind == "rollback")
    assert trigger <= aborts[0].at <= rollback
    assert rollback_cause(record.events, trigger, rollback) == "failed-checks"
    keys = [(e.reason, e.message, e.at) for e in record.events]
    assert len(keys) == len(set(keys))  # no Event repeated across observe() calls
    assert ("list_events", next(iter(cluster.retired))) in cluster.calls


def test_a_healthy_canary_is_promoted(tmp_path: Path) -> None:
    cluster = new_cluster()
    record = run(tmp_path, cluster, ["argo-healthy-control"]).records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert any(m.kind == "promotion" for m in record.marks)
    app = next(iter(cluster.retired.values()))
    assert app.stable_hash == app.status.current_pod_hash != app.published[0].current_pod_hash


def test_410_gone_mid_watch_is_resumed(tmp_path: Path) -> None:
    cluster = new_cluster(watch_breaks=[WatchBreak(at=300.0, kind="gone")])
    record = run(tmp_path, cluster, ["argo-5xx-first-step"]).records[0]
    assert record.decision == Decision.GO, (record.incomplete_reason, record.verdict)
    assert cluster.watch_breaks == []


def test_both_mappings_agree_on_every_status_the_emulation_wrote(tmp_path: Path) -> None:
    """The kubernetes path (Rollout JSON → canary_view) and the local plug-in (RolloutStatus → status_map)
    give the same phase, weight, failed checks and pause reason for every status of a real run."""
    cluster = new_cluster()
    run(tmp_path, cluster, ["argo-5xx-first-step"])
    app = next(iter(cluster.retired.values()))
    assert app.rollout is not None
    runs = list(app.rollout.runs.by_name.values())
    dicts = [r["status"] for r in app.analysis_runs(str)]
    before = app.published[0].current_pod_hash
    for status in app.published[1:]:
        ours = canary_status_from_rollout(
            rollout_status_dict(status, str), updated_from=before, analysis_runs=dicts, seconds=lambda _: 0.0
        )
        theirs = canary_status(status, runs, updating=True, since=0.0)
        assert (ours.phase, ours.canary_weight, ours.failed_checks, ours.paused_reason) == (
            theirs.phase, theirs.canary_weight, theirs.failed_checks, theirs.paused_reason,
        ), status  # fmt: skip
