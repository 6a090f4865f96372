"""JUnit XML: one testsuite, one testcase per scenario run, for CI test dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from harness.errors import ReportError
from harness.model import Decision
from harness.report.evidence import failed_measures, format_value
from harness.report.journal import RunRecord, redact_record


def junit_tree(
    records: Sequence[RunRecord], *, suite_name: str = "canary-chaos"
) -> ET.ElementTree[ET.Element]:
    """GO → pass; NO-GO → <failure> listing the failed measures; INCONCLUSIVE/INCOMPLETE → <error>."""
    runs = [redact_record(r) for r in records]
    decisions = [r.counted_decision for r in runs]  # a declared NO-GO that was met passes
    suite = ET.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(runs)),
        failures=str(decisions.count(Decision.NO_GO)),
        errors=str(sum(d in (Decision.INCONCLUSIVE, Decision.INCOMPLETE) for d in decisions)),
        skipped="0",
        time=f"{sum(_duration(r) for r in runs):.3f}",
    )
    for record in runs:
        suite.append(_testcase(record))
    ET.indent(suite)
    return ET.ElementTree(suite)


def write_junit(records: Sequence[RunRecord], path: Path, *, suite_name: str = "canary-chaos") -> Path:
    """Write the JUnit XML file; raise ReportError when it cannot be written."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        junit_tree(records, suite_name=suite_name).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise ReportError(f"cannot write JUnit XML {path}: {exc.strerror or exc}") from exc
    return Path(path)


def _testcase(record: RunRecord) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=f"canary_chaos.{record.backend or 'unknown'}",
        name=record.scenario_id,
        file=record.scenario_file,
        time=f"{_duration(record):.3f}",
    )
    properties = ET.SubElement(case, "properties")
    for name, value in _properties(record):
        ET.SubElement(properties, "property", name=name, value=value)
    decision = record.counted_decision
    if decision == Decision.NO_GO:
        failed = failed_measures(record.verdict.measures) if record.verdict else ()
        lines = [
            f"{m.name}: measured {format_value(m.measured, m.unit)} > limit {format_value(m.limit, m.unit)}"
            for m in failed
        ]
        lines += list(record.verdict.reasons) if record.verdict else []
        if record.verdict and record.verdict.expected.decision == Decision.NO_GO:
            expected = ", ".join(record.verdict.expected.failing)
            lines.append(f"declared NO-GO on {expected} not met: the decision was {record.decision}")
        failure = ET.SubElement(
            case, "failure", message=f"NO-GO: {len(failed)} expectation(s) not met", type="NO-GO"
        )
        failure.text = "\n".join(dict.fromkeys(lines))
    elif decision in (Decision.INCONCLUSIVE, Decision.INCOMPLETE):
        reasons = list(record.verdict.reasons) if record.verdict and record.complete else []
        reasons += [record.incomplete_reason] if not record.complete and record.incomplete_reason else []
        error = ET.SubElement(
            case, "error", message=f"{decision}: {'; '.join(reasons) or 'no verdict'}", type=decision
        )
        error.text = "\n".join(reasons)
    out = ET.SubElement(case, "system-out")
    out.text = record.rollback_conditions.sentence if record.rollback_conditions else ""
    return case


def _properties(record: RunRecord) -> list[tuple[str, str]]:
    pairs = [("decision", record.decision), ("run_id", record.run_id), ("canary_hash", record.canary_hash)]
    for m in record.verdict.measures if record.verdict else ():
        text = f"measured {format_value(m.measured, m.unit)} / limit {format_value(m.limit, m.unit)}"
        if m.predicted is not None:
            text += f" / predicted {format_value(m.predicted, m.unit)}"
        pairs.append((m.name, text))
    return pairs


def _duration(record: RunRecord) -> float:
    try:
        start = datetime.fromisoformat(record.started_at or "")
        end = datetime.fromisoformat(record.finished_at or "")
    except ValueError:
        return 0.0
    return max(0.0, (end - start).total_seconds())
