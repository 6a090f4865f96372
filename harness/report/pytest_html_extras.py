"""HTML snippets attached to pytest-html rows: a scenario's verdict table and its chart."""

from __future__ import annotations

from markupsafe import Markup

from harness.report.charts import run_chart_svg
from harness.report.journal import RunRecord, redact_record
from harness.report.view import measure_view

_TABLE = Markup(
    '<div class="canary-chaos"><p><strong>{scenario}</strong>: {decision}</p>'
    '<table border="1" cellpadding="3"><tr><th>Expectation</th><th>Measured</th><th>Limit</th>'
    "<th>Predicted</th><th>Result</th></tr>{rows}</table></div>"
)
_ROW = Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>")


def verdict_table_html(record: RunRecord) -> str:
    """The verdict as a small escaped HTML table."""
    record = redact_record(record)
    measures = [measure_view(m) for m in (record.verdict.measures if record.verdict else ())]
    rows = Markup("").join(_ROW.format(m.name, m.measured, m.limit, m.predicted, m.result) for m in measures)
    return str(_TABLE.format(scenario=record.scenario_id, decision=record.decision, rows=rows))


def chart_html(record: RunRecord) -> str:
    """The run chart as inline SVG inside a div."""
    svg = Markup(run_chart_svg(redact_record(record)))  # noqa: S704 - matplotlib escapes its text
    return str(Markup('<div class="canary-chaos-chart" style="max-width:900px">{}</div>').format(svg))
