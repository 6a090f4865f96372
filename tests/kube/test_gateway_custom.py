"""KubeGateway's custom-object, pod-detail and pod-proxy calls against a tiny fake API server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.backends.kubernetes.api import GoneError
from harness.backends.kubernetes.gateway import KubeGateway
from harness.errors import ClusterError
from tests.kube.fake_api import JsonHandler, kubeconfig, serve_on_loopback, status

ARGO = "/apis/argoproj.io/v1alpha1/namespaces/ns"
RUN = {
    "metadata": {"name": "r1", "labels": {"rollouts-pod-template-hash": "abc"}},
    "status": {"phase": "Running"},
}
ROLLOUT = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "faulty-app", "namespace": "ns", "resourceVersion": "9"},
    "status": {"phase": "Paused"},
}
POD = {
    "metadata": {"name": "faulty-app-primary-1", "namespace": "ns", "labels": {"app": "faulty-app-primary"},
                 "annotations": {"linkerd.io/proxy-version": "stable-2.14.0"}},
    "spec": {"serviceAccountName": "web",
             "containers": [{"name": "app", "image": "a"}, {"name": "linkerd-proxy", "image": "p"}]},
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
}  # fmt: skip
SEEN: list[tuple[str, str, str, str]] = []  # (method, path, content type, body)


class FakeApiServer(JsonHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        SEEN.append(("GET", url.path, "", url.query))
        if url.path == f"{ARGO}/analysisruns":
            self._send(200, {"kind": "AnalysisRunList", "apiVersion": "argoproj.io/v1alpha1", "items": [RUN]})
        elif url.path == f"{ARGO}/rollouts" and query.get("watch") == ["true"]:
            gone = status(410, "too old resource version: 9 (12)")
            events = [{"type": "MODIFIED", "object": ROLLOUT}, {"type": "ERROR", "object": gone}]
            self._send(200, None, raw="".join(json.dumps(e) + "\n" for e in events).encode())
        elif url.path == "/api/v1/namespaces/ns/pods":
            self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [POD]})
        elif url.path == "/api/v1/namespaces/ns/pods/faulty-app-primary-1:4191/proxy/metrics":
            self._send(200, None, raw=b"identity_cert_expiration_timestamp_seconds 1.8e9\n")
        else:
            self._send(404, status(404, "not found"))

    def do_PATCH(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        SEEN.append(
            (
                "PATCH",
                urlsplit(self.path).path,
                self.headers.get("Content-Type", ""),
                self.rfile.read(length).decode(),
            )
        )
        if urlsplit(self.path).path == f"{ARGO}/rollouts/faulty-app":
            self._send(200, ROLLOUT)
        else:
            self._send(404, status(404, "not found"))


@pytest.fixture
def gateway(tmp_path) -> Iterator[KubeGateway]:
    SEEN.clear()
    with serve_on_loopback(FakeApiServer) as url:
        yield KubeGateway(kubeconfig=kubeconfig(tmp_path, url))


def test_list_custom_objects_sends_the_selector_and_returns_items(gateway):
    assert gateway.list_custom_objects(
        "argoproj.io", "v1alpha1", "analysisruns", "ns", "rollouts-pod-template-hash=abc"
    ) == [RUN]
    assert "labelSelector=rollouts-pod-template-hash%3Dabc" in SEEN[-1][3]


def test_watch_custom_object_yields_then_raises_gone_on_410(gateway):
    events = gateway.watch_custom_object("argoproj.io", "v1alpha1", "rollouts", "ns", "faulty-app", "9", 5)
    first = next(events)
    assert (first.type, first.object["status"]) == ("MODIFIED", {"phase": "Paused"})
    with pytest.raises(GoneError, match=r"watch rollouts.argoproj.io ns/faulty-app.*410 Gone"):
        next(events)
    assert "fieldSelector=metadata.name%3Dfaulty-app" in SEEN[-1][3]


def test_patch_custom_object_is_a_merge_patch_with_our_field_manager(gateway):
    patch = {"spec": {"template": {"metadata": {"annotations": {"canary-chaos.io/revision": "v2-1"}}}}}
    gateway.patch_custom_object("argoproj.io", "v1alpha1", "rollouts", "ns", "faulty-app", patch)
    method, path, content_type, body = SEEN[-1]
    assert (method, path, content_type) == (
        "PATCH",
        f"{ARGO}/rollouts/faulty-app",
        "application/merge-patch+json",
    )
    assert json.loads(body) == patch


def test_patch_of_a_missing_object_is_wrapped(gateway):
    with pytest.raises(ClusterError, match=r"patch rollouts\.argoproj\.io ns/missing: HTTP 404"):
        gateway.patch_custom_object("argoproj.io", "v1alpha1", "rollouts", "ns", "missing", {"spec": {}})


def test_pod_details_and_the_pod_proxy(gateway):
    [pod] = gateway.list_pod_details("ns", "app=faulty-app-primary")
    assert (pod.name, pod.containers, pod.service_account, pod.serving) == (
        "faulty-app-primary-1", ("app", "linkerd-proxy"), "web", True,
    )  # fmt: skip
    assert pod.annotations["linkerd.io/proxy-version"] == "stable-2.14.0"
    assert "identity_cert_expiration" in gateway.pod_proxy_get("ns", "faulty-app-primary-1", 4191, "metrics")
    with pytest.raises(ClusterError, match=r"GET metrics on pod ns/other:4191: HTTP 404"):
        gateway.pod_proxy_get("ns", "other", 4191, "metrics")
