"""KubernetesBackend against FakeCluster: deploy, trigger, follow, deadlines, cleanup."""

from __future__ import annotations

import json

import pytest

from harness.backends.kubernetes.follow import WaitTimeout
from harness.backends.kubernetes.manifests import find
from harness.backends.kubernetes.safety import MANAGED_BY_LABEL, RUN_ID_LABEL
from harness.backends.kubernetes.status import rollback_time
from harness.controllers.flagger.model import Phase
from harness.errors import ClusterError, SafetyError
from harness.testing.cluster import FakeCluster
from harness.testing.flagger_status import FlaggerStatusWriter, ScriptedStatus, flagger_event

CONTEXT, RUN_ID = "kind-canary-chaos", "t3st"
NAMESPACE = f"canary-chaos-{RUN_ID}"


class TestDeploy:
    def test_deploys_into_a_fresh_labelled_namespace(self, make_backend, cluster, spec, stable):
        """deploy() creates a namespace with our ownership labels and applies every manifest into it."""
        backend = make_backend()
        backend.deploy(spec, stable)
        labels = cluster.namespaces[NAMESPACE].labels
        assert labels[MANAGED_BY_LABEL] == "canary-chaos"
        assert labels[RUN_ID_LABEL] == RUN_ID
        assert labels["canary-chaos.io/expires-at"] == str(1_800_000_000 + 6 * 3600)
        assert {m["metadata"]["namespace"] for m in cluster.applied[NAMESPACE]} == {NAMESPACE}

    def test_returns_traefik_ingress_with_per_run_host(self, make_backend, cluster, spec, stable):
        """Load goes through Traefik with a Host header unique to the run, matching the IngressRoute."""
        ingress = make_backend().deploy(spec, stable)
        assert ingress.url == "http://127.0.0.1:18080"
        assert ingress.host_header == f"{NAMESPACE}.faulty-app.local"
        route = find(cluster.applied[NAMESPACE], "IngressRoute", "faulty-app")
        assert route["spec"]["routes"][0]["match"] == f"Host(`{ingress.host_header}`)"

    def test_canary_gets_event_webhook_and_stable_revision_env(self, make_backend, cluster, spec, stable):
        """The Canary posts events to this namespace's receiver; the app template carries the stable env."""
        make_backend().deploy(spec, stable)
        canary = find(cluster.applied[NAMESPACE], "Canary", "faulty-app")
        hooks = canary["spec"]["analysis"]["webhooks"]
        assert hooks[-1] == {
            "name": "canary-chaos-events",
            "type": "event",
            "url": f"http://event-receiver.{NAMESPACE}.svc:8080/",
        }
        deployment = find(cluster.applied[NAMESPACE], "Deployment", "faulty-app")
        env = {
            e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert (env["APP_VERSION"], env["FAULTS"]) == ("v1", "[]")
        assert deployment["spec"]["replicas"] == 2
        secret = find(cluster.applied[NAMESPACE], "Secret", "faulty-app-admin")
        assert secret["stringData"]["token"] != "replace-me"

    def test_applies_the_scenarios_progress_deadline(self, make_backend, cluster, spec, stable):
        """The Canary gets the scenario's deadline (not cluster/app's 120 s), the Deployment at least it."""
        import dataclasses

        backend = make_backend()
        backend.deploy(dataclasses.replace(spec, progress_deadline_seconds=700), stable)
        canary = find(cluster.applied[NAMESPACE], "Canary", "faulty-app")
        deployment = find(cluster.applied[NAMESPACE], "Deployment", "faulty-app")
        assert canary["spec"]["progressDeadlineSeconds"] == 700
        assert deployment["spec"]["progressDeadlineSeconds"] >= 700
        assert backend._run.spec is not None
        assert backend._run.spec.progress_deadline_seconds == 700

    def test_waits_for_the_event_receiver_before_applying_the_canary(
        self, make_backend, cluster, clock, spec, stable
    ):
        """The receiver is applied and answering /healthz before the Canary exists (no lost first events)."""
        cluster.receiver_ready_at = 30.0
        make_backend().deploy(spec, stable)
        first, _ = [args for name, args in cluster.calls if name == "apply"]
        receiver_kinds = {m["kind"] for m in cluster.applied[NAMESPACE][: first[1]]}
        assert receiver_kinds == {"ConfigMap", "Deployment", "Service"}
        assert "Canary" in {m["kind"] for m in cluster.applied[NAMESPACE][first[1] :]}
        canary_applied_at = cluster._canary[0][0]
        assert 30.0 <= canary_applied_at < 33.0

    def test_event_receiver_never_ready_is_a_cluster_error(self, make_backend, cluster, clock, spec, stable):
        """A receiver that never answers ends deploy() with a ClusterError naming it, after its budget."""
        cluster.receiver_ready_at = float("inf")
        with pytest.raises(ClusterError, match=r"event receiver canary-chaos-t3st/event-receiver not ready "):
            make_backend(receiver_ready_seconds=60.0).deploy(spec, stable)
        assert clock.now() == pytest.approx(60.0)
        assert not any(m["kind"] == "Canary" for m in cluster.applied[NAMESPACE])

    def test_waits_for_initialized(self, make_backend, clock, spec, stable):
        """deploy() returns once the Canary is Initialized (t=70 s in the script), not before."""
        backend = make_backend()
        backend.deploy(spec, stable)
        assert backend.status().phase == Phase.INITIALIZED
        assert 70 <= clock.now() < 100

    def test_initialization_deadline_dumps_diagnostics(self, make_backend, clock, spec, stable):
        """A Canary stuck Initializing times out at 2 intervals + rollout + margin, after dumping evidence."""
        writer = FlaggerStatusWriter(clock.wall(0.0))
        stuck = FakeCluster(clock=clock, canary_script=[ScriptedStatus(5, writer.write(5, "Initializing"))])
        from harness.backends.kubernetes.backend import KubernetesBackend

        backend = KubernetesBackend(stuck, make_backend().options, clock=clock, epoch=lambda: 0.0)
        with pytest.raises(
            WaitTimeout, match=r"phase Initialized not reached within 5m30s \(deadline t=330s"
        ):
            backend.deploy(spec, stable)
        assert clock.now() == pytest.approx(330)
        diagnostics = backend.diagnostics()
        assert '"phase": "Initializing"' in diagnostics["canary"]
        assert "faulty-app" in diagnostics["deployments"]
        assert "Starting canary analysis" in diagnostics["flagger-logs"]
        assert isinstance(WaitTimeout("x"), ClusterError)


class TestRun:
    def test_trigger_patches_template_annotation_and_faults(self, make_backend, cluster, spec, stable, bad):
        """trigger() changes the pod template (annotation + FAULTS env): what starts a Flagger run."""
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.trigger(bad)
        namespace, name, annotations, env = cluster.patches[-1]
        assert (namespace, name) == (NAMESPACE, "faulty-app")
        assert annotations == {"canary-chaos.io/revision": "v2-1"}
        assert json.loads(env["FAULTS"]) == [{"kind": "error", "rate": 1.0}]

    def test_follows_to_rollback_and_takes_time_from_promoted_condition(
        self, make_backend, clock, spec, stable, bad
    ):
        """Progressing then Failed; the rollback time is the Promoted condition's lastUpdateTime (600 s)."""
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.trigger(bad)
        assert backend.wait_for_progressing().phase == Phase.PROGRESSING
        final = backend.wait_for_terminal()
        assert final.phase == Phase.FAILED
        assert rollback_time(final) == 600
        clock.advance(130)  # Flagger re-syncs Failed twice more (lastTransitionTime 660, 720)
        backend.observe()
        later = backend.status()
        assert later.last_transition_time == 720
        assert rollback_time(later) == 600

    def test_observe_returns_each_status_write_once(self, make_backend, clock, spec, stable):
        """Every status write becomes one sample, stamped with the time Flagger wrote it."""
        backend = make_backend()
        backend.deploy(spec, stable)
        seen = list(backend.observe().samples)
        while clock.now() < 800:
            seen += backend.observe().samples
        times = [s.at for s in seen if s.status.phase != Phase.NONE]
        assert times == [5, 70, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660, 720]
        assert [s.status.canary_weight for s in seen if s.at in (180, 240)] == [10, 20]

    def test_observe_returns_receiver_events_for_this_canary_only(
        self, make_backend, cluster, clock, spec, stable
    ):
        """Events come from the webhook receiver, filtered to this Canary, each delivered once."""
        backend = make_backend()
        backend.deploy(spec, stable)
        epoch0 = int(clock.wall(0.0).timestamp() * 1000)
        cluster.receiver_events += [
            flagger_event(
                NAMESPACE,
                "faulty-app",
                "New revision detected! Scaling up faulty-app",
                at_epoch_ms=epoch0 + 120_000,
            ),
            flagger_event("other", "faulty-app", "not ours", at_epoch_ms=epoch0),
        ]
        first = backend.observe().events
        cluster.receiver_events.append(
            flagger_event(
                NAMESPACE, "faulty-app", "Halt advancement", at_epoch_ms=epoch0 + 300_000, warning=True
            )
        )
        second = backend.observe().events
        assert [(e.at, e.message) for e in first] == [(120.0, "New revision detected! Scaling up faulty-app")]
        assert [(e.at, e.type) for e in second] == [(300.0, "Warning")]

    def test_unreadable_events_are_a_gap_until_read_again(self, make_backend, cluster, clock, spec, stable):
        """A failed receiver read is an evidence gap; the next good read closes it, losing nothing."""
        backend = make_backend()
        backend.deploy(spec, stable)
        epoch0 = int(clock.wall(0.0).timestamp() * 1000)
        cluster.receiver_events.append(
            flagger_event(NAMESPACE, "faulty-app", "Starting canary analysis", at_epoch_ms=epoch0 + 180_000)
        )
        cluster.fail["service_proxy_get"] = ClusterError("GET events: HTTP 503 no endpoints")
        broken = backend.observe()
        assert broken.events == ()
        assert len(broken.gaps) == 1
        assert "Flagger events unreadable" in broken.gaps[0]
        assert "HTTP 503" in broken.gaps[0]
        del cluster.fail["service_proxy_get"]
        healed = backend.observe()
        assert healed.gaps == ()
        assert [e.message for e in healed.events] == ["Starting canary analysis"]

    def test_set_canary_faults_runs_in_every_canary_pod(self, make_backend, cluster, spec, stable):
        """Run-time faults are PUT from inside each canary pod, with the faults JSON as the argument."""
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.set_canary_faults([{"kind": "latency", "ms": 800}])
        assert [pod for _, pod, _ in cluster.execs] == ["faulty-app-abc12-0", "faulty-app-abc12-1"]
        command = cluster.execs[0][2]
        assert command[:2] == ["python", "-c"]
        assert json.loads(command[-1]) == [{"kind": "latency", "ms": 800}]
        assert "ADMIN_TOKEN" in command[2]


class TestTeardown:
    def test_deletes_namespace_once(self, make_backend, cluster, spec, stable):
        """teardown() deletes the run's namespace and is idempotent."""
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.teardown()
        backend.teardown()
        assert NAMESPACE not in cluster.namespaces
        assert [c for c in cluster.calls if c[0] == "delete_namespace"] == [
            ("delete_namespace", (NAMESPACE,))
        ]

    def test_cleans_up_when_deploy_raises(self, make_backend, cluster, spec, stable):
        """A failing apply still leaves teardown able to delete the namespace it created."""
        cluster.fail["apply"] = ClusterError("server-side apply: HTTP 500")
        backend = make_backend()
        with pytest.raises(ClusterError, match="HTTP 500"), backend:
            backend.deploy(spec, stable)
        assert NAMESPACE not in cluster.namespaces

    def test_keep_leaves_namespace(self, make_backend, cluster, spec, stable):
        """keep=True never deletes, even after a failed deploy."""
        cluster.fail["apply"] = ClusterError("boom")
        backend = make_backend(keep=True)
        with pytest.raises(ClusterError), backend:
            backend.deploy(spec, stable)
        assert NAMESPACE in cluster.namespaces
        assert not [c for c in cluster.calls if c[0] == "delete_namespace"]

    def test_refuses_to_delete_a_namespace_that_lost_our_labels(self, make_backend, cluster, spec, stable):
        """If the namespace no longer carries our run id, teardown raises instead of deleting it."""
        from harness.backends.kubernetes.api import NamespaceInfo

        backend = make_backend()
        backend.deploy(spec, stable)
        cluster.namespaces[NAMESPACE] = NamespaceInfo(NAMESPACE, {"team": "payments"})
        with pytest.raises(SafetyError, match="not created by this harness run"):
            backend.teardown()
        assert NAMESPACE in cluster.namespaces

    def test_writes_refuse_foreign_namespace(self, make_backend, cluster, spec, stable, bad):
        """trigger() re-checks ownership before writing."""
        from harness.backends.kubernetes.api import NamespaceInfo

        backend = make_backend()
        backend.deploy(spec, stable)
        cluster.namespaces[NAMESPACE] = NamespaceInfo(
            NAMESPACE, {MANAGED_BY_LABEL: "canary-chaos", RUN_ID_LABEL: "other"}
        )
        with pytest.raises(SafetyError):
            backend.trigger(bad)
        assert cluster.patches == []


class TestContext:
    def test_refuses_context_not_allowlisted_before_any_call(self, clock):
        """Construction fails for a non-allowlisted context, having made no call but current_context."""
        from harness.backends.kubernetes.backend import KubernetesBackend, KubernetesOptions

        cluster = FakeCluster(clock=clock, context="prod-eu-1")
        with pytest.raises(SafetyError, match="'prod-eu-1' is not allowlisted"):
            KubernetesBackend(cluster, KubernetesOptions(context_allow=(CONTEXT,)), clock=clock)
        assert cluster.calls == []


class TestPreflight:
    def test_all_green_on_a_bootstrapped_cluster(self, make_backend, cluster, ingress_url):
        """Flagger ready with the traefik provider, CRDs present, Prometheus answering with Traefik series."""
        cluster.prometheus_values.update({"vector(1)": 1.0, "count(traefik_service_requests_total)": 4.0})
        checks = {c.name: c for c in make_backend(ingress_url=ingress_url).preflight()}
        assert all(c.ok for c in checks.values()), checks
        assert checks["flagger-provider"].detail == "-mesh-provider=traefik"

    def test_reports_missing_crd_and_unscraped_traefik(self, make_backend, cluster):
        """Missing Traefik CRDs and no traefik_* series are reported as failed checks, not exceptions."""
        cluster.crds.discard(("traefik.io", "traefikservices"))
        cluster.prometheus_values.update({"vector(1)": 1.0})
        checks = {c.name: c for c in make_backend().preflight()}
        assert not checks["crd:traefikservices.traefik.io"].ok
        assert checks["crd:ingressroutes.traefik.io"].ok
        assert not checks["prometheus:traefik-series"].ok
        assert "port 9100" in checks["prometheus:traefik-series"].detail


class TestMetricEvidence:
    def test_builtin_queries_checked_once_per_interval_while_progressing(
        self, make_backend, cluster, clock, spec, stable, monkeypatch
    ):
        """While Progressing, observe() runs the builtin queries once per interval and judges the bounds."""
        import sys
        import types

        queries = types.ModuleType("harness.controllers.flagger.queries")
        queries.request_success_rate = lambda ns, target, window: f"success:{ns}:{target}:{window}"
        queries.request_duration = lambda ns, target, window: f"duration:{ns}:{target}:{window}"
        monkeypatch.setitem(sys.modules, "harness.controllers.flagger.queries", queries)
        cluster.prometheus_values.update(
            {f"success:{NAMESPACE}:faulty-app:1m": 97.5, f"duration:{NAMESPACE}:faulty-app:1m": 99.9}
        )
        backend = make_backend()
        backend.deploy(spec, stable)
        checks = []
        while clock.now() < 560:
            checks += backend.observe().checks
        assert {(c.metric, c.value, c.passed) for c in checks} == {
            ("request-success-rate", 97.5, False),
            ("request-duration", 99.0, True),
        }
        assert len(checks) == 2 * 8  # Progressing from 120 s, observed until 560 s: one pair per interval


class TestAdoptedAnalysis:
    def test_options_analysis_from_replaces_the_scenario_analysis(self, make_backend, cluster, spec, stable):
        """With analysis_from (--canary-spec), the deployed Canary carries the team's analysis block."""
        from dataclasses import replace

        theirs = {
            "spec": {"analysis": {"interval": "30s", "threshold": 2, "stepWeights": [5, 50], "metrics": []}}
        }
        backend = make_backend(analysis_from=replace(spec, manifest=theirs))
        backend.deploy(spec, stable)
        analysis = find(cluster.applied[NAMESPACE], "Canary", "faulty-app")["spec"]["analysis"]
        assert (analysis["interval"], analysis["stepWeights"]) == ("30s", [5, 50])
        assert analysis["webhooks"][-1]["name"] == "canary-chaos-events"


class TestTimeScale:
    """At --time-scale 4 the cluster runs the Canary with durations / 4; the run clock runs at 4."""

    def test_applied_canary_is_scaled_and_pods_get_time_scale(self, make_backend, cluster, spec, stable):
        from dataclasses import replace

        from harness.backends.kubernetes.backend import KubernetesBackend
        from harness.clock import FakeClock

        clock = FakeClock(scale=4)
        options = replace(make_backend().options, time_scale=4.0)
        backend = KubernetesBackend(cluster, options, clock=clock, epoch=lambda: 0.0)
        backend.deploy(replace(spec, progress_deadline_seconds=120), stable)  # the scenario's deadline
        canary = find(cluster.applied[NAMESPACE], "Canary", "faulty-app")
        assert canary["spec"]["analysis"]["interval"] == "15s"
        assert {m["interval"] for m in canary["spec"]["analysis"]["metrics"]} == {"15s"}
        assert canary["spec"]["progressDeadlineSeconds"] == 30
        deployment = find(cluster.applied[NAMESPACE], "Deployment", "faulty-app")
        env = {
            e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["TIME_SCALE"] == "4"
        assert backend.cluster_canary is not None
        assert backend.cluster_canary.canary.scale == 4
        assert "mesh" not in backend.cluster_canary.to_data()  # Traefik: no mesh evidence
        # Real budgets (rollout 180 s + margin 30 s) count 4× on the run clock; the 1m interval does not.
        assert backend.deadlines is not None
        assert backend.deadlines.initialized == pytest.approx(2 * 60 + (180 + 30) * 4)

    def test_refused_scale_creates_nothing(self, make_backend, cluster, spec, stable):
        from dataclasses import replace

        from harness.backends.kubernetes.backend import KubernetesBackend
        from harness.clock import FakeClock
        from harness.errors import CanarySpecError

        options = replace(make_backend().options, time_scale=8.0)
        backend = KubernetesBackend(cluster, options, clock=FakeClock(scale=8), epoch=lambda: 0.0)
        with pytest.raises(CanarySpecError, match=r"spec\.analysis\.interval"):
            backend.deploy(spec, stable)
        assert cluster.namespaces == {}
        backend.teardown()

    def test_clock_must_run_at_the_options_scale(self, make_backend, cluster):
        from dataclasses import replace

        from harness.backends.kubernetes.backend import KubernetesBackend
        from harness.clock import FakeClock

        with pytest.raises(ClusterError, match="clock scale 1 differs from time_scale 4"):
            KubernetesBackend(cluster, replace(make_backend().options, time_scale=4.0), clock=FakeClock())
