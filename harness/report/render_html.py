"""The self-contained HTML evidence report: one page, inline CSS and SVG, no scripts, no external URLs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

from harness.errors import ReportError
from harness.report.compare import compare_groups, seconds_text
from harness.report.journal import RunRecord, redact_record, utc_now_iso
from harness.report.view import run_view

TEMPLATES = Path(__file__).with_name("templates")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every string from events, logs and scenario files is escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# Rendered run sections (charts are the costly part), keyed by run id and position in the report.
ViewCache = MutableMapping[tuple[str, int], dict[str, Any]]


def render_html(
    records: Sequence[RunRecord],
    out_path: Path,
    *,
    title: str = "Canary guardrail evidence",
    cache: ViewCache | None = None,
) -> Path:
    """Render ``records`` (redacted first) to one HTML file; raise ReportError when it cannot be written.

    A batch re-renders its report after every run; ``cache`` keeps it linear in the number of runs.
    """
    html = render_html_text(records, title=title, cache=cache)
    out_path = Path(out_path)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)  # a shared CI artifact, not a private file
        os.replace(tmp, out_path)
    except OSError as exc:
        raise ReportError(f"cannot write report {out_path}: {exc.strerror or exc}") from exc
    return out_path


def render_html_text(
    records: Sequence[RunRecord], *, title: str = "Canary guardrail evidence", cache: ViewCache | None = None
) -> str:
    """The report as a string (see ``render_html``)."""
    cache = {} if cache is None else cache
    runs = []
    for index, record in enumerate(records):
        key = (record.run_id, index)
        if key not in cache:
            cache[key] = run_view(redact_record(record), index)
        runs.append(cache[key])
    template = _ENV.get_template("report.html.j2")
    return template.render(
        title=title,
        runs=runs,
        compared=compare_groups(records),
        seconds_text=seconds_text,
        generated_at=utc_now_iso(),
        generator_version=_version(),
    )


def _version() -> str:
    try:
        return metadata.version("canary-chaos")
    except metadata.PackageNotFoundError:
        return "unknown"
