"""ArgoRolloutsBackend against FakeCluster: the allowlist, and preflight naming what is missing."""

from __future__ import annotations

import pytest

from harness.backends.kubernetes.argo_backend import ArgoRolloutsBackend
from harness.backends.kubernetes.backend import KubernetesOptions
from harness.clock import FakeClock
from harness.errors import SafetyError
from harness.testing.cluster import FakeCluster, _ready_deployment


class Prometheus:
    def query(self, promql: str):  # type: ignore[no-untyped-def]
        return {"resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}


def backend(cluster: FakeCluster, **options: object) -> ArgoRolloutsBackend:
    opts = KubernetesOptions(context_allow=("kind-canary-chaos",), check_ingress=False, **options)  # type: ignore[arg-type]
    return ArgoRolloutsBackend(cluster, opts, clock=cluster.clock, prometheus=Prometheus())


def test_a_context_not_allowed_is_refused_before_any_call() -> None:
    cluster = FakeCluster(clock=FakeClock(), context="prod")
    with pytest.raises(SafetyError):
        backend(cluster)
    assert cluster.calls == []


def test_preflight_names_the_missing_controller_and_crds() -> None:
    cluster = FakeCluster(clock=FakeClock())
    checks = {c.name: c for c in backend(cluster).preflight()}
    assert not checks["argo-rollouts controller"].ok
    assert "cluster/bootstrap.sh --controller argo-rollouts" in checks["argo-rollouts controller"].detail
    assert not checks["crd rollouts.argoproj.io"].ok
    assert checks["crd traefikservices.traefik.io"].ok
    assert checks["prometheus"].ok


def test_preflight_passes_on_a_bootstrapped_cluster() -> None:
    cluster = FakeCluster(clock=FakeClock())
    cluster.crds |= {("argoproj.io", p) for p in ("rollouts", "analysistemplates", "analysisruns")}
    cluster.deployments[("argo-rollouts", "argo-rollouts")] = _ready_deployment(
        "argo-rollouts", "argo-rollouts"
    )
    assert all(c.ok for c in backend(cluster).preflight()), backend(cluster).preflight()
