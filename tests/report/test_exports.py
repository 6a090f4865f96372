"""JUnit XML and CSV exports of run records."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pandas as pd

from harness.report.csv_export import (
    CHECK_COLUMNS,
    EVENT_COLUMNS,
    MEASURE_COLUMNS,
    SAMPLE_COLUMNS,
    export_csv,
)
from harness.report.junit import write_junit
from harness.report.series import LOAD_COLUMNS

from .journal_factory import build, hostile


class TestJUnit:
    def test_structure(self, tmp_path: Path) -> None:
        """One suite; GO passes, NO-GO fails with measures, INCONCLUSIVE/INCOMPLETE are errors."""
        records = [
            build("rolled-back-go"),
            build("no-go"),
            build("inconclusive"),
            replace(build("no-go"), complete=False, incomplete_reason="interrupted by SIGTERM"),
        ]
        suite = ET.parse(write_junit(records, tmp_path / "junit.xml")).getroot()
        assert suite.tag == "testsuite"
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
        go, no_go, inconclusive, incomplete = suite.findall("testcase")
        assert go.find("failure") is None
        assert go.find("error") is None
        failure = no_go.find("failure")
        assert failure is not None
        assert failure.text is not None
        assert "abort_within: measured 5m20s > limit 5m" in failure.text
        assert "max_canary_weight: measured 60% > limit 50%" in failure.text
        assert inconclusive.find("error") is not None
        error = incomplete.find("error")
        assert error is not None
        assert "SIGTERM" in (error.get("message") or "")
        assert go.get("time") == "15.000"
        assert go.get("name") == "http-500-burst"

    def test_properties_carry_measured_vs_limit(self, tmp_path: Path) -> None:
        """Each measure becomes a property 'measured … / limit … [/ predicted …]'."""
        suite = ET.parse(write_junit([build("rolled-back-go")], tmp_path / "junit.xml")).getroot()
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["decision"] == "GO"
        assert props["abort_within"] == "measured 5m40s / limit 7m / predicted 5m10s–6m10s"
        assert props["max_users_hurt"] == "measured 102 users / limit 150 users"

    def test_hostile_text_is_escaped_and_redacted(self, tmp_path: Path) -> None:
        """XML stays well-formed with hostile data, and secrets are redacted."""
        path = write_junit([hostile(build("no-go"))], tmp_path / "junit.xml")
        ET.parse(path)
        assert "hunter2" not in path.read_text()


class TestCsv:
    def test_files_and_columns(self, tmp_path: Path) -> None:
        """Five CSV files with stable columns; rows match the record."""
        record = build("no-go")
        paths = export_csv(record, tmp_path)
        names = [p.name.removeprefix(f"{record.run_id}-") for p in paths]
        assert names == ["load.csv", "samples.csv", "events.csv", "checks.csv", "measures.csv"]
        frames = {n.removesuffix(".csv"): pd.read_csv(p) for n, p in zip(names, paths, strict=True)}
        assert list(frames["load"].columns) == LOAD_COLUMNS
        assert len(frames["load"]) == len(record.load)
        assert list(frames["samples"].columns) == SAMPLE_COLUMNS
        assert list(frames["events"].columns) == EVENT_COLUMNS
        assert len(frames["events"]) == len(record.events)
        assert list(frames["checks"].columns) == CHECK_COLUMNS
        assert list(frames["measures"].columns) == MEASURE_COLUMNS
        assert frames["events"]["t"].iloc[0] == 0.0  # t is seconds from the trigger

    def test_empty_record(self, tmp_path: Path) -> None:
        """A record with no observations still writes headers only."""
        record = replace(build("no-go"), load=(), samples=(), events=(), checks=(), verdict=None)
        paths = export_csv(record, tmp_path)
        assert all(len(pd.read_csv(p)) == 0 for p in paths)


class TestCommandLine:
    def test_renders_everything_from_journals(self, tmp_path: Path) -> None:
        """`python -m harness.report` re-renders HTML, JUnit and CSV from journals; NO-GO exits 1."""
        from harness.report.__main__ import main
        from harness.report.journal import write_journal

        go = write_journal(build("rolled-back-go"), tmp_path / "go.json")
        no_go = write_journal(build("no-go"), tmp_path / "no-go.json")
        out = tmp_path / "out"
        argv = [str(go), str(no_go), "--html", str(out / "r.html"), "--junit", str(out / "j.xml")]
        assert main([*argv, "--csv", str(out / "csv")]) == 1
        assert (out / "r.html").stat().st_size > 10_000
        assert ET.parse(out / "j.xml").getroot().get("tests") == "2"
        assert len(list((out / "csv").glob("*.csv"))) == 10
        assert main([str(go)]) == 0
