"""Re-render evidence from journals alone: ``python -m harness.report run.json … --html out.html``.

Exit codes: 0 all GO, 1 any NO-GO, 2 bad usage, 3 evidence could not be read/written, 4 any run
INCONCLUSIVE or INCOMPLETE (nothing to decide on).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.errors import EXIT_INFRASTRUCTURE, EXIT_NO_GO, EXIT_OK, ReportError
from harness.journal import RunRecord, read_journal
from harness.model import Decision

EXIT_UNDECIDED = 4


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
    decisions = {r.decision for r in records}
    if Decision.NO_GO in decisions:
        return EXIT_NO_GO
    if decisions & {Decision.INCONCLUSIVE, Decision.INCOMPLETE}:
        return EXIT_UNDECIDED
    return EXIT_OK


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
