"""What the emulated cluster's Prometheus answers: Flagger's Traefik builtin queries and, on Linkerd, the
tutorial's MetricTemplates over linkerd-proxy series, from the canary's faults (no series are stored)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from harness.errors import NoValuesFound
from harness.testing.emulated_app import APP, EmulatedApp, fault_error_rate
from harness.testing.emulated_mesh import LinkerdInstall
from harness.testing.emulated_mesh import query_namespace as linkerd_query_namespace


def answer(app: EmulatedApp | None, mesh: LinkerdInstall, latency_ms: float, promql: str) -> float:
    """Canary success rate (%) or p99 latency (ms) from the canary's faults; 1 for anything else."""
    if "response_" in promql and app is not None:  # linkerd-proxy series (linkerd-viz)
        return mesh.answer(app, promql, latency_ms)
    if promql.strip() == "vector(1)" or "traefik" not in promql or app is None:
        return 1.0
    if "histogram_quantile" in promql:
        return latency_ms
    return 100.0 * (1.0 - fault_error_rate(app.canary_faults()))


def query_namespace(promql: str) -> str:
    """The namespace a query selects: Traefik's ``service=~"<ns>-<target>-canary-…"``, else Linkerd's
    ``namespace`` label."""
    found = re.search(rf'service=~"(.+?)-{APP}-canary', promql)
    return found.group(1) if found else linkerd_query_namespace(promql)


def query_response(value_of: Callable[[], float]) -> str:
    """A ``/api/v1/query`` body: one sample, or an empty vector when there are no values."""
    try:
        value: float | None = value_of()
    except NoValuesFound:
        value = None
    result = [] if value is None else [{"metric": {}, "value": [0, repr(value)]}]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
