"""SIGINT/SIGTERM at each lifecycle stage of a real local run: exit 130, nothing left behind, INCOMPLETE."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from harness.report.journal import read_journal

from .procwatch import CLI, DATA, ROOT, listening_ports, start_cli

SHORT = str(DATA / "short-5xx.yaml")

CASES = [
    ("deploy", signal.SIGINT),
    ("baseline", signal.SIGINT),
    ("observe", signal.SIGINT),
    ("recovery", signal.SIGINT),
    ("observe", signal.SIGTERM),
    ("deploy", signal.SIGTERM),
]


@pytest.mark.e2e
class TestSignalAtEveryStage:
    @pytest.mark.parametrize(("stage", "sig"), CASES, ids=[f"{s}-{g.name}" for s, g in CASES])
    def test_signal_leaves_nothing_and_an_incomplete_report(
        self, tmp_path: Path, stage: str, sig: signal.Signals
    ) -> None:
        """A signal in `stage` exits 130, kills every child, frees every port, writes an INCOMPLETE report."""
        run = start_cli(["run", SHORT, "--time-scale", "60"], tmp_path)
        try:
            reached = run.wait_for(lambda: stage in run.stages(), timeout=40)
            assert reached, f"stage {stage} never appeared; stages={run.stages()}"
            run.sample()
            assert run.seen, "the run had no child processes when signalled"
            run.proc.send_signal(sig)
            code = run.finish(timeout=40)
            err = run.stderr()
        finally:
            if run.proc.poll() is None:
                run.kill()
        assert code == 130, err
        assert "Traceback" not in err
        assert f"interrupted by {sig.name}" in err
        assert run.leftovers() == set()
        still = {port for _, _, port in run.ports} & listening_ports()
        assert still == set(), f"ports still listening after the run: {still}"
        journal = next(tmp_path.glob("*/runs/*/journal.json"))
        record = read_journal(journal)
        assert record.decision == "INCOMPLETE"
        assert f"interrupted by {sig.name} during {stage}" in (record.incomplete_reason or "")
        html = next(tmp_path.glob("*/report.html")).read_text()
        assert "INCOMPLETE" in html


class TestPartialJournalRerender:
    def test_report_command_renders_a_partial_journal_as_incomplete(self, tmp_path: Path) -> None:
        """`canary-chaos report x.partial.jsonl` (what a SIGKILLed run leaves) renders INCOMPLETE."""
        partial = tmp_path / "journal.json.partial.jsonl"
        partial.write_text(
            '{"kind": "header", "data": {"run_id": "r1", "scenario_id": "short-5xx"}}\n'
            '{"kind": "marks", "data": {"at": 0.0, "kind": "stage", "detail": "observe"}}\n'
            '{"kind": "marks", "data": {"at": 1.0, "kind": "sta'  # torn by the kill
        )
        done = subprocess.run(
            [CLI, "report", str(partial), "--out", str(tmp_path / "r.html")],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        html = (tmp_path / "r.html").read_text()
        assert "INCOMPLETE" in html
        assert "observe" in html
