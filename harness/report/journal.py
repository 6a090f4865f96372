"""The run journal: one JSON document per scenario run, the single source of every report.

``RunRecord`` is written by the runner (``write_journal`` / ``JournalWriter.finalize``) and read back by the
renderers (``read_journal``). Reading never trusts the file: a truncated, partial or foreign journal comes
back as a record with ``complete=False`` and ``incomplete_reason`` saying what was wrong.

During a run, ``JournalWriter`` appends every observation as a JSON line to ``<journal>.partial.jsonl``
(it is a ``RunListener``), so an interrupted run can be rebuilt with ``recover``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from harness.controllers.flagger.model import CanaryEvent, MetricResult
from harness.errors import ReportError
from harness.model import LoadBucket, Mark, ObservedBatch, StatusSample, Verdict
from harness.report.conditions import RollbackConditions, rollback_conditions
from harness.report.provenance import git_commit, tool_versions
from harness.report.redact import redact
from harness.report.salvage import close_truncated_json

__all__ = [
    "SCHEMA_VERSION",
    "JournalWriter",
    "RollbackConditions",
    "RunRecord",
    "canary_hash",
    "git_commit",
    "partial_path_for",
    "read_journal",
    "record_from_data",
    "record_to_data",
    "recover",
    "redact_record",
    "rollback_conditions",
    "tool_versions",
    "utc_now_iso",
    "write_journal",
]

SCHEMA_VERSION = 1
PARTIAL_SUFFIX = ".partial.jsonl"


@dataclass(frozen=True)
class RunRecord:
    """Everything one scenario run produced. Times in the lists are emulated seconds on the run clock."""

    run_id: str
    scenario_id: str
    schema_version: int = SCHEMA_VERSION
    scenario_file: str = ""
    scenario: Mapping[str, Any] = field(default_factory=dict)  # the scenario file's data as loaded
    description: str = ""
    canary_manifest: Mapping[str, Any] = field(default_factory=dict)  # the Canary / Rollout as applied
    canary_hash: str = ""  # canary_hash(canary_manifest)
    rollback_conditions: RollbackConditions | None = None  # rollback_conditions(canary_manifest)
    backend: str = ""  # "local" | "kubernetes" | …
    controller: str = "flagger"  # the controller under test (harness.controllers.registry)
    time_scale: float = 1.0
    started_at: str | None = None  # ISO 8601 UTC wall time
    finished_at: str | None = None
    tool_versions: Mapping[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    primary_version: str | None = None  # X-App-Version served by the primary (stable) workload
    canary_version: str | None = None  # X-App-Version served by the canary
    complete: bool = False
    incomplete_reason: str | None = None
    verdict: Verdict | None = None
    plan: Mapping[str, Any] | None = None  # predicted figures (harness.plan.planner), when planned
    warnings: tuple[str, ...] = ()
    diagnostics: Mapping[str, str] = field(default_factory=dict)  # name → text (logs, conditions…)
    artifacts: tuple[str, ...] = ()  # paths relative to the journal's directory
    marks: tuple[Mark, ...] = ()
    events: tuple[CanaryEvent, ...] = ()
    checks: tuple[MetricResult, ...] = ()
    samples: tuple[StatusSample, ...] = ()
    queries: tuple[Mapping[str, Any], ...] = ()  # Prometheus query results as returned
    load: tuple[LoadBucket, ...] = ()
    schedule: Mapping[str, Any] | None = None  # this run's entry of the batch schedule (predicted wall)
    wall_seconds: float | None = None  # measured real seconds, backend creation to teardown
    cluster_canary: Mapping[str, Any] | None = None  # kubernetes: the Canary as applied, scale rewrites

    @property
    def decision(self) -> str:
        """GO / NO-GO / INCONCLUSIVE, or INCOMPLETE for an interrupted run or a missing verdict."""
        if not self.complete or self.verdict is None:
            return "INCOMPLETE"
        return self.verdict.decision


# NaN/inf floats are written as strings ("NaN", "Infinity") so the journal is strict JSON.
RunRecord.__pydantic_config__ = ConfigDict(ser_json_inf_nan="strings")  # type: ignore[attr-defined]
_RECORD = TypeAdapter(RunRecord)
_HINTS = typing.get_type_hints(RunRecord)
_LIST_FIELDS = {name for name, hint in _HINTS.items() if typing.get_origin(hint) is tuple}
_ITEM = {name: TypeAdapter(typing.get_args(_HINTS[name])[0]) for name in _LIST_FIELDS}
_FIELD = {name: TypeAdapter(hint) for name, hint in _HINTS.items() if name not in _LIST_FIELDS}
_REQUIRED = ("schema_version", "run_id", "scenario_id", "complete", "verdict")


def canary_hash(manifest: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of a Canary manifest: sorted keys, no spaces, UTF-8."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def utc_now_iso() -> str:
    """Current wall time as ISO 8601 UTC with seconds, e.g. '2026-01-01T12:00:00Z'."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def record_to_data(record: RunRecord) -> dict[str, Any]:
    """The record as strict-JSON-able data (NaN/inf become strings, enums their values)."""
    data: dict[str, Any] = json.loads(_RECORD.dump_json(record, warnings=False))
    return data


def record_from_data(data: object, *, problems: list[str] | None = None) -> RunRecord:
    """Build a record from decoded JSON, keeping every readable part; problems make it incomplete."""
    found = list(problems or [])
    raw: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    if not isinstance(data, Mapping):
        found.append(f"journal is not a JSON object (found {type(data).__name__})")
    version = raw.get("schema_version")
    if "schema_version" in raw and version != SCHEMA_VERSION:
        found.append(f"unknown schema version {version!r} (this reader knows {SCHEMA_VERSION})")
    found += [f"missing field {name!r}" for name in _REQUIRED if name not in raw]
    values: dict[str, Any] = {}
    for name in (f.name for f in fields(RunRecord)):
        if name in raw:
            _decode_field(name, raw[name], values, found)
    values.setdefault("run_id", "unknown")
    values.setdefault("scenario_id", "unknown")
    if values.get("complete") and values.get("verdict") is None and "missing field 'verdict'" not in found:
        found.append("complete journal without a verdict")
    record = RunRecord(**values)
    if not found:
        return record
    reason = "; ".join(
        dict.fromkeys(([record.incomplete_reason] if record.incomplete_reason else []) + found)
    )
    return replace(record, complete=False, incomplete_reason=reason)


def _decode_field(name: str, value: object, out: dict[str, Any], problems: list[str]) -> None:
    if name in _LIST_FIELDS:
        if not isinstance(value, list):
            problems.append(f"{name}: expected a list, found {type(value).__name__}")
            return
        items, bad = [], 0
        for item in value:
            try:
                items.append(_ITEM[name].validate_python(item))
            except ValidationError:
                bad += 1
        if bad:
            problems.append(f"{name}: {bad} unreadable entries dropped")
        out[name] = tuple(items)
        return
    try:
        out[name] = _FIELD[name].validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        problems.append(f"{name}: {first['msg']} at {'.'.join(map(str, first['loc'])) or '<value>'}")


def redact_record(record: RunRecord) -> RunRecord:
    """The record with secrets removed from every string and every sensitive key (see
    harness.report.redact)."""
    return record_from_data(redact(record_to_data(record)))


def write_journal(record: RunRecord, path: Path) -> Path:
    """Write the redacted record as JSON atomically (temp file, fsync, rename); raise ReportError."""
    text = json.dumps(redact(record_to_data(record)), indent=1, ensure_ascii=False, allow_nan=False)
    _atomic_write(Path(path), text + "\n")
    return Path(path)


def read_journal(path: Path) -> RunRecord:
    """Read a journal (or a ``.partial.jsonl``); broken content gives an INCOMPLETE record, not an error.

    Raises ReportError only when no file can be read at all.
    """
    path = Path(path)
    if path.name.endswith(PARTIAL_SUFFIX):
        return recover(path)
    partial = partial_path_for(path)
    if not path.exists() and partial.exists():
        return recover(partial)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(f"cannot read journal {path}: {exc.strerror or exc}") from exc
    try:
        return record_from_data(json.loads(text))
    except json.JSONDecodeError as exc:
        problem = f"journal {path.name} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    if partial.exists():
        return _with_problem(recover(partial), problem)
    salvaged = close_truncated_json(text)
    if salvaged is None:
        return RunRecord(run_id="unknown", scenario_id=path.stem, complete=False, incomplete_reason=problem)
    return record_from_data(salvaged, problems=[problem + "; the readable beginning is shown"])


def partial_path_for(journal_path: Path) -> Path:
    """``run.json`` → ``run.json.partial.jsonl``."""
    return journal_path.with_name(journal_path.name + PARTIAL_SUFFIX)


def _with_problem(record: RunRecord, problem: str) -> RunRecord:
    reason = "; ".join(filter(None, [problem, record.incomplete_reason]))
    return replace(record, complete=False, incomplete_reason=reason)


def _atomic_write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; journals are shared evidence (already redacted)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write journal {path}: {exc.strerror or exc}") from exc


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JournalWriter:
    """Appends observations to ``<journal>.partial.jsonl`` as they happen; ``finalize`` writes the journal.

    A ``RunListener`` (``harness.model``): register it with the runner. Each line is flushed at once
    (a crash of our process loses nothing); stage changes and warnings are also fsynced.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.partial_path = partial_path_for(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle: typing.TextIO | None = self.partial_path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"cannot open {self.partial_path}: {exc.strerror or exc}") from exc

    def begin(self, record: RunRecord) -> None:
        """Record the run's header: everything in ``record`` except its observation lists."""
        data = record_to_data(record)
        self._write("header", {k: v for k, v in data.items() if k not in _LIST_FIELDS}, sync=True)

    def stage(self, stage: str, at: float) -> None:
        self._write("marks", record_to_data_item(Mark(at=at, kind="stage", detail=stage)), sync=True)

    def observed(self, batch: ObservedBatch) -> None:
        for name in ("samples", "events", "checks", "load", "marks", "queries"):
            for item in getattr(batch, name):
                self._write(name, item if isinstance(item, Mapping) else record_to_data_item(item))

    def warning(self, at: float, text: str) -> None:
        self._write("warnings", text, sync=True)

    def diagnostic(self, name: str, text: str) -> None:
        self._write("diagnostics", {"name": name, "text": text}, sync=True)

    def finalize(self, record: RunRecord) -> Path:
        """Write the full journal atomically, then drop the partial file."""
        written = write_journal(record, self.path)
        self.close()
        self.partial_path.unlink(missing_ok=True)
        return written

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write(self, kind: str, data: object, *, sync: bool = False) -> None:
        if self._handle is None:
            raise ReportError(f"journal writer for {self.path} is closed")
        line = json.dumps({"kind": kind, "data": redact(data)}, ensure_ascii=False, allow_nan=False)
        try:
            self._handle.write(line + "\n")
            self._handle.flush()
            if sync:
                os.fsync(self._handle.fileno())
        except OSError as exc:
            raise ReportError(f"cannot append to {self.partial_path}: {exc.strerror or exc}") from exc


def recover(partial_path: Path) -> RunRecord:
    """Rebuild an INCOMPLETE record from a ``.partial.jsonl`` (a torn last line is skipped)."""
    try:
        lines = Path(partial_path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ReportError(f"cannot read {partial_path}: {exc.strerror or exc}") from exc
    data: dict[str, Any] = {name: [] for name in _LIST_FIELDS}
    data["diagnostics"], torn, stage = {}, 0, "unknown"
    for line in filter(str.strip, lines):
        try:
            entry = json.loads(line)
            kind, value = entry["kind"], entry["data"]
        except (json.JSONDecodeError, TypeError, KeyError):
            torn += 1
            continue
        if kind == "header" and isinstance(value, Mapping):
            data.update({k: v for k, v in value.items() if k not in _LIST_FIELDS})
        elif kind == "diagnostics" and isinstance(value, Mapping):
            data["diagnostics"][str(value.get("name"))] = str(value.get("text"))
        elif kind in _LIST_FIELDS:
            data[kind].append(value)
            if kind == "marks" and isinstance(value, Mapping) and value.get("kind") == "stage":
                stage = str(value.get("detail"))
    reason = f"run interrupted during stage {stage!r}: rebuilt from {len(lines) - torn} journal lines"
    if torn:
        reason += f" ({torn} unreadable lines skipped)"
    data.update(complete=False, incomplete_reason=reason, verdict=None)
    data.setdefault("schema_version", SCHEMA_VERSION)
    return record_from_data(data)


def record_to_data_item(item: object) -> Any:
    """One observation (a frozen dataclass) as strict-JSON-able data."""
    return json.loads(_ANY.dump_json(item, warnings=False))


_ANY: TypeAdapter[Any] = TypeAdapter(Any, config=ConfigDict(ser_json_inf_nan="strings"))
