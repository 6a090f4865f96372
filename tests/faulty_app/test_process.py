"""The app as its own process: refusing bad configuration, crashing, exact metrics, no admin."""

from __future__ import annotations

import json
import time

import httpx
import pytest

BAD_CONFIGS = [
    pytest.param(
        {"FAULTS": json.dumps([{"kind": "latency", "delay_ms": 5}, {"kind": "http_errors", "rate": 1.7}])},
        "FAULTS[1].rate: expected a number between 0 and 1, found 1.7",
        id="rate-out-of-range",
    ),
    pytest.param(
        {"FAULTS": "- kind: teleport\n"},
        "FAULTS[0].kind: expected a fault kind, one of 'http_errors'",
        id="unknown-kind-yaml",
    ),
    pytest.param(
        {"FAULTS": '[{"kind": "hang", "scope": {"routes": ["/healthz"]}}]'},
        "FAULTS[0].scope.routes[0]: expected a non-empty list of business routes",
        id="infra-route",
    ),
    pytest.param(
        {"FAULTS": '[{"kind": "cpu_burn", "ms_per_request": 10, "max_duty": 0.5}]'},
        'FAULTS[0].max_duty: expected no field named "max_duty"',
        id="extra-field",
    ),
    pytest.param({"FAULTS": "- kind: [unclosed\n"}, "FAULTS: expected a JSON or YAML list", id="yaml-syntax"),
    pytest.param({"TIME_SCALE": "0"}, "TIME_SCALE: expected a number > 0", id="time-scale"),
]


class TestStartupRefusal:
    @pytest.mark.parametrize(("env", "message"), BAD_CONFIGS)
    def test_bad_configuration_exits_2_naming_the_path(self, run_to_exit, env, message):
        """A bad configuration exits 2 before serving and stderr names the field path."""
        result = run_to_exit(env)
        assert result.returncode == 2
        assert message in result.stderr
        assert "listening" not in result.stderr

    def test_main_returns_2_in_process(self, monkeypatch, capsys):
        """faulty_app.__main__.main returns 2 (no exception) for a bad FAULTS."""
        from faulty_app.__main__ import main

        monkeypatch.setenv("FAULTS", '[{"kind": "crash"}]')
        assert main(["--port", "1"]) == 2
        assert "FAULTS[0].on_startup: expected exactly one of" in capsys.readouterr().err


class TestCrash:
    def test_exits_after_n_requests_with_its_code(self, start_app):
        """after_requests 5, exit_code 7: five answers, then the process exits with 7."""
        with start_app({"FAULTS": '[{"kind": "crash", "after_requests": 5, "exit_code": 7}]'}) as app:
            with httpx.Client(base_url=app.base_url, timeout=2.0) as client:
                assert [client.get("/").status_code for _ in range(5)] == [200] * 5
            assert app.wait_exit(3.0) == 7

    def test_exits_after_seconds_scaled(self, start_app):
        """after_seconds 6 with TIME_SCALE 10 exits with code 3 after about 0.6 s."""
        started = time.monotonic()
        env = {"FAULTS": '[{"kind": "crash", "after_seconds": 6, "exit_code": 3}]', "TIME_SCALE": "10"}
        with start_app(env) as app:
            assert app.wait_exit(5.0) == 3
        assert time.monotonic() - started < 4.0

    def test_crash_on_startup_never_serves(self, run_to_exit):
        """on_startup: the process exits with its code before it ever listens (a crash loop)."""
        result = run_to_exit({"FAULTS": '[{"kind": "crash", "on_startup": true, "exit_code": 4}]'})
        assert result.returncode == 4
        assert "crash fault: exiting with code 4" in result.stderr


class TestMetrics:
    def test_counters_are_exact(self, start_app):
        """40 good + 10 cohort-faulted requests: the counters and histogram say exactly that."""
        faults = "- kind: http_errors\n  rate: 1\n  scope:\n    header: {name: x-cohort, value: bad}\n"
        with start_app({"APP_VERSION": "m1", "FAULTS": faults}) as app, httpx.Client(timeout=2.0) as client:
            for _ in range(40):
                client.get(app.base_url + "/")
            for _ in range(10):
                client.get(app.base_url + "/", headers={"x-cohort": "bad"})
            metrics = app.metrics()
        labels = (("code", "200"), ("route", "/"), ("version", "m1"))
        assert metrics[("http_requests_total", labels)] == 40
        assert metrics[("http_requests_total", (("code", "500"), ("route", "/"), ("version", "m1")))] == 10
        assert metrics[("http_request_duration_seconds_count", (("route", "/"), ("version", "m1")))] == 50
        assert metrics[("app_validation_failures_total", (("version", "m1"),))] == 0
        assert metrics[("app_fault_active", (("kind", "http_errors"),))] == 1
        assert metrics[("app_fault_active", (("kind", "latency"),))] == 0


class TestAdminDisabled:
    def test_no_token_means_404(self, start_app):
        """Without ADMIN_TOKEN, /admin/faults does not exist (404), with X-App-Version."""
        with start_app({"APP_VERSION": "plain"}) as app:
            headers = {"Authorization": "Bearer anything"}
            get = httpx.get(app.base_url + "/admin/faults", headers=headers)
            put = httpx.put(app.base_url + "/admin/faults", headers=headers, content="[]")
        assert (get.status_code, put.status_code) == (404, 404)
        assert get.headers["x-app-version"] == "plain"
