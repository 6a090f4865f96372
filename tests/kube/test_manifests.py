"""Every YAML under cluster/ against compact schemas; kustomize rendering; per-run tailoring; adoption."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from harness.backends.kubernetes.manifests import (
    AdoptionWarning,
    adopt_analysis,
    find,
    render_kustomization,
    tailor,
)
from harness.errors import CanarySpecError, InputError
from harness.model import Revision

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "cluster"
PACKAGED = REPO / "harness" / "data" / "cluster"  # the app and receiver manifests (package data)
# Flagger v1.44.0 and Traefik chart 37.4.0 CRD schemas (see schemas/NOTICE); core kinds: kubernetes-validate.
CRD_SCHEMAS = {
    (wrapped["group"], wrapped["kind"]): wrapped
    for wrapped in (json.loads(p.read_text()) for p in (Path(__file__).parent / "schemas").glob("*.json"))
}
SCHEMAS = {kind: wrapped["schema"] for (_, kind), wrapped in CRD_SCHEMAS.items()}
CORE_KINDS = {"Deployment", "Service", "ConfigMap", "Secret", "Namespace", "ClusterRole"}
KUBERNETES_VERSION = "1.31.0"  # kind's node image in the nightly


def validate_object(doc: dict) -> None:
    """The upstream schema of the object's kind (CRD openAPIV3Schema, or kubernetes-validate)."""
    kind = doc["kind"]
    if kind in CORE_KINDS:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        return
    group, _, version = doc["apiVersion"].partition("/")
    wrapped = CRD_SCHEMAS[(group, kind)]
    assert version == wrapped["version"], (
        f"{kind}: {doc['apiVersion']} is not the vendored {wrapped['version']}"
    )
    jsonschema.validate(doc, wrapped["schema"])


# Files that are not Kubernetes objects, with the key each must have.
NON_OBJECTS = {
    "kind/kind-config.yaml": "nodes",
    "traefik-values.yaml": "metrics",
    "flagger-values.yaml": "meshProvider",
    "linkerd/flagger-values.yaml": "meshProvider",
    "linkerd/traefik-values.yaml": "deployment",
    "argo/argo-rollouts-values.yaml": "controller",
    "app/kustomization.yaml": "resources",
    "event-receiver/kustomization.yaml": "resources",
    "packaged/app/kustomization.yaml": "resources",
    "packaged/event-receiver/kustomization.yaml": "resources",
    "packaged/argo/kustomization.yaml": "resources",
    "packaged/linkerd/kustomization.yaml": "resources",
}
OTHER_KINDS = {"ConfigMap", "Secret", "Namespace"}


def all_documents() -> list[tuple[str, dict]]:
    docs = []
    for root, prefix in ((CLUSTER, ""), (PACKAGED, "packaged/")):
        for path in sorted(root.rglob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc:
                    docs.append((prefix + str(path.relative_to(root)), doc))
    return docs


def rendered() -> list[dict]:
    return render_kustomization(CLUSTER / "app")


class TestSchemas:
    @pytest.mark.parametrize(("file", "doc"), all_documents(), ids=lambda v: v if isinstance(v, str) else "")
    def test_every_document_is_known_and_valid(self, file, doc):
        """Each YAML document under cluster/ validates against its kind's schema or is a known config file."""
        if file in NON_OBJECTS:
            assert NON_OBJECTS[file] in doc
            return
        kind = doc.get("kind")
        assert kind in SCHEMAS or kind in CORE_KINDS, f"{file}: no schema for kind {kind!r}"
        validate_object(doc)
        assert "namespace" not in doc.get("metadata", {}), f"{file}: manifests must be namespace-agnostic"

    def test_schema_rejects_two_progression_modes(self):
        """The analysis oneOf (as in Flagger's CRD) rejects stepWeight together with stepWeights."""
        canary = find(rendered(), "Canary", "faulty-app")
        canary["spec"]["analysis"]["stepWeights"] = [10, 20]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(canary, SCHEMAS["Canary"])

    def test_schema_rejects_bad_interval_and_route_kind(self):
        """A '1 minute' interval and a route service kind other than Service/TraefikService are refused."""
        objects = rendered()
        canary, route = find(objects, "Canary", "faulty-app"), find(objects, "IngressRoute", "faulty-app")
        canary["spec"]["analysis"]["interval"] = "one minute"
        route["spec"]["routes"][0]["services"][0]["kind"] = "Ingress"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(canary, SCHEMAS["Canary"])
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(route, SCHEMAS["IngressRoute"])


class TestAppContract:
    def test_canary_is_the_specified_traefik_canary(self):
        """provider traefik, 1m/5/50/10, builtins min 99 / max 500, two template metrics with intervals."""
        spec = find(rendered(), "Canary", "faulty-app")["spec"]
        analysis = spec["analysis"]
        assert spec["provider"] == "traefik"
        assert (
            analysis["interval"],
            analysis["threshold"],
            analysis["maxWeight"],
            analysis["stepWeight"],
        ) == ("1m", 5, 50, 10)
        metrics = {m["name"]: m for m in analysis["metrics"]}
        assert metrics["request-success-rate"]["thresholdRange"] == {"min": 99}
        assert metrics["request-duration"]["thresholdRange"] == {"max": 500}
        templated = [m for m in analysis["metrics"] if "templateRef" in m]
        assert {m["templateRef"]["name"] for m in templated} == {
            "error-rate-vs-primary",
            "latency-p95-vs-primary",
        }
        assert all(m.get("interval") for m in templated)

    def test_references_resolve(self):
        """IngressRoute → TraefikService of the Canary service; templates and Secret exist; labels match."""
        objects = rendered()
        canary = find(objects, "Canary", "faulty-app")
        route = find(objects, "IngressRoute", "faulty-app")["spec"]["routes"][0]
        assert route["services"][0] == {"name": "faulty-app", "kind": "TraefikService", "port": 80}
        assert route["match"] == "Host(`faulty-app.local`)"
        for metric in canary["spec"]["analysis"]["metrics"]:
            if "templateRef" in metric:
                find(objects, "MetricTemplate", metric["templateRef"]["name"])
        deployment = find(objects, "Deployment", "faulty-app")
        pod = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"] == {"app": "faulty-app"}
        assert pod["metadata"]["labels"]["app"] == "faulty-app"
        container = pod["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        env = {e["name"]: e for e in container["env"]}
        assert env["ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "faulty-app-admin"
        assert {"FAULTS", "APP_VERSION"} <= set(env)
        find(objects, "Secret", "faulty-app-admin")

    def test_templates_query_traefik_series_with_no_error_fallback(self):
        """Both templates use Traefik series per child service; the error ratio keeps `or vector(0)`."""
        objects = rendered()
        error = find(objects, "MetricTemplate", "error-rate-vs-primary")["spec"]["query"]
        latency = find(objects, "MetricTemplate", "latency-p95-vs-primary")["spec"]["query"]
        assert error.count("or vector(0)") == 3
        assert "traefik_service_requests_total" in error
        assert "histogram_quantile(0.95" in latency
        for query in (error, latency):
            assert "{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd" in query
            assert "{{ namespace }}-{{ target }}-primary-[0-9a-zA-Z-]+@kubernetescrd" in query
            assert query.count("(") == query.count(")")

    def test_event_receiver_code_ships_in_its_config_map(self):
        """The receiver ConfigMap carries harness/data/cluster/event-receiver/receiver.py verbatim."""
        config_map = find(rendered(), "ConfigMap", "event-receiver")
        assert config_map["data"]["receiver.py"] == (PACKAGED / "event-receiver" / "receiver.py").read_text()

    @pytest.mark.skipif(
        shutil.which("kubectl") is None, reason="kubectl (for `kubectl kustomize`) not installed"
    )
    def test_render_matches_kubectl_kustomize(self):
        """Our kustomize subset renders the same objects as `kubectl kustomize cluster/app`."""
        out = subprocess.run(
            ["kubectl", "kustomize", str(CLUSTER / "app")],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
        theirs = sorted((d for d in yaml.safe_load_all(out) if d), key=key)
        assert theirs == sorted(rendered(), key=key)

    @pytest.mark.skipif(
        importlib.util.find_spec("harness.scenario.flagger_canary") is None, reason="spec_loader not present"
    )
    def test_canary_parses_with_spec_loader(self, tmp_path):
        """The Canary is accepted by the project's own Canary loader."""
        from harness.scenario import flagger_canary as spec_loader

        path = tmp_path / "canary.yaml"
        path.write_text(yaml.safe_dump(find(rendered(), "Canary", "faulty-app")))
        parsed = spec_loader.parse_canary(path) if hasattr(spec_loader, "parse_canary") else None
        assert parsed is not None
        assert parsed.analysis.threshold == 5

    def test_unsupported_kustomize_field_is_refused(self, tmp_path):
        """A kustomization using fields outside our subset fails loudly instead of deploying otherwise."""
        (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: [{path: x.yaml}]\n")
        with pytest.raises(InputError, match="unsupported kustomization fields"):
            render_kustomization(tmp_path)


class TestTailor:
    def test_tailor_sets_namespace_host_revision_and_token_without_mutating_input(self):
        """tailor() copies, then sets namespace, Host rule, revision env/annotation, replicas and token."""
        base = rendered()
        before = json.dumps(base, sort_keys=True)
        out = tailor(
            base,
            namespace="ns1",
            host="ns1.faulty-app.local",
            stable=Revision("v7", replicas=3),
            admin_token="tok",
        )
        assert json.dumps(base, sort_keys=True) == before
        assert {o["metadata"]["namespace"] for o in out} == {"ns1"}
        deployment = find(out, "Deployment", "faulty-app")
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["APP_VERSION"]["value"] == "v7"
        assert "valueFrom" in env["ADMIN_TOKEN"]
        assert deployment["spec"]["replicas"] == 3
        assert deployment["spec"]["template"]["metadata"]["annotations"]["canary-chaos.io/revision"] == "v7"
        assert (
            find(out, "IngressRoute", "faulty-app")["spec"]["routes"][0]["match"]
            == "Host(`ns1.faulty-app.local`)"
        )


THEIRS = """
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: checkout, namespace: payments}
spec:
  provider: traefik
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  service: {port: 9898}
  analysis:
    interval: 30s
    threshold: 3
    stepWeights: [5, 25, 50]
    metrics:
      - {name: request-success-rate, interval: 1m, thresholdRange: {min: 99.9}}
      - name: checkout-errors
        interval: 1m
        templateRef: {name: checkout-errors, namespace: observability}
        thresholdRange: {max: 1}
      - name: error-rate-vs-primary
        interval: 1m
        templateRef: {name: error-rate-vs-primary}
        thresholdRange: {max: 1.5}
"""


class TestAdoptAnalysis:
    def test_copies_only_the_analysis_block(self):
        """Their analysis replaces ours; target, service, provider and names stay ours."""
        ours = find(rendered(), "Canary", "faulty-app")
        adopted = adopt_analysis(THEIRS, ours, ["error-rate-vs-primary"], warn=lambda _: None)
        assert adopted["spec"]["analysis"]["stepWeights"] == [5, 25, 50]
        assert "stepWeight" not in adopted["spec"]["analysis"]
        assert adopted["spec"]["targetRef"]["name"] == "faulty-app"
        assert adopted["spec"]["service"] == ours["spec"]["service"]
        assert adopted["metadata"] == ours["metadata"]
        assert ours["spec"]["analysis"]["stepWeight"] == 10  # our manifest is untouched
        jsonschema.validate(adopted, SCHEMAS["Canary"])

    def test_warns_about_template_refs_not_deployed(self):
        """A templateRef to a template we do not deploy (or in another namespace) gives an AdoptionWarning."""
        ours = find(rendered(), "Canary", "faulty-app")
        with pytest.warns(
            AdoptionWarning,
            match=r"metrics\[1\] \(checkout-errors\): templateRef observability/checkout-errors",
        ):
            adopt_analysis(THEIRS, ours, ["error-rate-vs-primary"])

    def test_no_analysis_is_an_input_error(self):
        """A Canary without an analysis block cannot be adopted."""
        ours = find(rendered(), "Canary", "faulty-app")
        with pytest.raises(CanarySpecError, match=r"spec\.analysis"):
            adopt_analysis("kind: Canary\nspec: {}\n", ours)


class TestProgressDeadline:
    def tailored(self, seconds: int | None) -> list[dict]:
        return tailor(
            rendered(),
            namespace="ns1",
            host="h",
            stable=Revision("v1"),
            admin_token="t",
            progress_deadline_seconds=seconds,
        )

    def test_scenario_deadline_reaches_the_canary(self):
        """The scenario's progressDeadlineSeconds replaces cluster/app's 120, not only spec.analysis."""
        out = self.tailored(300)
        assert find(out, "Canary", "faulty-app")["spec"]["progressDeadlineSeconds"] == 300

    def test_deployment_deadline_is_at_least_the_canarys(self):
        """The Deployment's own deadline never fires before Flagger's (ProgressDeadlineExceeded is final)."""
        for seconds in (30, 120, 900):
            out = self.tailored(seconds)
            canary = find(out, "Canary", "faulty-app")["spec"]["progressDeadlineSeconds"]
            deployment = find(out, "Deployment", "faulty-app")["spec"]["progressDeadlineSeconds"]
            assert canary == seconds
            assert deployment >= canary

    def test_shipped_manifests_already_agree(self):
        """Applied by hand, cluster/app's Deployment deadline is not shorter than the Canary's."""
        objects = rendered()
        canary = find(objects, "Canary", "faulty-app")["spec"]["progressDeadlineSeconds"]
        assert find(objects, "Deployment", "faulty-app")["spec"]["progressDeadlineSeconds"] >= canary
