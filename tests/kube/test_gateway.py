"""KubeGateway against a tiny fake API server on 127.0.0.1: vendor errors never leak."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes.client.exceptions import ApiException

from harness.backends.kubernetes.api import EventInfo, GoneError
from harness.backends.kubernetes.gateway import KubeGateway
from harness.errors import ClusterError, HarnessError
from tests.kube.fake_api import JsonHandler, kubeconfig, serve_on_loopback, status

CANARY = {
    "apiVersion": "flagger.app/v1beta1",
    "kind": "Canary",
    "metadata": {"name": "faulty-app", "namespace": "ns", "resourceVersion": "7"},
    "spec": {},
    "status": {"phase": "Initialized", "canaryWeight": 0, "failedChecks": 0},
}


def core_event(uid: str, kind: str, reason: str, **fields: object) -> dict:
    """A core/v1 Event as the API server lists it."""
    return {
        "metadata": {"name": f"faulty-app.{uid}", "namespace": "ns", "uid": uid},
        "involvedObject": {"kind": kind, "name": "faulty-app", "namespace": "ns"},
        "reason": reason,
        "message": f"{reason} message",
        "type": "Warning" if reason == "RolloutAborted" else "Normal",
        **fields,
    }


EVENTS = {
    "Rollout": [
        core_event("u1", "Rollout", "RolloutAborted", count=3, firstTimestamp="2026-01-01T00:01:00Z",
                   lastTimestamp="2026-01-01T00:01:30Z"),
        core_event("u2", "Rollout", "RolloutPaused", eventTime="2026-01-01T00:02:00.250000Z",
                   series={"count": 2, "lastObservedTime": "2026-01-01T00:02:10.500000Z"}),
    ]
}  # fmt: skip


class FakeApiServer(JsonHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/api/v1/namespaces/missing":
            self._send(404, status(404, 'namespaces "missing" not found'))
        elif url.path == "/api/v1/namespaces":
            self._send(500, status(500, "etcd is unhappy"))
        elif url.path == "/apis/flagger.app/v1beta1/namespaces/ns/canaries/faulty-app":
            self._send(200, CANARY)
        elif url.path == "/apis/flagger.app/v1beta1/namespaces/ns/canaries" and "watch=true" in url.query:
            line = json.dumps({"type": "ERROR", "object": status(410, "too old resource version: 7 (9)")})
            self._send(200, None, raw=(line + "\n").encode())
        elif url.path == "/api/v1/namespaces/ns/events":
            kind = parse_qs(url.query)["fieldSelector"][0].removeprefix("involvedObject.kind=")
            self._send(200, {"apiVersion": "v1", "kind": "EventList", "items": EVENTS.get(kind, [])})
        elif url.path == "/api/v1/namespaces/ns/services/event-receiver:8080/proxy/events":
            self._send(200, [{"query": url.query}])
        else:
            self._send(404, status(404, "not found"))


@pytest.fixture
def gateway(tmp_path) -> Iterator[KubeGateway]:
    with serve_on_loopback(FakeApiServer) as url:
        yield KubeGateway(kubeconfig=kubeconfig(tmp_path, url))


class TestErrorTree:
    def test_cluster_error_is_not_a_vendor_exception(self):
        """ClusterError and GoneError belong to our tree, never to the kubernetes client's."""
        assert not issubclass(ClusterError, ApiException)
        assert not issubclass(GoneError, ApiException)
        assert issubclass(GoneError, ClusterError)
        assert issubclass(ClusterError, HarnessError)


class TestGateway:
    def test_current_context(self, gateway):
        """The gateway reports the kubeconfig context it is bound to."""
        assert gateway.current_context() == "kind-test"

    def test_get_canary_returns_the_raw_object(self, gateway):
        """get_canary returns the API JSON as is."""
        assert gateway.get_canary("ns", "faulty-app") == CANARY

    def test_404_namespace_is_none(self, gateway):
        """A missing namespace reads as None, not an error."""
        assert gateway.get_namespace("missing") is None

    def test_500_is_wrapped(self, gateway):
        """An API error becomes ClusterError with the status and message, chained to the vendor exception."""
        with pytest.raises(ClusterError, match=r"HTTP 500 .*etcd is unhappy") as caught:
            gateway.list_namespaces("app.kubernetes.io/managed-by=canary-chaos")
        assert isinstance(caught.value.__cause__, ApiException)

    def test_watch_410_is_gone_error(self, gateway):
        """An ERROR event with code 410 on a watch raises GoneError so the caller re-lists."""
        with pytest.raises(GoneError, match="410"):
            list(gateway.watch_canary("ns", "faulty-app", "7", timeout_seconds=2))

    def test_service_proxy_get_returns_body(self, gateway):
        """GET through the service proxy returns the body text, query parameters passed on."""
        body = gateway.service_proxy_get("ns", "event-receiver", 8080, "events", {"since": "3"})
        assert json.loads(body) == [{"query": "since=3"}]

    def test_list_events_reads_count_and_series(self, gateway):
        """Events of one involved kind (field selector); legacy count/lastTimestamp and events.k8s.io
        ``series`` both give the count and the latest time; eventTime fills an absent firstTimestamp."""
        aborted, paused = gateway.list_events("ns", "Rollout")
        assert aborted == EventInfo(
            "u1", "Rollout", "faulty-app", "Warning", "RolloutAborted", "RolloutAborted message", 3,
            "2026-01-01T00:01:00.000000Z", "2026-01-01T00:01:30.000000Z",
        )  # fmt: skip
        assert (paused.count, paused.first_time, paused.last_time) == (
            2, "2026-01-01T00:02:00.250000Z", "2026-01-01T00:02:10.500000Z"
        )  # fmt: skip
        assert gateway.list_events("ns", "AnalysisRun") == []

    def test_unreachable_server_is_wrapped(self, tmp_path):
        """A refused connection becomes ClusterError('cannot reach the API server')."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        gateway = KubeGateway(kubeconfig=kubeconfig(tmp_path, f"http://127.0.0.1:{port}"))
        with pytest.raises(ClusterError, match="cannot reach the API server"):
            gateway.get_canary("ns", "faulty-app")

    def test_unknown_context_is_cluster_error(self, tmp_path):
        """Asking for a context the kubeconfig lacks is a ClusterError, not a ConfigException."""
        with pytest.raises(ClusterError, match=r"'prod' \(--kube-context\) not found"):
            KubeGateway("prod", kubeconfig=kubeconfig(tmp_path, "http://127.0.0.1:1"))
