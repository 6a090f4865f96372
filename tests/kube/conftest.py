"""Shared fixtures: a FakeClock, a Flagger-shaped Canary timeline, a FakeCluster and a backend on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from harness.backends.kubernetes.backend import KubernetesBackend, KubernetesOptions
from harness.clock import FakeClock
from harness.controllers.flagger.model import AnalysisSpec, CanarySpec, MetricSpec, ThresholdRange
from harness.model import Revision
from harness.testing.cluster import FakeCluster
from harness.testing.flagger_status import FlaggerStatusWriter, ScriptedStatus
from tests.kube.fake_api import serve_on_loopback

REPO = Path(__file__).resolve().parents[2]
CONTEXT = "kind-canary-chaos"
RUN_ID = "t3st"
NAMESPACE = f"canary-chaos-{RUN_ID}"


def bad_canary_script(clock: FakeClock) -> list[ScriptedStatus]:
    """Initializing → Initialized → Progressing (0, 10, 20) → 5 failed checks → Failed, re-synced twice.

    Times are seconds after the Canary is applied; interval 1m, threshold 5, as Flagger writes them.
    """
    writer = FlaggerStatusWriter(clock.wall(0.0))
    steps: list[tuple[float, str, int, int]] = [
        (5, "Initializing", 0, 0),
        (70, "Initialized", 0, 0),
        (120, "Progressing", 0, 0),
        (180, "Progressing", 10, 0),
        (240, "Progressing", 20, 0),
        (300, "Progressing", 20, 1),
        (360, "Progressing", 20, 2),
        (420, "Progressing", 20, 3),
        (480, "Progressing", 20, 4),
        (540, "Progressing", 20, 5),
        (600, "Failed", 0, 0),
        (660, "Failed", 0, 0),
        (720, "Failed", 0, 0),
    ]
    return [
        ScriptedStatus(at, writer.write(at, phase, weight=w, failed_checks=f)) for at, phase, w, f in steps
    ]


def canary_spec() -> CanarySpec:
    analysis = AnalysisSpec(
        interval_seconds=60,
        interval_raw="1m",
        threshold=5,
        max_weight=50,
        step_weight=10,
        metrics=(
            MetricSpec("request-success-rate", "1m", ThresholdRange(min=99)),
            MetricSpec("request-duration", "1m", ThresholdRange(max=500)),
        ),
    )
    return CanarySpec(
        name="faulty-app",
        namespace="default",
        target_kind="Deployment",
        target_name="faulty-app",
        service_name="faulty-app",
        service_port=80,
        analysis=analysis,
    )


@pytest.fixture
def spec() -> CanarySpec:
    return canary_spec()


@pytest.fixture
def stable() -> Revision:
    return Revision(version="v1", faults=(), replicas=2)


@pytest.fixture
def bad() -> Revision:
    return Revision(version="v2", faults=({"kind": "error", "rate": 1.0},))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cluster(clock: FakeClock) -> FakeCluster:
    return FakeCluster(clock=clock, canary_script=bad_canary_script(clock))


class _AnyAnswer(BaseHTTPRequestHandler):
    """Traefik's answer to a Host it has no route for."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def ingress_url() -> Iterator[str]:
    """A stand-in for Traefik's web entrypoint on 127.0.0.1 (answers 404 to everything)."""
    with serve_on_loopback(_AnyAnswer) as url:
        yield url


@pytest.fixture
def make_backend(cluster: FakeCluster, clock: FakeClock) -> Callable[..., KubernetesBackend]:
    def make(**overrides: object) -> KubernetesBackend:
        options = KubernetesOptions(
            **{
                "context_allow": (CONTEXT,),
                "manifests_dir": REPO / "cluster" / "app",
                "run_id": RUN_ID,
                **overrides,
            }
        )
        return KubernetesBackend(cluster, options, clock=clock, epoch=lambda: 1_800_000_000.0)

    return make
