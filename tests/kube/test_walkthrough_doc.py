"""docs/kubernetes.md "On your own cluster": every option it names exists; the RBAC file covers the port."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
import yaml

from harness.backends.kubernetes.api import ClusterApi
from harness.cli import run, schedule

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "kubernetes.md"
BOOTSTRAP = REPO / "cluster" / "bootstrap.sh"
RBAC = REPO / "cluster" / "rbac" / "canary-chaos-runner.yaml"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def walkthrough() -> str:
    text = DOC.read_text()
    start = text.index("## On your own cluster")
    return text[start : text.index("\n## ", start + 3)]


def options_of(command: click.Command) -> set[str]:
    return {name for p in command.params for name in getattr(p, "opts", ()) if name.startswith("--")}


def bootstrap_options() -> set[str]:
    return set(re.findall(r"^\s+(--[a-z-]+)\)", BOOTSTRAP.read_text(), re.MULTILINE))


class TestWalkthrough:
    def test_the_brief_s_options_are_documented(self):
        section = walkthrough()
        for option in (
            "--kube-context",
            "--ingress-url",
            "--prometheus-url",
            "--flagger-namespace",
            "--image",
            "--manifests",
            "--kube-request-timeout",
            "--time-scale",
            "--parallel",
        ):
            assert f"`{option}" in section, f"{option} is not in the walkthrough's table"

    def test_every_option_named_exists(self):
        """Each ``--option`` in the section belongs to `canary-chaos run`/`schedule` or to bootstrap.sh."""
        known = options_of(run) | options_of(schedule) | bootstrap_options()
        lines = [line for line in walkthrough().splitlines() if not line.lstrip().startswith("kubectl ")]
        named = set(OPTION.findall("\n".join(lines)))
        assert named, "the walkthrough names no option"
        assert named <= known, f"named but not an option anywhere: {sorted(named - known)}"

    def test_the_run_command_in_the_doc_uses_only_run_options(self):
        block = walkthrough().split("canary-chaos run scenarios/", 1)[1].split("```", 1)[0]
        assert set(OPTION.findall(block)) <= options_of(run)


# Every ClusterApi method and the RBAC (group, resource, verb) its gateway call needs.
NEEDS: dict[str, set[tuple[str, str, str]]] = {
    "current_context": set(),
    "apply": {
        (g, r, v)
        for g, r in [
            ("apps", "deployments"),
            ("", "services"),
            ("", "configmaps"),
            ("", "secrets"),
            ("flagger.app", "canaries"),
            ("flagger.app", "metrictemplates"),
            ("traefik.io", "ingressroutes"),
            ("traefik.io", "traefikservices"),
            ("argoproj.io", "rollouts"),
            ("argoproj.io", "analysistemplates"),
            ("gateway.networking.k8s.io", "httproutes"),
        ]
        for v in ("create", "patch")
    },
    "create_namespace": {("", "namespaces", "create")},
    "delete_namespace": {("", "namespaces", "delete")},
    "get_namespace": {("", "namespaces", "get")},
    "list_namespaces": {("", "namespaces", "list")},
    "get_canary": {("flagger.app", "canaries", "get")},
    "get_custom_object": {("traefik.io", "traefikservices", "get"), ("argoproj.io", "rollouts", "get")},
    "list_custom_objects": {("argoproj.io", "analysisruns", "list")},
    "watch_canary": {("flagger.app", "canaries", "watch")},
    "watch_custom_object": {("argoproj.io", "rollouts", "watch")},
    "patch_deployment_template": {("apps", "deployments", "get"), ("apps", "deployments", "patch")},
    "patch_custom_object": {("argoproj.io", "rollouts", "patch")},
    "list_events": {("", "events", "list")},
    "get_deployment": {("apps", "deployments", "get")},
    "list_deployments": {("apps", "deployments", "list")},
    "read_pod_logs": {("", "pods", "list"), ("", "pods/log", "get")},
    "list_pods": {("", "pods", "list")},
    "list_pod_details": {("", "pods", "list")},
    "crd_exists": {("apiextensions.k8s.io", "customresourcedefinitions", "get")},
    "service_proxy_get": {("", "services/proxy", "get")},
    "pod_proxy_get": {("", "pods/proxy", "get")},
    "exec_in_pod": {("", "pods/exec", "create"), ("", "pods/exec", "get")},
}


def granted() -> set[tuple[str, str, str]]:
    role = yaml.safe_load(RBAC.read_text())
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


class TestRbac:
    def test_every_port_method_has_its_permissions_listed(self):
        methods = {n for n, _ in inspect.getmembers(ClusterApi, inspect.isfunction) if not n.startswith("_")}
        assert methods <= set(NEEDS), f"ClusterApi methods without an RBAC entry here: {methods - set(NEEDS)}"

    def test_the_cluster_role_grants_them(self):
        missing = set().union(*NEEDS.values()) - granted()
        assert not missing, f"cluster/rbac/canary-chaos-runner.yaml lacks {sorted(missing)}"

    def test_nothing_beyond_them(self):
        extra = granted() - set().union(*NEEDS.values())
        assert not extra, f"the ClusterRole grants more than the harness calls: {sorted(extra)}"
