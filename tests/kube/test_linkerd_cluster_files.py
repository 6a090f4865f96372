"""`bootstrap.sh --mesh linkerd`: pinned Linkerd charts, Flagger's Linkerd values, generated certificates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.kube.bootstrap_script import BOOTSTRAP, REPO, run_bootstrap

LINKERD = REPO / "cluster" / "linkerd"
INSTALL = LINKERD / "install.sh"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True, timeout=20).stdout


class TestScripts:
    def test_both_scripts_parse(self):
        """bash -n accepts bootstrap.sh and linkerd/install.sh."""
        for script in (BOOTSTRAP, INSTALL):
            subprocess.run(["bash", "-n", str(script)], check=True, timeout=10)

    def test_linkerd_charts_are_pinned_to_flaggers_e2e(self):
        """Linkerd stable-2.14.0 charts (Flagger v1.44.0 test/linkerd/install.sh), every install pinned."""
        text = INSTALL.read_text()
        assert "set -euo pipefail" in text
        assert 'LINKERD_CRDS_CHART_VERSION="1.8.0"' in text
        assert 'LINKERD_CONTROL_PLANE_CHART_VERSION="1.15.0"' in text
        assert 'LINKERD_VIZ_CHART_VERSION="30.11.0"' in text
        assert text.count("helm upgrade --install") == text.count("--version") == 3
        for value in ("identityTrustAnchorsPEM", "identity.issuer.tls.crtPEM", "identity.issuer.tls.keyPEM"):
            assert f"--set-file {value}=" in text

    def test_bootstrap_layers_the_linkerd_values_only_with_the_mesh(self):
        """--mesh linkerd runs install.sh and adds linkerd/flagger-values.yaml to the one Flagger release."""
        text = BOOTSTRAP.read_text()
        assert '"${CLUSTER_DIR}/linkerd/install.sh"' in text
        assert 'FLAGGER_VALUES+=(--values "${CLUSTER_DIR}/linkerd/flagger-values.yaml")' in text
        assert text.count("helm upgrade --install flagger") == 1

    def test_unknown_mesh_is_refused_before_touching_a_cluster(self, tmp_path: Path):
        """--mesh istio stops with a clear message and exit 1, without kubectl or helm."""
        done = run_bootstrap(tmp_path, "--mesh", "istio")
        assert done.returncode == 1
        assert "unknown mesh: istio" in done.stderr


class TestManifests:
    def test_flagger_runs_as_the_linkerd_tutorial_installs_it(self):
        """meshProvider gatewayapi:v1beta1, linkerd-viz' Prometheus, the viz AuthorizationPolicy."""
        values = yaml.safe_load((LINKERD / "flagger-values.yaml").read_text())
        assert values["meshProvider"] == "gatewayapi:v1beta1"
        assert values["metricsServer"] == "http://prometheus.linkerd-viz:9090"
        assert values["linkerdAuthPolicy"] == {"create": True, "namespace": "linkerd-viz"}

    def test_namespace_is_injected(self):
        """Pods of the Linkerd namespace get the proxy."""
        namespace = yaml.safe_load((LINKERD / "namespace.yaml").read_text())
        assert namespace["kind"] == "Namespace"
        assert namespace["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"


@needs_openssl
class TestCertificates:
    def test_trust_anchor_and_issuer(self, tmp_path: Path):
        """A P-256 root CA and an issuer CA (pathlen 0) it signed, with Linkerd's names; keys private."""
        subprocess.run(
            [str(INSTALL), "--certs-only", str(tmp_path)], check=True, capture_output=True, timeout=30
        )
        ca, issuer = str(tmp_path / "ca.crt"), str(tmp_path / "issuer.crt")
        assert "issuer.crt: OK" in openssl("verify", "-CAfile", ca, issuer)
        text = openssl("x509", "-in", issuer, "-noout", "-text")
        assert "CN = identity.linkerd.cluster.local" in text or "CN=identity.linkerd.cluster.local" in text
        assert "CA:TRUE, pathlen:0" in text
        assert "prime256v1" in text or "P-256" in text
        assert "root.linkerd.cluster.local" in openssl("x509", "-in", ca, "-noout", "-subject")
        assert (tmp_path / "issuer.key").stat().st_mode & 0o077 == 0

    def test_existing_certificates_are_kept(self, tmp_path: Path):
        """A rerun reuses the trust anchor (a new one would cut meshed pods off)."""
        subprocess.run(
            [str(INSTALL), "--certs-only", str(tmp_path)], check=True, capture_output=True, timeout=30
        )
        before = (tmp_path / "ca.crt").read_bytes()
        done = subprocess.run(
            [str(INSTALL), "--certs-only", str(tmp_path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "Reusing" in done.stderr
        assert (tmp_path / "ca.crt").read_bytes() == before


FAKE_TOOL = """#!/bin/bash
echo "$(basename "$0") $*" >> "$TOOL_LOG"
if [[ "$(basename "$0")" == kubectl && "$1 $2" == "config current-context" ]]; then echo kind-canary-chaos; fi
if [[ "$(basename "$0")" == kubectl && "$*" == *jsonpath* ]]; then echo "${TRAEFIK_CONTAINERS:-traefik}"; fi
exit 0
"""


def bootstrap_with_fake_tools(tmp_path: Path, *args: str, traefik_containers: str = "") -> list[str]:
    """Run bootstrap.sh with kubectl and helm that only log their argv: the install order, as run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("kubectl", "helm"):
        (bin_dir / tool).write_text(FAKE_TOOL)
        (bin_dir / tool).chmod(0o755)
    log = tmp_path / "tools.log"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "TOOL_LOG": str(log),
           "TRAEFIK_CONTAINERS": traefik_containers}  # fmt: skip
    done = subprocess.run(
        ["bash", str(BOOTSTRAP), "--skip-image", *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines()


@needs_openssl
class TestMeshedTraefik:
    """The load enters through Traefik: on Linkerd it must be meshed, or no request is split."""

    def test_linkerd_is_installed_before_traefik_and_traefik_is_injected(self, tmp_path: Path):
        calls = bootstrap_with_fake_tools(
            tmp_path, "--mesh", "linkerd", traefik_containers="traefik linkerd-proxy"
        )
        installs = [c.split()[3] for c in calls if c.startswith("helm upgrade --install")]
        assert installs == ["linkerd-crds", "linkerd-control-plane", "linkerd-viz", "traefik", "flagger"]
        (traefik,) = [c for c in calls if c.startswith("helm upgrade --install traefik")]
        assert (
            f"--values {REPO}/cluster/traefik-values.yaml --values {REPO}/cluster/linkerd/traefik-values.yaml"
            in traefik
        )
        assert not [c for c in calls if "rollout restart" in c]
        # Flagger is admitted to linkerd-viz' Prometheus by its mesh identity: its namespace is injected first
        annotate = calls.index(
            "kubectl annotate namespace flagger-system linkerd.io/inject=enabled --overwrite"
        )
        assert annotate < next(
            i for i, c in enumerate(calls) if c.startswith("helm upgrade --install flagger")
        )

    def test_an_unmeshed_traefik_from_an_earlier_bootstrap_is_restarted(self, tmp_path: Path):
        calls = bootstrap_with_fake_tools(tmp_path, "--mesh", "linkerd", traefik_containers="traefik")
        assert "kubectl -n traefik rollout restart deployment/traefik" in calls
        assert "kubectl -n flagger-system rollout restart deployment" in calls

    def test_without_the_mesh_traefik_is_not_injected(self, tmp_path: Path):
        calls = bootstrap_with_fake_tools(tmp_path)
        (traefik,) = [c for c in calls if c.startswith("helm upgrade --install traefik")]
        assert "cluster/linkerd/" not in traefik
        assert not [c for c in calls if "cluster/linkerd/" in c or "linkerd.io/inject" in c]
        assert not [c for c in calls if c.startswith("helm upgrade --install linkerd")]

    def test_the_values_inject_traefiks_pods(self):
        values = yaml.safe_load((LINKERD / "traefik-values.yaml").read_text())
        assert values == {"deployment": {"podAnnotations": {"linkerd.io/inject": "enabled"}}}
