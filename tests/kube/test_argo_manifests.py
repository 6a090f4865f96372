"""The packaged Argo Rollouts app: offline schema checks, per-run tailoring, the time scale, the trigger."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.backends.kubernetes.argo_manifests import (
    PACKAGED_ARGO_MANIFESTS,
    adopt_rollout,
    rollout_template_patch,
    scale_argo,
    tailor_argo,
)
from harness.backends.kubernetes.manifests import REVISION_ANNOTATION, find, render_kustomization
from harness.errors import CanarySpecError
from harness.model import Revision
from harness.scenario.argo_rollout import parse_bundle

SCHEMAS = Path(__file__).parent / "schemas"


def schema(kind: str) -> dict:
    return json.loads((SCHEMAS / f"{kind.lower()}.json").read_text())["schema"]


def rendered() -> list[dict]:
    return render_kustomization(PACKAGED_ARGO_MANIFESTS)


def tailored(**overrides: object) -> list[dict]:
    args: dict = {
        "namespace": "canary-chaos-ab12",
        "host": "canary-chaos-ab12.faulty-app.local",
        "stable": Revision(version="v1", faults=(), replicas=2),
        "admin_token": "t0ken",
    }
    args.update(overrides)
    return tailor_argo(rendered(), **args)


class TestPackaged:
    def test_kinds(self):
        kinds = sorted(m["kind"] for m in rendered())
        assert kinds == ["AnalysisTemplate", "IngressRoute", "Rollout", "Secret", "Service", "Service",
                         "TraefikService"]  # fmt: skip

    def test_the_emulation_loads_it_unchanged(self):
        """The local emulation's loader reads these files: one Rollout, its template, its TraefikService."""
        bundle = parse_bundle(yaml.safe_dump_all(rendered()))
        assert bundle.rollout.traefik_service == "faulty-app"
        assert set(bundle.templates) == {"success-rate"}

    def test_rollout_schema_rejects_a_bad_step(self):
        rollout = find(rendered(), "Rollout", "faulty-app")
        jsonschema.validate(rollout, schema("Rollout"))
        rollout["spec"]["strategy"]["canary"]["steps"][0] = {"setWeight": "twenty"}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(rollout, schema("Rollout"))

    def test_template_schema_rejects_a_metric_without_a_name(self):
        template = find(rendered(), "AnalysisTemplate", "success-rate")
        del template["spec"]["metrics"][0]["name"]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(template, schema("AnalysisTemplate"))


class TestTailor:
    def test_namespace_host_token_and_service_argument(self):
        out = tailored(image="registry.example/faulty-app:0.1.0")
        assert {m["metadata"]["namespace"] for m in out} == {"canary-chaos-ab12"}
        rollout = find(out, "Rollout", "faulty-app")
        args = rollout["spec"]["strategy"]["canary"]["analysis"]["args"]
        assert args == [{"name": "service", "value": "canary-chaos-ab12-faulty-app-canary"}]
        container = rollout["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "registry.example/faulty-app:0.1.0"
        assert {"name": "APP_VERSION", "value": "v1"} in container["env"]
        route = find(out, "IngressRoute", "faulty-app")["spec"]["routes"][0]
        assert route["match"] == "Host(`canary-chaos-ab12.faulty-app.local`)"
        assert find(out, "Secret", "faulty-app-admin")["stringData"] == {"token": "t0ken"}
        assert find(rendered(), "Secret", "faulty-app-admin")["stringData"]["token"] == "replace-me"


class TestScale:
    def test_durations_divided(self):
        out, changes = scale_argo(tailored(), 4)
        rollout = find(out, "Rollout", "faulty-app")
        steps = rollout["spec"]["strategy"]["canary"]["steps"]
        assert [s["pause"]["duration"] for s in steps if "pause" in s] == ["15s"] * 4
        assert rollout["spec"]["progressDeadlineSeconds"] == 150
        assert rollout["spec"]["strategy"]["canary"]["abortScaleDownDelaySeconds"] == 8
        metric = find(out, "AnalysisTemplate", "success-rate")["spec"]["metrics"][0]
        assert metric["interval"] == "15s"
        assert "[15s]" in metric["provider"]["prometheus"]["query"]
        assert "[1m]" not in metric["provider"]["prometheus"]["query"]
        env = rollout["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "TIME_SCALE", "value": "4"} in env
        assert ("spec.strategy.canary.steps[1].pause.duration", "1m", "15s") in changes

    def test_a_window_below_three_scrapes_is_refused_naming_the_field(self):
        with pytest.raises(CanarySpecError, match=r"spec\.metrics\[0\]\.interval"):
            scale_argo(tailored(), 5, scrape_interval=5)

    def test_scale_one_changes_nothing(self):
        out, changes = scale_argo(tailored(), 1)
        assert (out, changes) == (tailored(), [])


class TestTrigger:
    def test_patch_sends_the_whole_template_with_the_revision(self):
        rollout = find(tailored(), "Rollout", "faulty-app")
        patch = rollout_template_patch(rollout, {REVISION_ANNOTATION: "v2-1"}, {"APP_VERSION": "v2"})
        template = patch["spec"]["template"]
        assert template["metadata"]["annotations"][REVISION_ANNOTATION] == "v2-1"
        assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "true"  # kept
        container = template["spec"]["containers"][0]
        assert container["image"] == rollout["spec"]["template"]["spec"]["containers"][0]["image"]
        assert [e for e in container["env"] if e["name"] == "APP_VERSION"] == [
            {"name": "APP_VERSION", "value": "v2"}
        ]
        assert any(e["name"] == "ADMIN_TOKEN" for e in container["env"])  # the secretKeyRef stays


REPO = Path(__file__).resolve().parents[2]
ARGO_SCENARIOS = sorted((REPO / "scenarios").glob("argo-*.yaml"))


class TestShippedScenarios:
    @pytest.mark.parametrize("path", ARGO_SCENARIOS, ids=lambda p: p.stem)
    def test_adopted_at_the_nightly_scale_and_valid(self, path: Path):
        """Each shipped Argo scenario's strategy and templates on our app, at the nightly's --time-scale 2,
        still validate against Argo's CRD schemas and load in the emulation."""
        from harness.scenario.loader import load_scenario

        bundle = load_scenario(path).rollout
        assert bundle is not None
        adopted = adopt_rollout(
            rendered(), [dict(m) for m in bundle.manifests], prometheus_address="http://p:9090"
        )
        out, _ = scale_argo(
            tailor_argo(adopted, namespace="ns", host="h", stable=Revision("v1"), admin_token="t"), 2
        )
        for manifest in out:
            if manifest["kind"] in ("Rollout", "AnalysisTemplate"):
                jsonschema.validate(manifest, schema(manifest["kind"]))
        parse_bundle(yaml.safe_dump_all(out))
        templates = [m for m in out if m["kind"] == "AnalysisTemplate"]
        assert templates
        addresses = {m["provider"]["prometheus"]["address"] for t in templates for m in t["spec"]["metrics"]}
        assert addresses == {"http://p:9090"}

    def test_the_default_scale_is_refused_for_30s_intervals(self):
        from harness.scenario.loader import load_scenario

        bundle = load_scenario(REPO / "scenarios" / "argo-5xx-first-step.yaml").rollout
        assert bundle is not None
        adopted = adopt_rollout(
            rendered(), [dict(m) for m in bundle.manifests], prometheus_address="http://p:9090"
        )
        with pytest.raises(CanarySpecError, match="3 scrape intervals"):
            scale_argo(adopted, 4)
