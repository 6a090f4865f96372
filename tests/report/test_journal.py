"""The run journal: schema, round trip, tolerant reading, incremental writing and recovery."""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path

import pytest

from harness.controllers.flagger.model import MetricResult
from harness.errors import ReportError
from harness.model import Decision
from harness.report.journal import (
    SCHEMA_VERSION,
    JournalWriter,
    RunRecord,
    canary_hash,
    read_journal,
    record_to_data,
    recover,
    write_journal,
)

from .journal_factory import GOLDEN, KINDS, build, write_interrupted

TOP_LEVEL_KEYS = {f.name for f in fields(RunRecord)}


class TestGoldenJournal:
    def test_top_level_keys_are_the_record_fields(self) -> None:
        """The recorded journal has exactly RunRecord's fields at the top level."""
        data = json.loads(GOLDEN.read_text())
        assert set(data) == TOP_LEVEL_KEYS
        assert data["schema_version"] == SCHEMA_VERSION

    def test_nested_shapes(self) -> None:
        """Nested entries keep the shared model's field names (samples, checks, load, verdict, conditions)."""
        data = json.loads(GOLDEN.read_text())
        assert set(data["samples"][0]) == {"at", "status", "router_weights"}
        assert {"phase", "canary_weight", "failed_checks"} <= set(data["samples"][0]["status"])
        assert set(data["events"][0]) == {"at", "type", "message", "phase", "reason"}  # reason: Argo
        assert set(data["checks"][0]) == {"at", "metric", "query", "value", "passed", "error"}
        assert {"start", "duration", "version", "status", "requests", "bad", "hurt_users"} <= set(
            data["load"][0]
        )
        assert set(data["verdict"]) == {"decision", "measures", "reasons", "warnings"}
        assert {"name", "measured", "limit", "unit", "passed", "predicted", "note"} == set(
            data["verdict"]["measures"][0]
        )
        conditions = data["rollback_conditions"]
        assert conditions["threshold"] == 5
        assert conditions["interval_seconds"] == 60.0
        assert conditions["sentence"].startswith("Flagger rolls back after 5 failed checks (5 × 1m = 5m")

    def test_golden_file_matches_the_factory(self) -> None:
        """The committed journal is what journal_factory builds (regenerate with its __main__)."""
        assert read_journal(GOLDEN) == build("rolled-back-go")

    def test_golden_reads_complete(self) -> None:
        """A well-formed journal reads back complete, with its verdict."""
        record = read_journal(GOLDEN)
        assert record.complete
        assert record.incomplete_reason is None
        assert record.decision == Decision.GO


class TestRoundTrip:
    @pytest.mark.parametrize("kind", KINDS)
    def test_write_then_read_is_equal(self, kind: str, tmp_path: Path) -> None:
        """write_journal → read_journal returns an equal record."""
        record = build(kind)
        path = write_journal(record, tmp_path / "run.json")
        assert read_journal(path) == record
        assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temp file left behind

    def test_nan_and_inf_make_strict_json(self, tmp_path: Path) -> None:
        """NaN/inf values are written as strings so the file is valid JSON, and read back as floats."""
        record = replace(
            build("no-go"),
            checks=(MetricResult(1.0, "request-success-rate", "q", math.nan, False, "no values found"),),
        )
        path = write_journal(record, tmp_path / "run.json")
        text = path.read_text()
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
        assert '"value": "NaN"' in text
        value = read_journal(path).checks[0].value
        assert value is not None
        assert math.isnan(value)

    def test_canary_hash_is_canonical(self) -> None:
        """The hash ignores key order and changes with any value."""
        a = {"spec": {"analysis": {"threshold": 5, "interval": "1m"}}, "kind": "Canary"}
        b = {"kind": "Canary", "spec": {"analysis": {"interval": "1m", "threshold": 5}}}
        assert canary_hash(a) == canary_hash(b)
        assert len(canary_hash(a)) == 64
        assert canary_hash(a) != canary_hash({**a, "kind": "Canary2"})

    def test_write_redacts_secrets(self, tmp_path: Path) -> None:
        """Secrets in the scenario and in messages never reach the journal file."""
        record = replace(
            build("no-go"),
            scenario={"env": {"ADMIN_TOKEN": "hunter2-admin-token"}},
            diagnostics={"log": "Authorization: Bearer sk-abcdef0123456789"},
        )
        text = write_journal(record, tmp_path / "run.json").read_text()
        assert "hunter2" not in text
        assert "sk-abcdef" not in text
        assert "[REDACTED]" in text


class TestTolerantRead:
    def test_truncated_journal_is_incomplete_with_what_is_readable(self, tmp_path: Path) -> None:
        """A journal cut mid-write reads as INCOMPLETE, keeping the fields before the cut."""
        text = GOLDEN.read_text()
        path = tmp_path / "run.json"
        path.write_text(text[: len(text) * 2 // 3])
        record = read_journal(path)
        assert not record.complete
        assert record.decision == Decision.INCOMPLETE
        assert "not valid JSON" in (record.incomplete_reason or "")
        assert record.scenario_id == "http-500-burst"
        assert record.rollback_conditions is not None
        assert record.rollback_conditions.threshold == 5
        assert record.events  # events come before the cut

    def test_garbage_is_incomplete_not_an_exception(self, tmp_path: Path) -> None:
        """A file with no JSON at all still gives a record."""
        path = tmp_path / "run.json"
        path.write_text("\x00\x01 not json")
        record = read_journal(path)
        assert record.decision == Decision.INCOMPLETE
        assert "not valid JSON" in (record.incomplete_reason or "")

    def test_missing_fields_and_unknown_schema(self, tmp_path: Path) -> None:
        """Missing required fields and a foreign schema version are named in incomplete_reason."""
        data = record_to_data(build("no-go"))
        del data["verdict"]
        data["schema_version"] = 99
        path = tmp_path / "run.json"
        path.write_text(json.dumps(data))
        record = read_journal(path)
        assert not record.complete
        assert "missing field 'verdict'" in (record.incomplete_reason or "")
        assert "unknown schema version 99" in (record.incomplete_reason or "")
        assert len(record.events) == len(build("no-go").events)

    def test_bad_entries_are_dropped_and_counted(self, tmp_path: Path) -> None:
        """Unreadable list entries are dropped, the rest kept, and the record marked incomplete."""
        data = record_to_data(build("no-go"))
        data["events"][0] = {"at": "yesterday"}
        data["time_scale"] = "fast"
        path = tmp_path / "run.json"
        path.write_text(json.dumps(data))
        record = read_journal(path)
        assert len(record.events) == len(data["events"]) - 1
        assert "events: 1 unreadable entries dropped" in (record.incomplete_reason or "")
        assert "time_scale" in (record.incomplete_reason or "")

    def test_not_an_object(self, tmp_path: Path) -> None:
        """A JSON array instead of an object is INCOMPLETE."""
        path = tmp_path / "run.json"
        path.write_text("[1, 2]")
        assert "not a JSON object" in (read_journal(path).incomplete_reason or "")

    def test_unreadable_file_raises_report_error(self, tmp_path: Path) -> None:
        """Only a file that cannot be read at all raises (ReportError, not OSError)."""
        with pytest.raises(ReportError, match="cannot read journal"):
            read_journal(tmp_path / "missing.json")


class TestIncrementalJournal:
    def test_interrupted_run_recovers_incomplete(self, tmp_path: Path) -> None:
        """The .partial.jsonl of a killed run rebuilds an INCOMPLETE record with everything observed."""
        partial = write_interrupted(tmp_path / "run.json")
        record = recover(partial)
        full = build("no-go")
        assert record.decision == Decision.INCOMPLETE
        assert "interrupted during stage 'observe'" in (record.incomplete_reason or "")
        assert "1 unreadable lines skipped" in (record.incomplete_reason or "")
        assert record.scenario_id == full.scenario_id
        assert record.canary_hash == full.canary_hash
        assert record.events == tuple(e for e in full.events if e.at < 330.0)
        assert record.load == tuple(b for b in full.load if b.start < 330.0)
        assert record.warnings == ("SIGTERM received: stopping",)

    def test_read_journal_falls_back_to_the_partial_file(self, tmp_path: Path) -> None:
        """With no final journal, read_journal reads the partial one."""
        write_interrupted(tmp_path / "run.json")
        assert read_journal(tmp_path / "run.json").decision == Decision.INCOMPLETE

    def test_finalize_writes_journal_and_drops_partial(self, tmp_path: Path) -> None:
        """finalize writes the full journal atomically and removes the partial file."""
        record = build("rolled-back-go")
        with JournalWriter(tmp_path / "run.json") as writer:
            writer.begin(replace(record, verdict=None, complete=False))
            writer.stage("observe", 30.0)
            writer.diagnostic("flagger", "log line")
            assert writer.partial_path.exists()
            writer.finalize(record)
        assert not writer.partial_path.exists()
        assert read_journal(tmp_path / "run.json") == record

    def test_closed_writer_refuses(self, tmp_path: Path) -> None:
        """Appending after close is a ReportError."""
        writer = JournalWriter(tmp_path / "run.json")
        writer.close()
        with pytest.raises(ReportError, match="closed"):
            writer.warning(1.0, "late")
