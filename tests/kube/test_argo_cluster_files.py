"""`cluster/bootstrap.sh --controller argo-rollouts`: the pinned chart, v1.9.1 on traefik.io."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.kube.bootstrap_script import BOOTSTRAP, REPO, run_bootstrap

VALUES = REPO / "cluster" / "argo" / "argo-rollouts-values.yaml"


class TestBootstrap:
    def test_chart_pinned_and_installed_only_with_the_controller(self):
        text = BOOTSTRAP.read_text()
        assert 'ARGO_ROLLOUTS_CHART_VERSION="2.41.0"' in text
        block = text.split('if [[ "$CONTROLLER" == argo-rollouts ]]; then', 1)[1].split("\nfi\n", 1)[0]
        assert "helm upgrade --install argo-rollouts argo/argo-rollouts" in block
        assert '--version "${ARGO_ROLLOUTS_CHART_VERSION}"' in block
        assert '--values "${CLUSTER_DIR}/argo/argo-rollouts-values.yaml"' in block
        for crd in ("rollouts.argoproj.io", "analysistemplates.argoproj.io", "analysisruns.argoproj.io"):
            assert crd in block

    def test_unknown_controller_is_refused_before_touching_a_cluster(self, tmp_path: Path):
        done = run_bootstrap(tmp_path, "--controller", "spinnaker")
        assert done.returncode == 1
        assert "unknown controller: spinnaker" in done.stderr


class TestValues:
    def test_controller_v1_9_1_routes_traefik_io(self):
        """Argo's default Traefik group is traefik.containo.us; Traefik 3.6 serves traefik.io/v1alpha1."""
        values = yaml.safe_load(VALUES.read_text())
        controller = values["controller"]
        assert controller["image"]["tag"] == "v1.9.1"
        assert "--traefik-api-group=traefik.io" in controller["extraArgs"]
        assert "--traefik-api-version=traefik.io/v1alpha1" in controller["extraArgs"]
        assert values["providerRBAC"]["providers"]["traefik"] is True
        assert values["installCRDs"] is True
