"""Scopes, the admin API and X-App-Version over real HTTP (shared app: TIME_SCALE=10)."""

from __future__ import annotations

import math
import time

import httpx
import pytest

TIME_SCALE = 10.0
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALWAYS_500 = {"kind": "http_errors", "rate": 1}


def statuses(samples) -> list[int]:
    return [s.status for s in samples]


def fault_active(app, kind: str) -> float:
    return app.metrics()[("app_fault_active", (("kind", kind),))]


class TestScopes:
    def test_route_scope(self, app, send_burst):
        """A fault scoped to /api/orders leaves / untouched."""
        app.install([{**ALWAYS_500, "scope": {"routes": ["/api/orders"]}}])
        assert set(statuses(send_burst(app.base_url + "/", 30))) == {200}
        assert set(statuses(send_burst(app.base_url + "/api/orders", 30))) == {500}

    def test_header_cohort(self, app, send_burst):
        """Only requests with X-Cohort: canary are faulted (header names are case-insensitive)."""
        app.install([{**ALWAYS_500, "scope": {"header": {"name": "X-Cohort", "value": "canary"}}}])
        assert set(statuses(send_burst(app.base_url + "/", 30, headers={"x-cohort": "canary"}))) == {500}
        assert set(statuses(send_burst(app.base_url + "/", 30, headers={"x-cohort": "stable"}))) == {200}
        assert set(statuses(send_burst(app.base_url + "/", 30))) == {200}

    def test_cookie_cohort(self, app, send_burst):
        """Only requests carrying the cookie cohort=canary are faulted."""
        app.install([{**ALWAYS_500, "scope": {"cookie": {"name": "cohort", "value": "canary"}}}])
        assert set(statuses(send_burst(app.base_url + "/", 30, cookies={"cohort": "canary"}))) == {500}
        assert set(statuses(send_burst(app.base_url + "/", 30, cookies={"cohort": "other"}))) == {200}

    def test_probability(self, app, send_burst):
        """probability 0.5 with rate 1: the error fraction over 1,000 requests is within 99.9 %."""
        app.install([{**ALWAYS_500, "scope": {"probability": 0.5}}])
        codes = statuses(send_burst(app.base_url + "/", 1000))
        half_width = 3.29 * math.sqrt(0.25 / len(codes))
        assert abs(codes.count(500) / len(codes) - 0.5) <= half_width

    def test_window_by_seconds(self, app):
        """Opens after 10 emulated s and closes 10 s later (1 s and 2 s real); the gauge follows.

        Each answer is judged only when the real interval it was in flight lies wholly on one side of a
        window edge (the app's clock starts somewhere inside the install call), so a slow machine retries
        instead of reading a late answer as a wrong one.
        """
        before_install = time.monotonic()
        app.install([{**ALWAYS_500, "window": {"start_after_seconds": 10, "duration_seconds": 10}}])
        installed = time.monotonic()
        opens, closes = 1.0, 2.0  # real seconds after the app's clock started

        def answer_inside(earliest: float, latest: float) -> tuple[int, float]:
            """The status and the gauge of one answer sent at or after `earliest` and back by `latest`."""
            for _ in range(5):
                time.sleep(max(0.0, earliest - time.monotonic()))
                sent = time.monotonic()
                status = app.get("/").status_code
                gauge = fault_active(app, "http_errors")
                if time.monotonic() <= latest:
                    return status, gauge
                if sent > latest:
                    break
            pytest.fail(f"no answer came back within [{earliest:.2f}, {latest:.2f}] (machine too slow)")

        assert answer_inside(before_install, before_install + opens) == (200, 0)
        assert answer_inside(installed + opens, before_install + closes) == (500, 1)
        assert answer_inside(installed + closes, installed + closes + 5.0) == (200, 0)

    def test_window_by_requests(self, app):
        """start_after_requests 10: requests 1–10 pass, 11+ fail; duration 3 emulated s closes it."""
        app.install([{**ALWAYS_500, "window": {"start_after_requests": 10, "duration_seconds": 3}}])
        with httpx.Client(base_url=app.base_url, timeout=2.0) as client:
            codes = [client.get("/").status_code for _ in range(20)]
            assert codes == [200] * 10 + [500] * 10
            time.sleep(0.4)
            assert client.get("/").status_code == 200


class TestAdminApi:
    def test_missing_or_wrong_token_is_401(self, app):
        """No header, a wrong token or another scheme: 401 for GET, PUT and DELETE."""
        url = app.base_url + "/admin/faults"
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
            assert httpx.get(url, headers=headers).status_code == 401
            assert httpx.put(url, headers=headers, content="[]").status_code == 401
            assert httpx.delete(url, headers=headers).status_code == 401

    def test_right_token_get_put_delete(self, app):
        """With the token: PUT (JSON or YAML) replaces, GET shows, DELETE clears."""
        assert app.put_faults("- kind: http_errors\n  rate: 0.25\n").status_code == 200
        shown = app.get("/admin/faults", headers=AUTH).json()
        assert shown["faults"][0]["rate"] == 0.25
        assert shown["status"][0]["active"] is True
        assert httpx.delete(app.base_url + "/admin/faults", headers=AUTH).json()["faults"] == []

    def test_bad_body_is_422_and_old_faults_stay(self, app):
        """A bad PUT answers 422 with the field path; the previous faults remain in force."""
        app.install([ALWAYS_500])
        response = app.put_faults([{"kind": "latency", "delay_ms": 5}, {"kind": "http_errors", "rate": 1.7}])
        assert response.status_code == 422
        assert response.json()["problems"] == [
            {"path": "[1].rate", "expected": "a number between 0 and 1", "found": "1.7"}
        ]
        assert app.get("/admin/faults", headers=AUTH).json()["faults"][0]["kind"] == "http_errors"
        assert app.get("/").status_code == 500

    def test_empty_and_oversized_bodies(self, app):
        """An empty body is 422 and a body over 1 MiB is 413; neither changes anything."""
        assert app.put_faults("").status_code == 422
        assert app.put_faults("[" + " " * (1024 * 1024) + "]").status_code == 413

    def test_runtime_fault_shows_in_gauge(self, app):
        """After PUT, app_fault_active{kind} is 1; after DELETE it is 0."""
        app.install([{"kind": "wrong_answer"}])
        assert fault_active(app, "wrong_answer") == 1
        httpx.delete(app.base_url + "/admin/faults", headers=AUTH)
        assert fault_active(app, "wrong_answer") == 0


class TestVersionHeader:
    def test_every_response_carries_the_version(self, app):
        """200, 201, 401, 404, 405, 422, injected 500/503 and 504 all carry X-App-Version."""
        base = app.base_url
        responses = [
            httpx.get(base + "/"),
            httpx.post(base + "/api/orders", json={"item": "a", "quantity": 1}),
            httpx.get(base + "/admin/faults"),
            httpx.get(base + "/no/such/path"),
            httpx.delete(base + "/healthz"),
            httpx.post(base + "/api/orders", json={"item": "a", "quantity": 0}),
            httpx.get(base + "/metrics"),
        ]
        app.install(
            [
                {"kind": "http_errors", "rate": 1, "status_codes": [503]},
                {"kind": "readiness", "mode": "never"},
            ]
        )
        responses += [httpx.get(base + "/"), httpx.get(base + "/readyz")]
        app.install([{"kind": "hang", "hold_ms": 50}])
        responses.append(httpx.get(base + "/"))
        codes = [r.status_code for r in responses]
        assert codes == [200, 201, 401, 404, 405, 422, 200, 503, 503, 504]
        assert {r.headers.get("x-app-version") for r in responses} == {"shared-v1"}

    def test_faulted_burst_all_versioned(self, app, send_burst):
        """Every response of a 50 % faulted burst carries the header."""
        app.install([{"kind": "http_errors", "rate": 0.5}])
        samples = send_burst(app.base_url + "/", 200)
        assert {s.version for s in samples} == {"shared-v1"}
        assert {s.status for s in samples} == {200, 500}
