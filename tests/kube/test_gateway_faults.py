"""KubeGateway against a misbehaving API server on 127.0.0.1: hung calls time out, odd answers are wrapped.

A real ``kubernetes`` ApiClient talks HTTP to a tiny local server, so the vendor transport, models and
dynamic client run for real; only the server is ours.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from harness.backends.kubernetes.gateway import KubeGateway
from harness.errors import ClusterError
from tests.kube.fake_api import JsonHandler, kubeconfig, serve_on_loopback

HANG_SECONDS = 5.0  # the server's bounded hang; every test's timeout is far below it


def pod(name: str, *, ready: bool, phase: str = "Running", deleting: bool = False) -> dict:
    metadata: dict = {"name": name, "namespace": "ns"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"containers": [{"name": "app", "image": "x"}]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


class MisbehavingApiServer(JsonHandler):
    release = threading.Event()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/api/v1/namespaces/hang"):
            self.release.wait(HANG_SECONDS)  # a half-open connection: accepted, never answered
            self._send(200, {"kind": "Namespace", "metadata": {"name": "hang"}})
        elif path == "/api/v1/namespaces/garbled":
            self._send(200, {"kind": "Namespace", "metadata": "not an object"})
        elif path == "/api/v1/namespaces/ns/pods":
            items = [
                pod("ready", ready=True),
                pod("unready", ready=False),
                pod("terminating", ready=True, deleting=True),
                pod("pending", ready=False, phase="Pending"),
            ]
            self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
        elif path == "/apis/flagger.app/v1beta1/namespaces/ns/canaries" and "watch=true" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.flush()
            self.release.wait(HANG_SECONDS)  # headers sent, then silence: a dead watch
        elif path == "/api/v1/namespaces/ns/services/prom:9090/proxy/api/v1/query":
            self._send(503, {"kind": "Status", "code": 503, "message": "no endpoints available"})
        elif path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
        elif path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        elif path == "/api/v1":
            self._send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": []})
        elif path == "/version":
            self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0"})
        else:
            self._send(404, {"kind": "Status", "code": 404, "message": "not found"})


@pytest.fixture
def server_url() -> Iterator[str]:
    MisbehavingApiServer.release.clear()
    with serve_on_loopback(MisbehavingApiServer) as url:
        try:
            yield url
        finally:
            MisbehavingApiServer.release.set()  # before the server's shutdown: no handler still hangs


@pytest.fixture
def gateway(tmp_path, server_url) -> KubeGateway:
    return KubeGateway(kubeconfig=kubeconfig(tmp_path, server_url), request_timeout=0.3)


class TestTimeouts:
    def test_hung_get_times_out(self, gateway):
        """A call the server never answers ends with ClusterError after one timeout (no retries)."""
        started = time.monotonic()
        with pytest.raises(ClusterError, match="timed out"):
            gateway.get_namespace("hang")
        assert time.monotonic() - started < 2.0

    def test_dead_watch_times_out(self, gateway):
        """A watch whose connection goes silent past its window + timeout ends with ClusterError."""
        started = time.monotonic()
        with pytest.raises(ClusterError, match="timed out"):
            list(gateway.watch_canary("ns", "faulty-app", "7", timeout_seconds=1))
        assert time.monotonic() - started < 3.5

    def test_timeout_must_be_positive(self, tmp_path, server_url):
        """A zero timeout is refused up front rather than meaning 'wait forever'."""
        with pytest.raises(ClusterError, match="must be positive"):
            KubeGateway(kubeconfig=kubeconfig(tmp_path, server_url), request_timeout=0)


class TestVendorErrorsAreWrapped:
    def test_unservable_kind_on_apply(self, gateway):
        """The dynamic client's ResourceNotFoundError (kind not served) becomes ClusterError."""
        widget = {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"}}
        with pytest.raises(ClusterError, match="does not serve this kind") as caught:
            gateway.apply("ns", [widget])
        assert type(caught.value.__cause__).__name__ == "ResourceNotFoundError"

    def test_garbled_object(self, gateway):
        """A response the client's models reject (pydantic or setter validation) becomes ClusterError."""
        with pytest.raises(ClusterError, match="unexpected response"):
            gateway.get_namespace("garbled")

    def test_service_proxy_error_names_status(self, gateway):
        """A 5xx through the service proxy is a ClusterError with status and body, not a vendor error."""
        with pytest.raises(ClusterError, match=r"HTTP 503.*no endpoints"):
            gateway.service_proxy_get("ns", "prom", 9090, "api/v1/query", {"query": "vector(1)"})


class TestPods:
    def test_only_ready_non_terminating_pods(self, gateway):
        """Fault targets are Running, Ready and not being deleted."""
        assert gateway.list_pods("ns", "app=faulty-app") == ["ready"]
