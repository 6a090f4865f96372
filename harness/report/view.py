"""Run records turned into plain view data for the HTML template (strings already formatted)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from harness.durations import format_clock, format_duration
from harness.model import Decision, Measure
from harness.report.charts import run_chart_svg
from harness.report.conditions import AbortCriterion, RollbackConditions
from harness.report.evidence import format_value, interval_samples, time_origin
from harness.report.journal import RunRecord
from harness.report.remediation import Note, remediation_notes

_RESULTS = {True: ("pass", "pass"), False: ("FAIL", "fail"), None: ("not judged", "unknown")}


@dataclass(frozen=True)
class MeasureView:
    name: str
    measured: str
    limit: str
    predicted: str
    result: str
    css: str
    note: str


def _declared(record: RunRecord) -> str:
    """A declared NO-GO (a guardrail-design example): what it names and whether the run met it."""
    verdict = record.verdict
    if verdict is None or verdict.expected.decision == Decision.GO:
        return ""
    met = "met: this run counts as a pass" if verdict.as_expected else "NOT met: this run counts as NO-GO"
    return f"Declared {verdict.expected.decision} on {', '.join(verdict.expected.failing)} — {met}."


def run_view(record: RunRecord, index: int) -> dict[str, Any]:
    """Everything the template shows for one run; ``record`` must already be redacted."""
    origin = time_origin(record)
    verdict = record.verdict
    return {
        "anchor": f"run-{index}-{re.sub(r'[^A-Za-z0-9_-]+', '-', record.scenario_id)[:60]}",
        "scenario_id": record.scenario_id,
        "description": record.description,
        "decision": record.decision,
        "declared": _declared(record),
        "incomplete": not record.complete,
        "incomplete_reason": record.incomplete_reason or "the run did not record a verdict",
        "stamp": guardrail_stamp(record),
        "reasons": list(verdict.reasons) if verdict else [],
        "measures": [measure_view(m) for m in (verdict.measures if verdict else ())],
        "notes": list(_notes(record)),
        "chart": _chart(record),
        "conditions": _conditions(record.rollback_conditions),
        "intervals": [
            {
                "at": format_clock(s.at - origin),
                "window": format_duration(s.window),
                "requests": s.canary_requests,
                "bad": s.canary_bad,
                "failed": ", ".join(s.failed_metrics) or "—",
                "low": s.low,
            }
            for s in interval_samples(record)
        ],
        "warnings": list(dict.fromkeys([*record.warnings, *(verdict.warnings if verdict else ())])),
        "events": [
            {
                "at": format_clock(e.at - origin),
                "type": e.type,
                "phase": str(e.phase),
                "message": e.message if e.reason == "Synced" else f"{e.reason}: {e.message}",
            }
            for e in sorted(record.events, key=lambda e: e.at)
        ],
        "diagnostics": sorted(record.diagnostics.items()),
        "plan": json.dumps(record.plan, indent=2, default=str) if record.plan else None,
        "run_id": record.run_id,
        "scenario_file": record.scenario_file or "—",
        "canary_hash": record.canary_hash or "—",
        "backend": record.backend or "—",
        "controller": record.controller,
        "no_plan": record.plan is None and record.controller != "flagger",
        "time_scale": f"{record.time_scale:g}",
        "wall_time": wall_time_text(record),
        "cluster_canary": cluster_canary_view(record),
        "mesh": mesh_view(record),
        "started_at": record.started_at or "—",
        "finished_at": record.finished_at or "—",
        "git_commit": record.git_commit or "not a git checkout",
        "tool_versions": sorted(record.tool_versions.items()),
        "scenario": json.dumps(record.scenario, indent=2, default=str),
    }


def wall_time_text(record: RunRecord) -> str:
    """'predicted 4m30s (slot 2), measured 4m12s': the batch schedule against this run's wall clock."""
    parts = []
    if record.schedule and isinstance(record.schedule.get("seconds"), int | float):
        parts.append(f"predicted {format_duration(float(record.schedule['seconds']))}")
        if record.schedule.get("slot"):
            parts[-1] += f" (slot {record.schedule['slot']})"
    if record.wall_seconds is not None:
        parts.append(f"measured {format_duration(round(record.wall_seconds))}")
    return ", ".join(parts) or "—"


def cluster_canary_view(record: RunRecord) -> dict[str, Any] | None:
    """The Canary as applied on a cluster: the scale, each rewritten field, and the manifest."""
    applied = record.cluster_canary
    if not applied:
        return None
    changes = [f"{c['path']}: {c['before']} → {c['after']}" for c in applied.get("changes", [])]
    return {
        "scale": f"{applied.get('scale', record.time_scale):g}",
        "changes": changes or ["nothing (scale 1)"],
        "manifest": json.dumps(applied.get("manifest", {}), indent=2, default=str),
    }


_MESH_PARTS = (("mesh", "app pods"), ("ingress_mesh", "ingress pods (the load's way in)"))


def mesh_view(record: RunRecord) -> list[dict[str, Any]] | None:
    """Linkerd's mTLS evidence from the journal (``cluster_canary.mesh`` / ``.ingress_mesh``): per pod,
    meshed or not, proxy version, identity and where it was read, inbound mTLS requests. None off-mesh."""
    applied = record.cluster_canary or {}
    groups = []
    for key, what in _MESH_PARTS:
        evidence = applied.get(key)
        if not isinstance(evidence, dict):
            continue
        pods = [
            {
                "pod": str(p.get("pod", "")),
                "meshed": "yes" if p.get("meshed") else "NO",
                "css": "pass" if p.get("meshed") and p.get("identity") else "fail",
                "proxy_version": str(p.get("proxy_version") or "—"),
                "identity": str(p.get("identity") or "—"),
                "source": str(p.get("identity_source") or "—"),
                "mtls": "—" if p.get("mtls_requests") is None else f"{float(p['mtls_requests']):g}",
                "problem": str(p.get("problem") or ""),
            }
            for p in evidence.get("pods", [])
            if isinstance(p, dict)
        ]
        verdict = "all meshed" if evidence.get("meshed") else "NOT all meshed"
        groups.append({"what": what, "namespace": evidence.get("namespace", "—"), "verdict": verdict,
                       "pods": pods})  # fmt: skip
    return groups or None


def measure_view(measure: Measure) -> MeasureView:
    result, css = _RESULTS[measure.passed]
    return MeasureView(
        name=measure.name,
        measured=format_value(measure.measured, measure.unit),
        limit=format_value(measure.limit, measure.unit),
        predicted=format_value(measure.predicted, measure.unit) if measure.predicted is not None else "",
        result=result,
        css=css,
        note=measure.note,
    )


def guardrail_stamp(record: RunRecord) -> str | None:
    """'Guardrail last proven: <finished_at> for spec hash <hash[:12]>', for GO runs only."""
    if record.decision != Decision.GO:
        return None
    proven = record.finished_at or "unknown time"
    return f"Guardrail last proven: {proven} for spec hash {record.canary_hash[:12]}"


def _notes(record: RunRecord) -> tuple[Note, ...]:
    try:
        return remediation_notes(record)
    except Exception as exc:  # a report must render whatever is present, even from odd data
        return (Note("report", f"remediation notes unavailable: {type(exc).__name__}: {exc}"),)


def _chart(record: RunRecord) -> Markup:
    try:
        return Markup(run_chart_svg(record))  # noqa: S704 - matplotlib escapes all text it writes
    except Exception as exc:  # a broken chart must not hide the rest of the evidence
        return Markup('<p class="muted">chart unavailable: {}</p>').format(
            escape(f"{type(exc).__name__}: {exc}")
        )


def _conditions(conditions: RollbackConditions | None) -> dict[str, Any] | None:
    if conditions is None:
        return None
    return {
        "sentence": conditions.sentence,
        "criteria": [_criterion(c) for c in conditions.criteria],
        "threshold": conditions.threshold,
        "interval": format_duration(conditions.interval_seconds),
        "abort_after": f"{conditions.threshold} × {format_duration(conditions.interval_seconds)} = "
        f"{format_duration(conditions.abort_after_first_failure_seconds)}",
        "deadline": f"{conditions.progress_deadline_seconds} s",
        "max_weight": conditions.max_weight,
        "steps": " → ".join(f"{w}%" for w in conditions.progression) or "—",
    }


def _criterion(criterion: AbortCriterion) -> dict[str, str | None]:
    low = f"{criterion.min:g}" if criterion.min is not None else "−∞"
    high = f"{criterion.max:g}" if criterion.max is not None else "+∞"
    return {
        "metric": criterion.metric,
        "range": f"[{low}, {high}]",
        "window": criterion.window or "—",
        "template": criterion.template,
    }
