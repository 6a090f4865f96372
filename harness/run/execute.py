"""Run scenarios end to end: backend + load + runner → verdict → journal, HTML, JUnit and CSV evidence."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from harness.backends.base import Backend
from harness.errors import (
    EXIT_INFRASTRUCTURE,
    EXIT_INTERRUPTED,
    Interrupted,
    LocatedInputError,
    ReportError,
)
from harness.model import Decision, Ingress, decisions_exit_code
from harness.plan.measures import Predicted
from harness.plan.predict import plan_for, with_predictions
from harness.plan.schedule import LOCAL_STARTUP, Schedule, ScheduleEntry, StartupEstimate, make_schedule
from harness.plan.schedule import entry_to_json as schedule_entry_json
from harness.report.conditions import rollback_conditions
from harness.report.csv_export import export_csv
from harness.report.journal import JournalWriter, RunRecord, canary_hash, utc_now_iso, write_journal
from harness.report.junit import write_junit
from harness.report.provenance import git_commit, tool_versions
from harness.report.render_html import ViewCache, render_html
from harness.run.options import RunOptions
from harness.run.parallel import CancellableBackend, SharedProgress, StopFlag, run_pool
from harness.run.progress import NullProgress, ProgressView, make_progress
from harness.run.runner import LoadDriver, RunOutcome, ScenarioRun
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario
from harness.scenario.yamlloc import load_located
from harness.verdict.judge import evaluate, evidence_for


def schedule_for(scenarios: Sequence[Scenario], options: RunOptions) -> Schedule:
    """The schedule ``run_scenarios`` follows for these options (also ``canary-chaos schedule``)."""
    default = LOCAL_STARTUP if options.backend == "local" else StartupEstimate()
    # a controller without a kubernetes backend runs locally only: skipped elsewhere, so not scheduled
    runnable = [
        s for s in scenarios if s.canary is not None or s.rollout is not None or options.backend == "local"
    ]
    return make_schedule(
        runnable,
        backend=options.backend,
        time_scale=options.time_scale,
        parallel=options.parallel,
        startup=options.startup or default,
        repeat=options.repeat,
    )


@dataclass
class BatchResult:
    out_dir: Path
    records: list[RunRecord] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (scenario id, why)
    html: Path | None = None
    junit: Path | None = None
    interrupted: Interrupted | None = None
    infrastructure_failures: list[str] = field(default_factory=list)
    views: ViewCache = field(default_factory=dict, repr=False)  # rendered run sections, reused per render
    schedule: Schedule | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # records, renders

    @property
    def exit_code(self) -> int:
        if self.interrupted is not None:
            return EXIT_INTERRUPTED
        decisions = [r.counted_decision for r in self.records]
        if self.infrastructure_failures and Decision.NO_GO not in decisions:
            return EXIT_INFRASTRUCTURE  # a broken harness part outranks an unproven guardrail
        return decisions_exit_code(decisions)


BackendFactory = Callable[[Scenario, RunOptions, Path], Backend]
LoadFactoryMaker = Callable[[RunOptions, Path, Backend], Callable[[Scenario, Ingress], LoadDriver]]


def run_scenarios(
    scenarios: Sequence[Scenario],
    options: RunOptions,
    *,
    backend_factory: BackendFactory | None = None,
    load_factory: LoadFactoryMaker | None = None,
    progress: ProgressView | None = None,
) -> BatchResult:
    """Run every scenario ``options.repeat`` times; evidence is rendered after each run."""
    from harness.run.factory import (
        default_load_factory,
        make_backend,
        shared_prometheus_for,
        unmet_requirements,
    )

    load_factory = load_factory or default_load_factory
    progress = progress or make_progress(options.progress)
    batch = BatchResult(out_dir=_batch_dir(options.report_dir, progress))
    runnable: list[Scenario] = []
    for scenario in scenarios:
        unmet = unmet_requirements(scenario, options)
        if unmet:
            batch.skipped.append((scenario.id, unmet))
            progress.message(f"[{scenario.id}] SKIPPED: {unmet}")
        else:
            runnable.append(scenario)
    batch.schedule = schedule_for(runnable, options)
    runs = [(runnable[e.index // options.repeat], e) for e in batch.schedule.entries]
    shared = None
    if backend_factory is None:
        shared = shared_prometheus_for(options, batch.out_dir) if options.parallel == 1 else None
        backend_factory = partial(make_backend, shared=shared)
    try:
        if options.parallel == 1:
            _run_serially(runs, options, batch, backend_factory, load_factory, progress)
        else:
            _run_in_parallel(runs, options, batch, backend_factory, load_factory, progress)
    finally:
        if shared is not None:
            shared.stop()
        progress.close()
        _render(batch)
    return batch


_Run = tuple[Scenario, ScheduleEntry]


def _run_serially(
    runs: Sequence[_Run],
    options: RunOptions,
    batch: BatchResult,
    backend_factory: BackendFactory,
    load_factory: LoadFactoryMaker,
    progress: ProgressView,
) -> None:
    for scenario, entry in runs:
        outcome = _run_and_keep(scenario, entry, options, batch, backend_factory, load_factory, progress)
        if isinstance(outcome.error, Interrupted):
            batch.interrupted = outcome.error
            return


def _run_in_parallel(
    runs: Sequence[_Run],
    options: RunOptions,
    batch: BatchResult,
    backend_factory: BackendFactory,
    load_factory: LoadFactoryMaker,
    progress: ProgressView,
) -> None:
    """Each run in its own worker (kubernetes: its own namespace, host and Locust); Ctrl-C stops them all
    and every started run's teardown runs (``harness.run.parallel``)."""
    stop = StopFlag()
    view = SharedProgress(progress)

    def cancellable(scenario: Scenario, opts: RunOptions, run_dir: Path) -> Backend:
        return CancellableBackend(backend_factory(scenario, opts, run_dir), stop)

    def run_one(run: _Run) -> None:
        scenario, entry = run
        try:
            _run_and_keep(scenario, entry, options, batch, cancellable, load_factory, view)
        except Exception as exc:  # a run that cannot even start must not stop the others
            with batch.lock:
                batch.infrastructure_failures.append(f"{scenario.id}: {type(exc).__name__}: {exc}")
            view.message(f"[{scenario.id}] could not run: {type(exc).__name__}: {exc}")

    interrupted = run_pool(runs, options.parallel, run_one, stop)
    if interrupted is not None:
        batch.interrupted = interrupted


def _run_and_keep(
    scenario: Scenario,
    entry: ScheduleEntry,
    options: RunOptions,
    batch: BatchResult,
    backend_factory: BackendFactory,
    load_factory: LoadFactoryMaker,
    progress: ProgressView,
) -> RunOutcome:
    attempt = entry.index % options.repeat
    run_dir = batch.out_dir / "runs" / f"{scenario.id}-{attempt + 1}"
    record, outcome = _run_once(scenario, options, run_dir, backend_factory, load_factory, progress, entry)
    with batch.lock:
        batch.records.append(record)
        _render(batch)
        if isinstance(outcome.error, Interrupted):
            batch.interrupted = batch.interrupted or outcome.error
        elif outcome.lost_evidence is not None:
            batch.infrastructure_failures.append(f"{scenario.id}: {outcome.lost_evidence}")
        elif outcome.error is not None and not outcome.complete:
            batch.infrastructure_failures.append(f"{scenario.id}: {outcome.incomplete_reason}")
    return outcome


def run_scenario_file(
    path: Path, *, backend: str = "local", time_scale: float = 60.0, report_dir: Path = Path("reports")
) -> RunRecord:
    """Entry point of the pytest plugin: one scenario file → one record (raises Interrupted on Ctrl-C)."""
    scenario = load_scenario(path)
    options = RunOptions(backend=backend, time_scale=time_scale, report_dir=report_dir, progress=False)
    batch = run_scenarios([scenario], options)
    if batch.interrupted is not None:
        raise batch.interrupted
    if not batch.records:
        reason = batch.skipped[0][1] if batch.skipped else "not run"
        raise ReportError(f"{path}: {reason}")
    return batch.records[-1]


def _run_once(
    scenario: Scenario,
    options: RunOptions,
    run_dir: Path,
    backend_factory: BackendFactory,
    load_factory: LoadFactoryMaker,
    progress: ProgressView,
    entry: ScheduleEntry | None = None,
) -> tuple[RunRecord, RunOutcome]:
    run_dir.mkdir(parents=True, exist_ok=True)
    # the plan comes first; the report shows predicted vs measured
    planned, predicted = plan_for(scenario, time_scale=options.time_scale)
    header = _header(scenario, options, run_dir, planned)
    if entry is not None:
        header = replace(header, schedule=schedule_entry_json(entry))
    writer = _open_writer(run_dir / "journal.json", progress)
    writer.begin(header)
    started = time.monotonic()
    backend = backend_factory(scenario, options, run_dir)
    run = ScenarioRun(
        scenario,
        backend=backend,
        load_factory=load_factory(options, run_dir, backend),
        listeners=[writer],
        progress=progress,
    )
    outcome = run.execute()
    header = replace(header, cluster_canary=_cluster_canary(backend))
    record = replace(_record(header, scenario, outcome, predicted), wall_seconds=time.monotonic() - started)
    try:
        writer.finalize(record)
    except ReportError as exc:  # a full disk or a vanished dir: keep the journal elsewhere, say where
        with contextlib.suppress(OSError):
            writer.close()
        fallback = write_journal(record, _temp_journal_path(writer.path.name))
        _notice(progress, f"cannot write the journal ({exc}); keeping it at {fallback}")
    try:
        export_csv(record, run_dir / "csv")
    except ReportError as exc:
        progress.message(f"[{scenario.id}] CSV export failed: {exc}")
    progress.message(f"[{scenario.id}] {record.decision}: journal {writer.path}")
    return record, outcome


def _header(
    scenario: Scenario, options: RunOptions, run_dir: Path, planned: dict[str, Any] | None
) -> RunRecord:
    manifest = dict(scenario.canary_manifest)
    return RunRecord(
        plan=planned,
        run_id=f"{scenario.id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{run_dir.name}",
        scenario_id=scenario.id,
        scenario_file=str(scenario.file),
        scenario=_scenario_data(scenario.file),
        description=scenario.description,
        canary_manifest=manifest,
        canary_hash=canary_hash(manifest),
        rollback_conditions=rollback_conditions(manifest) if scenario.canary is not None else None,
        backend=options.backend,
        controller=scenario.controller,
        time_scale=options.time_scale,
        started_at=utc_now_iso(),
        tool_versions=tool_versions(),
        git_commit=git_commit(),
        primary_version=scenario.stable.version,
        canary_version=scenario.revision.version,
    )


def _record(header: RunRecord, scenario: Scenario, outcome: RunOutcome, predicted: Predicted) -> RunRecord:
    t = outcome.recorder.timeline
    evidence = evidence_for(
        scenario,
        samples=tuple(t.samples),
        events=tuple(t.events),
        checks=tuple(t.checks),
        load=tuple(t.load),
        marks=tuple(t.marks),
        complete=outcome.complete,
        missing=tuple(outcome.missing) + ((outcome.incomplete_reason,) if outcome.incomplete_reason else ()),
        time_scale=header.time_scale,
    )
    verdict = with_predictions(evaluate(scenario.expect, scenario.policy, evidence), predicted)
    return replace(
        header,
        finished_at=utc_now_iso(),
        complete=outcome.complete,
        incomplete_reason=outcome.incomplete_reason,
        verdict=verdict,
        warnings=tuple(t.warnings) + tuple(verdict.warnings),
        diagnostics=dict(outcome.diagnostics),
        marks=tuple(t.marks),
        events=tuple(t.events),
        checks=tuple(t.checks),
        samples=tuple(t.samples),
        queries=tuple(t.queries),
        load=tuple(t.load),
    )


def _cluster_canary(backend: Backend) -> dict[str, Any] | None:
    """The Canary as applied on a cluster and what the time scale rewrote (kubernetes backend only)."""
    applied = getattr(backend, "cluster_canary", None)
    to_data = getattr(applied, "to_data", None)
    return to_data() if callable(to_data) else None


def _open_writer(path: Path, progress: ProgressView) -> JournalWriter:
    """The journal goes to the report dir; if that is unwritable, to a temp dir (and we say where)."""
    try:
        return JournalWriter(path)
    except ReportError as exc:
        fallback = _temp_journal_path(path.name)
        _notice(progress, f"cannot write the journal to {path} ({exc}); keeping it at {fallback}")
        return JournalWriter(fallback)


def _temp_journal_path(name: str) -> Path:
    """Where a journal goes when the report directory cannot take it."""
    return Path(tempfile.mkdtemp(prefix="canary-chaos-journal-")) / name


def _render(batch: BatchResult) -> None:
    if not batch.records:
        return
    batch.html = render_html(batch.records, batch.out_dir / "report.html", cache=batch.views)
    batch.junit = write_junit(batch.records, batch.out_dir / "junit.xml")


def _batch_dir(report_dir: Path, progress: ProgressView) -> Path:
    """``<report_dir>/<stamp>``; if that cannot be created, a temp dir (and we say where, on stderr)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    out = Path(report_dir).resolve() / stamp  # absolute: child processes run in other directories
    try:
        out.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        try:
            fallback = Path(tempfile.mkdtemp(prefix=f"canary-chaos-{stamp}-"))
        except OSError as tmp_exc:
            raise ReportError(f"cannot create the report directory {out}: {exc.strerror or exc}") from tmp_exc
        _notice(
            progress,
            f"cannot create the report directory {out} ({exc.strerror or exc}); "
            f"writing the evidence to {fallback}",
        )
        return fallback
    return out


def _notice(progress: ProgressView, text: str) -> None:
    """A message that must be seen even with --no-progress (where the progress view drops messages)."""
    progress.message(text)
    if isinstance(progress, NullProgress):
        print(text, file=sys.stderr)


def _scenario_data(path: Path) -> dict[str, Any]:
    try:
        data = load_located(path).data
    except LocatedInputError:
        return {}
    return data if isinstance(data, dict) else {}
