"""Parts of a real local run killed or hung mid-run: the run is never GO on broken evidence."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest

from harness.report.journal import RunRecord, read_journal

from .procwatch import DATA, CliRun, cmdline, loopback, start_cli

HEALTHY = str(DATA / "short-healthy.yaml")


def _child(run: CliRun, needle: str) -> int:
    found = sorted(p for p in run.seen if needle in cmdline(p))
    assert found, f"no child process matching {needle!r}: {[cmdline(p)[:80] for p in run.seen]}"
    return int(found[0])


def _run_and_hit(
    tmp_path: Path, args: list[str], needle: str, sig: signal.Signals, resume: bool = False
) -> tuple[CliRun, int, RunRecord]:
    run = start_cli(["run", HEALTHY, "--time-scale", "60", *args], tmp_path)
    victim = None
    try:
        assert run.wait_for(lambda: "observe" in run.stages(), timeout=40), run.stages()
        run.sample()
        victim = _child(run, needle)
        os.kill(victim, sig)
        if resume:  # let the hung server answer again once Flagger has acted on the failures
            run.wait_for(lambda: "rollback" in run.marks() or "promotion" in run.marks(), timeout=30)
            os.kill(victim, signal.SIGCONT)
        code = run.finish(timeout=60)
    finally:
        if victim is not None and resume:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGCONT)
        if run.proc.poll() is None:
            run.kill()
    assert "Traceback" not in run.stderr()
    assert run.leftovers() == set()
    record = read_journal(next(tmp_path.glob("*/runs/*/journal.json")))
    return run, code, record


@pytest.mark.e2e
class TestPrometheusFailure:
    def test_hung_prometheus_counts_failed_checks_and_names_the_cause(self, tmp_path: Path) -> None:
        """SIGSTOPped Prometheus: queries time out (5 s scaled), each is a failed check, the healthy canary
        is rolled back, the run is NO-GO, and the evidence names the timeout."""
        _, code, record = _run_and_hit(
            tmp_path, ["--prometheus", "server"], "prometheus", signal.SIGSTOP, True
        )
        assert record.decision != "GO"
        assert code in (1, 3)
        errors = [c.error or "" for c in record.checks if not c.passed]
        assert any("timeout" in e for e in errors), errors
        assert any("Prometheus query failed" in e.message or "no values" in e.message for e in record.events)

    def test_killed_prometheus_is_never_go(self, tmp_path: Path) -> None:
        """SIGKILLed Prometheus: connection refused on every query → failed checks → never GO."""
        _, code, record = _run_and_hit(tmp_path, ["--prometheus", "server"], "prometheus", signal.SIGKILL)
        assert record.decision != "GO"
        assert code in (1, 3)
        assert any(c.error and "request failed" in c.error for c in record.checks), record.checks[-3:]


@pytest.mark.e2e
class TestLoadGeneratorDeath:
    def test_killed_locust_makes_the_run_inconclusive_with_the_reason(self, tmp_path: Path) -> None:
        """SIGKILL of the Locust child mid-run: INCONCLUSIVE, the reason first, exit 3 (infrastructure)."""
        run, code, record = _run_and_hit(tmp_path, ["--prometheus", "embedded"], "locust", signal.SIGKILL)
        assert record.decision == "INCONCLUSIVE"
        assert code == 3
        assert record.verdict is not None
        assert "load generator" in record.verdict.reasons[0]
        assert "load generator" in (run.out or "")  # the summary says why, not only the report


@pytest.mark.e2e
class TestDataPathDeath:
    def test_killed_router_is_never_go(self, tmp_path: Path) -> None:
        """SIGKILL of the router: requests fail (status 0) and metrics vanish, so the run cannot be GO."""
        _, code, record = _run_and_hit(
            tmp_path, ["--prometheus", "embedded"], "harness.providers.traefik.router", signal.SIGKILL
        )
        assert record.decision != "GO"
        assert code != 0
        assert "Connection refused" in "".join(record.diagnostics.values())

    def test_killed_app_replica_is_restarted_by_the_supervisor(self, tmp_path: Path) -> None:
        """SIGKILL of the primary app process: the supervisor restarts it and the run still concludes."""
        _run, _code, record = _run_and_hit(
            tmp_path, ["--prometheus", "embedded"], "faulty_app", signal.SIGKILL
        )
        logs = list(tmp_path.glob("*/runs/*/processes/faulty-app*.log"))
        restarts = sum(p.read_text(errors="replace").count("=== ") for p in logs)
        assert restarts > len(logs), "no app process was started twice"
        assert record.decision in ("GO", "NO-GO", "INCONCLUSIVE", "INCOMPLETE")


@pytest.mark.e2e
class TestLoopbackOnly:
    def test_every_listener_of_a_run_binds_loopback(self, tmp_path: Path) -> None:
        """Router, apps, Prometheus and Locust listen on 127.0.0.1 only."""
        run = start_cli(["run", HEALTHY, "--time-scale", "60", "--prometheus", "server"], tmp_path)
        try:
            assert run.wait_for(lambda: "observe" in run.stages(), timeout=40)
            run.sample()
            run.proc.send_signal(signal.SIGINT)
            run.finish(timeout=40)
        finally:
            if run.proc.poll() is None:
                run.kill()
        assert len(run.ports) >= 4, run.ports  # router (2), two apps, prometheus
        exposed = {(cmdline(p)[:60], a, port) for p, a, port in run.ports if not loopback(a)}
        assert exposed == set()
