"""Re-render evidence from journals alone: ``python -m harness.report run.json … --html out.html``.

Exit codes as ``canary-chaos run``: 0 all GO, 1 any NO-GO or INCONCLUSIVE, 2 bad usage, 3 any run
INCOMPLETE or evidence that could not be read/written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.errors import EXIT_INFRASTRUCTURE, ReportError
from harness.model import decisions_exit_code
from harness.report.journal import RunRecord, read_journal


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.report", description=__doc__.splitlines()[0])
    parser.add_argument("journals", nargs="+", type=Path, help="journal files (.json or .partial.jsonl)")
    parser.add_argument("--html", type=Path, help="write the HTML report here")
    parser.add_argument("--title", default="Canary guardrail evidence")
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    parser.add_argument("--csv", type=Path, help="write CSV exports into this directory")
    args = parser.parse_args(argv)
    try:
        records = [read_journal(path) for path in args.journals]
        _write(records, args)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    for record in records:
        print(f"{record.decision:<13} {record.scenario_id}  ({record.run_id})")
    return exit_code(records)


def exit_code(records: Sequence[RunRecord]) -> int:
    """The same codes as ``canary-chaos run``."""
    return decisions_exit_code(r.counted_decision for r in records)


def _write(records: list[RunRecord], args: argparse.Namespace) -> None:
    if args.html:
        from harness.report.render_html import render_html

        print(f"report: {render_html(records, args.html, title=args.title)}")
    if args.junit:
        from harness.report.junit import write_junit

        print(f"junit: {write_junit(records, args.junit)}")
    if args.csv:
        from harness.report.csv_export import export_csv

        for record in records:
            export_csv(record, args.csv)
        print(f"csv: {args.csv}")


if __name__ == "__main__":
    sys.exit(main())
