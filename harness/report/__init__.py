"""Evidence rendering: the run journal (``harness.report.journal``) rendered as HTML, CSV and JUnit.

Kept import-light on purpose: ``harness.report.journal`` (pure core) imports ``harness.report.conditions``, so
nothing here may pull matplotlib, pandas or jinja2 at package import time.
"""
