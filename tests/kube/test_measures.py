"""What the Kubernetes backend measures: router weights, metric windows, fault targets, required CRDs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from harness.backends.kubernetes.cluster_provider import TRAEFIK
from harness.backends.kubernetes.status import traefik_weights
from harness.controllers.flagger.model import MetricSpec, ThresholdRange
from harness.errors import InputError
from harness.verdict.measure import max_canary_weight

NAMESPACE = "canary-chaos-t3st"
ERRORS = ({"kind": "http_errors", "rate": 1.0, "status_codes": [500]},)


def traefik_service(primary: int, canary: int | None) -> dict:
    services = [{"name": "faulty-app-primary", "namespace": NAMESPACE, "port": 80, "weight": primary}]
    if canary is not None:
        services.append({"name": "faulty-app-canary", "namespace": NAMESPACE, "port": 80, "weight": canary})
    return {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "TraefikService",
        "spec": {"weighted": {"services": services}},
    }


class TestTraefikWeights:
    def test_both_entries(self):
        """(primary, canary) from the weighted services Flagger writes."""
        assert traefik_weights(traefik_service(70, 30), "faulty-app") == (70, 30)

    def test_canary_entry_absent_at_weight_zero(self):
        """Flagger drops the canary entry at weight 0."""
        assert traefik_weights(traefik_service(100, None), "faulty-app") == (100, 0)

    def test_not_reconciled_yet(self):
        """No weighted block (or no primary entry) reads as unknown, not as 0 %."""
        assert traefik_weights({"spec": {}}, "faulty-app") is None
        assert traefik_weights({"spec": {"weighted": {"services": []}}}, "faulty-app") is None


class TestRouterWeightsObserved:
    def test_max_weight_sees_the_router_beyond_the_status(self, make_backend, cluster, clock, spec, stable):
        """The TraefikService at 40 % while the status says 20 %: the max canary weight is 40."""
        backend = make_backend()
        backend.deploy(spec, stable)
        clock.set(250)
        cluster.traefik_services[(NAMESPACE, "faulty-app")] = traefik_service(60, 40)
        samples = backend.observe().samples
        assert samples[-1].router_weights == (60, 40)
        assert max(s.status.canary_weight for s in samples) == 20
        assert max_canary_weight(samples) == 40

    def test_weight_change_without_status_write_is_a_sample(self, make_backend, cluster, clock, spec, stable):
        """A new router weight with no new Canary status still becomes a sample (at the read time)."""
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.observe()
        cluster.traefik_services[(NAMESPACE, "faulty-app")] = traefik_service(90, 10)
        samples = backend.observe().samples
        assert [s.router_weights for s in samples][-1] == (90, 10)
        assert backend.observe().samples == ()  # unchanged: nothing new


class TestMetricWindow:
    def test_window_is_each_metrics_interval(self, make_backend, cluster, clock, spec, stable):
        """The evidence query of a metric with interval 2m uses [2m], not a fixed 1m."""
        metrics = (MetricSpec("request-success-rate", "2m", ThresholdRange(min=99)),)
        applied = {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10}
        applied["metrics"] = [
            {"name": "request-success-rate", "interval": "2m", "thresholdRange": {"min": 99}}
        ]
        spec = dataclasses.replace(
            spec,
            analysis=dataclasses.replace(spec.analysis, metrics=metrics),
            manifest={"spec": {"analysis": applied}},  # what the scenario's Canary applies
        )
        backend = make_backend()
        backend.deploy(spec, stable)
        clock.set(130)  # Progressing in the script
        queries = backend.observe().queries
        assert len(queries) == 1
        assert queries[0]["window"] == "2m"
        assert "[2m]" in queries[0]["query"]
        assert "[1m]" not in queries[0]["query"]


class TestFaultInjection:
    def test_no_ready_pod_is_recorded_and_retried(self, make_backend, cluster, clock, spec, stable):
        """No serving canary pod: no raise; the problem is recorded and a later observation injects."""
        cluster.serving_pods = {"faulty-app": []}
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.set_canary_faults(ERRORS)
        assert cluster.execs == []
        assert "no Ready canary pods" in backend.diagnostics()["fault-injection"]
        cluster.serving_pods = {"faulty-app": ["faulty-app-abc12-0"]}
        backend.observe()  # too soon after the last attempt: throttled
        assert cluster.execs == []
        clock.set(clock.now() + 6)
        backend.observe()
        assert [(pod, json.loads(cmd[-1])) for _, pod, cmd in cluster.execs] == [
            ("faulty-app-abc12-0", list(ERRORS))
        ]

    def test_retries_are_bounded(self, make_backend, cluster, clock, spec, stable):
        """A canary that never gets a serving pod is tried a bounded number of times, then given up."""
        cluster.serving_pods = {"faulty-app": []}
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.set_canary_faults(ERRORS)
        for _ in range(40):
            clock.set(clock.now() + 6)
            backend.observe()
        lists = [c for c in cluster.calls if c[0] == "list_pods"]
        assert len(lists) == 12
        assert "gave up after 12 failed attempts" in backend.diagnostics()["fault-injection"]

    def test_replacement_pod_gets_the_faults(self, make_backend, cluster, clock, spec, stable):
        """A pod that appears after injection (a replacement) gets the current fault list too."""
        cluster.serving_pods = {"faulty-app": ["a"]}
        backend = make_backend()
        backend.deploy(spec, stable)
        backend.set_canary_faults(ERRORS)
        cluster.serving_pods = {"faulty-app": ["a", "b"]}
        clock.set(clock.now() + 6)
        backend.observe()
        assert [pod for _, pod, _ in cluster.execs] == ["a", "b"]

    @pytest.mark.parametrize("kind", ["crash", "memory_leak"])
    def test_restarting_faults_belong_in_the_pod_template(self, make_backend, cluster, spec, stable, kind):
        """A run-time fault whose effect restarts the container would heal on restart: refused, located."""
        backend = make_backend()
        backend.deploy(spec, stable)
        with pytest.raises(InputError, match=r"fault.spec: .*revision.faults"):
            backend.set_canary_faults(({"kind": kind, "after_seconds": 1},))
        assert cluster.execs == []


class TestRequiredCrds:
    def test_metric_templates_are_required(self, make_backend, cluster):
        """cluster/app deploys MetricTemplates, so preflight fails without their CRD."""
        assert ("flagger.app", "metrictemplates") in TRAEFIK.crds
        cluster.crds.discard(("flagger.app", "metrictemplates"))
        checks = {c.name: c for c in make_backend().preflight()}
        assert not checks["crd:metrictemplates.flagger.app"].ok
