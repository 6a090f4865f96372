"""A declared NO-GO (a guardrail-design example) in exit codes and JUnit; the blast radius by cohort."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from harness.model import Decision, ExpectedVerdict, decisions_exit_code
from harness.report.junit import write_junit
from harness.report.series import blast_radius
from harness.report.view import run_view

from .journal_factory import build

DECLARED = ExpectedVerdict(Decision.NO_GO, ("abort_within",))


def declared(kind: str, expected: ExpectedVerdict = DECLARED):  # type: ignore[no-untyped-def]
    record = build(kind)
    assert record.verdict is not None
    return replace(record, verdict=replace(record.verdict, expected=expected))


class TestDeclaredNoGo:
    def test_a_met_declaration_counts_as_go(self) -> None:
        """NO-GO naming abort_within, declared so: the run shows NO-GO and counts as GO."""
        record = declared("no-go")
        assert (record.decision, record.counted_decision) == ("NO-GO", "GO")
        assert decisions_exit_code([record.counted_decision]) == 0

    def test_a_declaration_naming_another_measure_is_not_met(self) -> None:
        """The NO-GO must be for the declared reason."""
        record = declared("no-go", ExpectedVerdict(Decision.NO_GO, ("cohort_boundary",)))
        assert record.counted_decision == "NO-GO"

    def test_a_declared_no_go_that_came_out_go_fails(self) -> None:
        """The harness missed the flaw the example demonstrates: NO-GO."""
        assert declared("rolled-back-go").counted_decision == "NO-GO"

    def test_junit_passes_a_met_declaration_and_fails_a_missed_one(self, tmp_path: Path) -> None:
        """failures=1: the GO run that should have been a NO-GO, with a line saying so."""
        records = [declared("no-go"), declared("rolled-back-go")]
        suite = ET.parse(write_junit(records, tmp_path / "junit.xml")).getroot()
        assert suite.get("failures") == "1"
        met, missed = suite.findall("testcase")
        assert met.find("failure") is None
        failure = missed.find("failure")
        assert failure is not None
        assert "declared NO-GO on abort_within not met: the decision was GO" in (failure.text or "")


class TestHtml:
    def test_the_run_section_says_whether_the_declaration_was_met(self) -> None:
        """The NO-GO badge stays; a line says it was declared and met (or not)."""
        assert run_view(declared("no-go"), 0)["declared"] == (
            "Declared NO-GO on abort_within — met: this run counts as a pass."
        )
        assert "NOT met" in run_view(declared("rolled-back-go"), 0)["declared"]
        assert run_view(build("no-go"), 0)["declared"] == ""


class TestBlastRadiusByCohort:
    def test_a_column_per_recorded_cohort(self) -> None:
        """users_hurt:<cohort> counts the canary's hurt users of each cohort, cumulatively."""
        record = build("no-go")
        canary = record.canary_version
        load = tuple(
            replace(b, cohort="insider" if i % 2 else "-") if b.version == canary else replace(b, cohort="-")
            for i, b in enumerate(record.load)
        )
        frame = blast_radius(replace(record, load=load))
        assert {"users_hurt:insider", "users_hurt:-"} <= set(frame.columns)
        last = frame.iloc[-1]
        assert last["users_hurt:insider"] + last["users_hurt:-"] >= last["users_hurt"] > 0
        assert frame["users_hurt:insider"].is_monotonic_increasing

    def test_no_cohorts_no_columns(self) -> None:
        """A run without cohorts keeps the four columns."""
        assert list(blast_radius(build("no-go")).columns) == [
            "t",
            "canary_requests",
            "canary_bad",
            "users_hurt",
        ]
