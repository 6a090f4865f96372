"""pytest plugin (entry point ``canary_chaos``): ``pytest scenarios/`` runs every scenario file as a test.

GO passes, NO-GO fails (listing the failed measures), INCONCLUSIVE/INCOMPLETE and infrastructure errors are
reported as errors. Options: ``--canary-backend``, ``--canary-time-scale``, ``--canary-report-dir``. The
runner is ``harness.run.execute:run_scenario_file`` unless ``--canary-runner``, ``$CANARY_CHAOS_RUNNER`` or
the ini option ``canary_runner`` names another ``module:function`` (tests use a fake one). With pytest-html
active, each scenario's verdict table and chart are attached to its row, and at the end of the session the
evidence package (HTML + JUnit) is written to the report directory.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError, LocatedInputError
from harness.model import Decision
from harness.report.journal import RunRecord
from harness.scenario.yamlloc import load_located

RUNNER_ENV = "CANARY_CHAOS_RUNNER"
DEFAULT_RUNNER = "harness.run.execute:run_scenario_file"
IGNORED_NAMES = frozenset({"policy.yaml", "policy.yml"})
_RECORDS = pytest.StashKey[list[RunRecord]]()

Runner = Callable[..., RunRecord]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("canary-chaos", "canary-chaos scenarios")
    group.addoption("--canary-backend", default="local", help="backend to run scenarios on (default: local)")
    group.addoption("--canary-time-scale", type=float, default=60.0, help="emulated seconds per real second")
    group.addoption("--canary-report-dir", default="reports", help="where journals and evidence are written")
    group.addoption("--canary-runner", default=None, help="runner as module:function (overrides the default)")
    parser.addini("canary_runner", "runner as module:function for scenario items", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RECORDS] = []


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_scenario_file(file_path, parent.config.rootpath):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def is_scenario_file(path: Path, root: Path | None = None) -> bool:
    """YAML under a ``scenarios/`` dir, or any YAML with a top-level ``expect:`` (never policy/canaries)."""
    if path.suffix not in (".yaml", ".yml") or path.name in IGNORED_NAMES:
        return False
    try:
        parts = path.resolve().relative_to(root.resolve()).parts if root else path.parts
    except ValueError:
        parts = path.parts
    if "canaries" in parts[:-1]:
        return False
    try:
        data = load_located(path).data  # guarded: a YAML bomb in a collected directory must not hang pytest
    except LocatedInputError:
        return "scenarios" in parts[:-1]  # let the runner report where a scenario file is broken
    if not isinstance(data, dict) or {"apiVersion", "kind"} <= data.keys():
        return False
    return "scenarios" in parts[:-1] or "expect" in data


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioItem(pytest.Item):
    """One scenario run: the run happens in setup (so broken runs are errors), the verdict in call."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record: RunRecord | None = None

    def setup(self) -> None:
        options = self.config.option
        try:
            self.record = resolve_runner(self.config)(
                self.path,
                backend=options.canary_backend,
                time_scale=options.canary_time_scale,
                report_dir=Path(options.canary_report_dir),
            )
        except HarnessError as exc:
            pytest.fail(f"{type(exc).__name__}: {exc}", pytrace=False)
        self.config.stash[_RECORDS].append(self.record)
        for measure in self.record.verdict.measures if self.record.verdict else ():
            self.user_properties.append(
                (measure.name, f"measured {measure.measured} / limit {measure.limit}")
            )
        if self.record.decision in (Decision.INCONCLUSIVE, Decision.INCOMPLETE):
            pytest.fail(_undecided_message(self.record), pytrace=False)

    def runtest(self) -> None:
        assert self.record is not None
        if self.record.decision == Decision.NO_GO:
            pytest.fail(_no_go_message(self.record), pytrace=False)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.name}"


def resolve_runner(config: pytest.Config) -> Runner:
    """The runner named by --canary-runner, $CANARY_CHAOS_RUNNER or ini canary_runner, else the default."""
    spec = config.option.canary_runner or os.environ.get(RUNNER_ENV) or config.getini("canary_runner")
    module_name, _, attribute = (spec or DEFAULT_RUNNER).partition(":")
    runner: Runner = getattr(importlib.import_module(module_name), attribute or "run_scenario_file")
    return runner


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    record = getattr(item, "record", None)
    decided = report.when == "call" or (report.when == "setup" and not report.passed)
    if isinstance(item, ScenarioItem) and record is not None and decided and _html_active(item.config):
        from pytest_html import extras

        from harness.report.pytest_html_extras import chart_html, verdict_table_html

        attached = [extras.html(verdict_table_html(record)), extras.html(chart_html(record))]
        report.extras = [*getattr(report, "extras", []), *attached]  # type: ignore[attr-defined]
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    records = session.config.stash.get(_RECORDS, [])
    if not records:
        return
    from harness.errors import ReportError
    from harness.report.junit import write_junit
    from harness.report.render_html import render_html

    out = Path(session.config.option.canary_report_dir)
    try:
        render_html(records, out / "evidence.html", title="canary-chaos evidence (pytest)")
        write_junit(records, out / "evidence-junit.xml")
    except ReportError as exc:
        session.config.issue_config_time_warning(pytest.PytestWarning(str(exc)), stacklevel=2)


def _html_active(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("html") and bool(getattr(config.option, "htmlpath", None))


def _no_go_message(record: RunRecord) -> str:
    from harness.report.evidence import failed_measures, format_value

    measures = failed_measures(record.verdict.measures) if record.verdict else ()
    lines = [f"NO-GO: {record.scenario_id}"]
    lines += [
        f"  {m.name}: measured {format_value(m.measured, m.unit)}, limit {format_value(m.limit, m.unit)}"
        for m in measures
    ]
    lines += [f"  reason: {reason}" for reason in (record.verdict.reasons if record.verdict else ())]
    return "\n".join(lines)


def _undecided_message(record: RunRecord) -> str:
    if record.decision == Decision.INCOMPLETE:
        return f"INCOMPLETE: {record.scenario_id}: {record.incomplete_reason or 'no verdict recorded'}"
    reasons = "; ".join(record.verdict.reasons) if record.verdict else ""
    return f"INCONCLUSIVE: {record.scenario_id}: {reasons or 'no reason given'}"
