"""The README's main command uses a relative `--report-dir reports/`: children run in other directories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.report.journal import read_journal

from .procwatch import CLI, DATA


@pytest.mark.e2e
def test_a_relative_report_dir_gives_a_complete_run(tmp_path: Path) -> None:
    """Locust (cwd = its run dir) and Prometheus (file_sd relative to its config) both find their files."""
    done = subprocess.run(
        [CLI, "run", str(DATA / "short-5xx.yaml"), "--report-dir", "reports", "--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    journals = list((tmp_path / "reports").glob("*/runs/*/journal.json"))
    assert len(journals) == 1, done.stderr[-2000:]
    record = read_journal(journals[0])
    assert record.complete, record.incomplete_reason
    assert record.load, "no load evidence"
    assert done.returncode in (0, 1), done.stderr[-2000:]
