"""Pointing the harness at any cluster: options, packaged manifests, pinned image, preflight per option."""

from __future__ import annotations

import fnmatch
import re
import socket
import tomllib
from pathlib import Path

import yaml
from click.testing import CliRunner

from harness.backends.base import ClusterTarget
from harness.backends.kubernetes.backend import KubernetesOptions
from harness.backends.kubernetes.cluster_provider import cluster_provider
from harness.backends.kubernetes.manifests import PACKAGED_MANIFESTS, find, render_kustomization, tailor
from harness.model import Revision
from harness.run.factory import kubernetes_options

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
PACKAGED = REPO / "harness" / "data" / "cluster"


def images(objects: list[dict]) -> list[str]:
    return [
        c["image"]
        for o in objects
        if o["kind"] == "Deployment"
        for c in o["spec"]["template"]["spec"]["containers"]
    ]


class TestPackagedManifests:
    def test_default_is_the_package_data(self):
        """The backend's default manifests are inside the package, not a path relative to the cwd."""
        assert KubernetesOptions(context_allow=()).manifests_dir is None  # the provider's packaged one
        assert cluster_provider("traefik").manifests_dir == PACKAGED_MANIFESTS
        assert cluster_provider("gatewayapi:v1beta1").manifests_dir == PACKAGED_MANIFESTS.parent / "linkerd"
        assert PACKAGED_MANIFESTS.is_relative_to(REPO / "harness")
        assert (PACKAGED_MANIFESTS / "kustomization.yaml").is_file()

    def test_every_manifest_file_is_declared_package_data(self):
        """pyproject's package-data globs cover every file under harness/data (so wheels carry them)."""
        globs = PYPROJECT["tool"]["setuptools"]["package-data"]["harness"]
        files = [p.relative_to(REPO / "harness").as_posix() for p in PACKAGED.rglob("*") if p.is_file()]
        assert files
        uncovered = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
        assert uncovered == []

    def test_repo_kustomization_points_at_the_package(self):
        """`kubectl apply -k cluster/app` and the harness render the same objects."""
        assert render_kustomization(REPO / "cluster" / "app") == render_kustomization(PACKAGED_MANIFESTS)


class TestPinnedImages:
    def test_app_and_receiver_run_the_pinned_app_image(self):
        """Both Deployments name canary-chaos/faulty-app:<project version>; no public image is pulled."""
        assert images(render_kustomization(PACKAGED_MANIFESTS)) == [f"canary-chaos/faulty-app:{VERSION}"] * 2

    def test_bootstrap_builds_that_image_before_the_receiver(self):
        """bootstrap.sh tags the build with the project version, and builds before applying the receiver."""
        text = (REPO / "cluster" / "bootstrap.sh").read_text()
        assert 'APP_IMAGE="canary-chaos/faulty-app:${PROJECT_VERSION}"' in text
        assert "pyproject.toml" in text
        assert text.index("docker build") < text.index('-k "${CLUSTER_DIR}/event-receiver"')
        assert ":dev" not in text
        assert ":latest" not in text

    def test_image_option_reaches_both_deployments(self):
        """--image replaces the app image in the app and the event receiver."""
        out = tailor(
            render_kustomization(PACKAGED_MANIFESTS),
            namespace="n",
            host="h",
            stable=Revision("v1"),
            admin_token="t",
            image="registry.example/faulty-app:0.1.0",
        )
        assert images(out) == ["registry.example/faulty-app:0.1.0"] * 2


class TestOptions:
    def test_cli_options_reach_kubernetes_options(self, tmp_path, monkeypatch):
        """Each `run` option lands in its KubernetesOptions field (through RunOptions.cluster)."""
        import harness.run.execute

        seen = {}

        def fake_run(scenarios, options):
            seen["cluster"] = options.cluster
            raise SystemExit(0)

        monkeypatch.setattr(harness.run.execute, "run_scenarios", fake_run)
        from harness.cli import main

        args = [
            "run",
            str(REPO / "scenarios" / "http-5xx-spike.yaml"),
            "--backend=kubernetes",
            "--kube-context=prod-like",
            "--ingress-url=http://traefik.example:80",
            "--ingress-namespace=edge",
            "--prometheus-url=http://prom.example:9090",
            "--flagger-namespace=flagger",
            "--image=registry.example/faulty-app:0.1.0",
            f"--manifests={PACKAGED_MANIFESTS}",
            "--kube-request-timeout=12",
        ]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        options = kubernetes_options(seen["cluster"], KubernetesOptions(context_allow=("prod-like",)))
        assert (options.kube_context, options.ingress_url, options.prometheus_url) == (
            "prod-like",
            "http://traefik.example:80",
            "http://prom.example:9090",
        )
        assert (options.flagger_namespace, options.image) == ("flagger", "registry.example/faulty-app:0.1.0")
        assert (options.manifests_dir, options.request_timeout) == (PACKAGED_MANIFESTS, 12.0)
        assert options.ingress_namespace == "edge"

    def test_unset_options_keep_the_defaults(self):
        """No option given: the kind defaults stay."""
        base = KubernetesOptions(context_allow=())
        assert kubernetes_options(ClusterTarget(), base) == base


class TestPreflightNamesTheWrongOption:
    def checks(self, make_backend, **overrides):
        return {c.name: c for c in make_backend(**overrides).preflight()}

    def test_unreachable_ingress(self, make_backend):
        """Nothing listening at --ingress-url: that check fails and names the URL."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        check = self.checks(make_backend, ingress_url=url)["option:--ingress-url"]
        assert not check.ok
        assert url in check.detail

    def test_reachable_ingress(self, make_backend, ingress_url):
        """Any HTTP answer from the entrypoint (Traefik's 404 for an unknown host) is fine."""
        check = self.checks(make_backend, ingress_url=ingress_url)["option:--ingress-url"]
        assert check.ok, check.detail
        assert "HTTP 404" in check.detail

    def test_bad_manifests_directory(self, make_backend, tmp_path):
        """A kustomization without the app's objects fails --manifests with the missing object."""
        (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["only.yaml"]}))
        (tmp_path / "only.yaml").write_text(
            yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}})
        )
        check = self.checks(make_backend, manifests_dir=tmp_path)["option:--manifests"]
        assert not check.ok
        assert "no Deployment/faulty-app" in check.detail

    def test_unpinned_image(self, make_backend):
        """:latest or an untagged reference fails --image."""
        for image in ("faulty-app:latest", "faulty-app", "Faulty App"):
            check = self.checks(make_backend, image=image)["option:--image"]
            assert not check.ok, image
        assert self.checks(make_backend, image="registry.example/faulty-app:0.1.0")["option:--image"].ok

    def test_wrong_flagger_namespace(self, make_backend):
        """No Flagger in --flagger-namespace: the check says which option to fix."""
        check = self.checks(make_backend, flagger_namespace="flux")["flagger-ready"]
        assert not check.ok
        assert "--flagger-namespace flux" in check.detail

    def test_prometheus_url_named(self, make_backend, cluster):
        """A failing Prometheus at --prometheus-url names the option and URL."""
        from harness.backends.kubernetes.backend import KubernetesBackend

        backend = make_backend(prometheus_url="http://127.0.0.1:1")
        assert isinstance(backend, KubernetesBackend)
        check = {c.name: c for c in backend.preflight()}["prometheus"]
        assert not check.ok
        assert check.detail.startswith("--prometheus-url http://127.0.0.1:1: ")


def test_find_requires_objects():
    """The helper the manifests check uses reports the missing object by kind and name."""
    assert re.search("Canary/faulty-app", str(_missing()))


def _missing() -> Exception:
    try:
        find([], "Canary", "faulty-app")
    except Exception as exc:  # InputError
        return exc
    raise AssertionError("find did not raise")


def test_a_linkerd_scenario_gets_the_linkerd_cluster_setup(tmp_path: Path, monkeypatch) -> None:
    """A gatewayapi:* scenario on kubernetes: provider, linkerd-viz' 10 s scrapes, the Linkerd manifests by
    default (the backend resolves them), and the 1m interval refused at scale 4 (< 3 scrapes)."""
    import pytest

    import harness.backends.kubernetes.connect
    from harness.errors import CanarySpecError
    from harness.run.factory import make_backend
    from harness.run.options import RunOptions
    from harness.scenario.loader import load_scenario

    seen = {}

    def connect(options, *, context=None, clock=None):
        seen["options"] = options
        return "backend"

    monkeypatch.setattr(harness.backends.kubernetes.connect, "connect_backend", connect)
    scenario = load_scenario(REPO / "scenarios" / "linkerd-5xx.yaml")
    options = RunOptions(backend="kubernetes", report_dir=tmp_path, time_scale=2.0)
    assert make_backend(scenario, options, tmp_path) == "backend"
    kube = seen["options"]
    assert (kube.provider, kube.scrape_interval_seconds, kube.time_scale) == ("gatewayapi:v1beta1", 10.0, 2.0)
    assert cluster_provider(kube.provider).prometheus == ("linkerd-viz", "prometheus", 9090)
    from harness.cli import _check_cluster_scale

    with pytest.raises(CanarySpecError, match="scrape"):
        _check_cluster_scale([scenario], 4.0, None, None)
    _check_cluster_scale([scenario], 2.0, None, None)
