"""The self-contained HTML evidence report: one page, inline CSS and SVG, no scripts, no external URLs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import jinja2

from harness.errors import ReportError
from harness.journal import RunRecord, redact_record, utc_now_iso
from harness.report.view import run_view

TEMPLATES = Path(__file__).with_name("templates")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every string from events, logs and scenario files is escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(
    records: Sequence[RunRecord], out_path: Path, *, title: str = "Canary guardrail evidence"
) -> Path:
    """Render ``records`` (redacted first) to one HTML file; raise ReportError when it cannot be written."""
    html = render_html_text(records, title=title)
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


def render_html_text(records: Sequence[RunRecord], *, title: str = "Canary guardrail evidence") -> str:
    """The report as a string (see ``render_html``)."""
    runs = [run_view(redact_record(record), index) for index, record in enumerate(records)]
    template = _ENV.get_template("report.html.j2")
    return template.render(title=title, runs=runs, generated_at=utc_now_iso(), generator_version=_version())


def _version() -> str:
    try:
        return metadata.version("canary-chaos")
    except metadata.PackageNotFoundError:
        return "unknown"
