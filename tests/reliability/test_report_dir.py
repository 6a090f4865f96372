"""An unwritable report directory or a full disk: a clear message, evidence kept elsewhere, cleanup done."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.clock import FakeClock
from harness.errors import ReportError
from harness.model import Decision
from harness.report.journal import read_journal
from harness.run.execute import run_scenarios
from harness.run.options import RunOptions
from harness.scenario.loader import load_scenario
from harness.testing.run import BAD_FROM_START, FakeBackend, FakeLoad, bad_canary_traffic

from .procwatch import ROOT

SPIKE = ROOT / "scenarios" / "http-5xx-spike.yaml"


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root and mount rights; skipped otherwise), unmounted afterwards."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


BACKENDS: list[FakeBackend] = []  # what the last _fake_batch created, for tests whose batch raises
LOADS: list[FakeLoad] = []


def _fake_batch(report_dir: Path) -> tuple[object, list[FakeBackend], list[FakeLoad]]:
    clock = FakeClock()
    backends, loads = BACKENDS, LOADS

    def backend_factory(s: object, o: object, d: object) -> FakeBackend:
        backends.append(FakeBackend(clock, BAD_FROM_START))
        return backends[-1]

    def load_factory(o: object, d: object, b: object) -> object:
        def make(s: object, i: object) -> FakeLoad:
            loads.append(FakeLoad(clock, bad_canary_traffic(120.0)))
            return loads[-1]

        return make

    batch = run_scenarios(
        [load_scenario(SPIKE)],
        RunOptions(report_dir=report_dir, progress=False),
        backend_factory=backend_factory,
        load_factory=load_factory,  # type: ignore[arg-type]
    )
    return batch, backends, loads


class TestUnwritableReportDir:
    def test_a_file_where_the_report_dir_should_be_falls_back_to_a_temp_dir(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--report-dir naming a regular file: the run still happens, evidence goes to a temp dir we name."""
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("x")
        batch, backends, _ = _fake_batch(blocker)
        assert batch.records[0].decision == Decision.GO  # type: ignore[attr-defined]
        out_dir = batch.out_dir  # type: ignore[attr-defined]
        assert not str(out_dir).startswith(str(blocker))
        assert (out_dir / "report.html").exists()
        assert next(out_dir.glob("runs/*/journal.json")).exists()
        err = capsys.readouterr().err
        assert str(blocker) in err
        assert str(out_dir) in err
        shutil.rmtree(out_dir)
        assert backends[0].calls[-1] == "teardown"


class TestDiskFull:
    def test_disk_full_mid_run_tears_down_keeps_the_journal_and_fails_clearly(
        self, tiny_tmpfs: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """ENOSPC while journaling: teardown still runs, the journal goes to a named temp file, then a
        ReportError (exit 3) says the report could not be written: never a silent success."""
        with pytest.raises(ReportError, match="No space left on device") as caught:
            _fake_batch(tiny_tmpfs)
        assert caught.value.exit_code == 3
        assert BACKENDS[-1].calls[-1] == "teardown"
        assert LOADS[-1].stopped
        err = capsys.readouterr().err
        match = re.search(r"keeping it at (\S+journal\.json)", err)
        assert match, err
        kept = Path(match.group(1))
        try:
            record = read_journal(kept)
            assert record.complete
            assert record.load, "the fallback journal lost the load evidence"
            assert any("listener dropped" in w for w in record.warnings)
        finally:
            shutil.rmtree(kept.parent, ignore_errors=True)
