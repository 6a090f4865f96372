"""Prometheus reading as Flagger does it, over httpx (MockTransport) and the service proxy."""

from __future__ import annotations

import json

import httpx
import pytest

from harness.backends.kubernetes.observe import (
    HttpxPrometheus,
    ProxyPrometheus,
    flagger_provider,
    series_count,
    single_value,
)
from harness.errors import MetricsError, NoValuesFound
from harness.testing.cluster import FakeCluster


def vector(*values: str) -> dict:
    return {
        "resultType": "vector",
        "result": [{"metric": {"i": str(i)}, "value": [0, v]} for i, v in enumerate(values)],
    }


class TestSingleValue:
    def test_last_series_wins(self):
        """Like Flagger, the last parseable value of a multi-series vector is used."""
        assert single_value(vector("1", "2.5")) == 2.5

    @pytest.mark.parametrize("data", [vector(), vector("NaN")])
    def test_empty_or_nan_is_no_values(self, data):
        """An empty vector or NaN is Flagger's 'no values found'."""
        with pytest.raises(NoValuesFound):
            single_value(data)

    def test_scalar_is_an_error(self):
        """A scalar result is a query error, as Flagger's JSON decoding fails on it."""
        with pytest.raises(MetricsError, match="expected a vector"):
            single_value({"resultType": "scalar", "result": [0, "1"]})


class TestTransports:
    def test_httpx_query_and_http_error(self):
        """HttpxPrometheus sends /api/v1/query?query=… and turns a 400 into MetricsError."""
        seen = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request.url.params["query"])
            if "bad" in request.url.params["query"]:
                return httpx.Response(400, json={"status": "error", "error": "parse error"})
            return httpx.Response(200, json={"status": "success", "data": vector("1")})

        prom = HttpxPrometheus("http://prometheus.test:9090", transport=httpx.MockTransport(handler))
        try:
            assert single_value(prom.query("vector(1)")) == 1
            with pytest.raises(MetricsError, match="Status 400"):
                prom.query("bad(")
        finally:
            prom.close()
        assert seen == ["vector(1)", "bad("]

    def test_proxy_and_series_count(self, clock):
        """Through the API server proxy; series_count is 0 when nothing matches."""
        cluster = FakeCluster(clock=clock, prometheus_values={"count(traefik_service_requests_total)": 3.0})
        prom = ProxyPrometheus(cluster, "flagger-system", "flagger-prometheus", 9090)
        assert series_count(prom, "traefik_service_requests_total") == 3
        assert series_count(prom, "up") == 0
        assert (
            json.loads(
                cluster.service_proxy_get("x", "flagger-prometheus", 9090, "api/v1/query", {"query": "q"})
            )["status"]
            == "success"
        )


class TestProvider:
    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (["-mesh-provider=traefik"], "traefik"),
            (["--mesh-provider", "istio"], "istio"),
            (["-log-level=info"], None),
        ],
    )
    def test_reads_mesh_provider_flag(self, args, expected):
        """The provider comes from Flagger's -mesh-provider flag in either form."""
        assert flagger_provider(args) == expected
