"""``canary-chaos``: run scenarios, list and validate the catalog, plan a guardrail, re-render reports.

Exit codes: 0 all GO; 1 any NO-GO (or a guardrail left unproven: INCONCLUSIVE); 2 bad input;
3 infrastructure failure; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harness.errors import EXIT_BAD_INPUT, EXIT_INFRASTRUCTURE, HarnessError, InputError
from harness.run.cli_options import controller_option, for_controllers, timing, timing_options

if TYPE_CHECKING:
    from harness.report.journal import RunRecord

CATALOG_DIR = Path("scenarios")


class _HarnessGroup(click.Group):
    """Turns our exception tree into one clear line and the right exit code (no traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except HarnessError as exc:
            click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(exc.exit_code or EXIT_INFRASTRUCTURE)


@click.group(cls=_HarnessGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="canary-chaos")
def main() -> None:
    """Prove that canary guardrails (Flagger, Argo Rollouts; Traefik) abort within their blast limits."""


def _check_cluster_scale(
    scenarios: list[Any], scale: float, scrape_interval: float | None, spec: Path | None
) -> None:
    """Every Canary the cluster would run at ``scale``: refused before anything starts (exit 2).
    ``scrape_interval`` None: each scenario's provider's Prometheus (Flagger's 5 s, linkerd-viz' 10 s)."""
    from harness.backends.kubernetes.cluster_provider import scrape_interval_for
    from harness.plan.cluster_scale import scale_canary

    if spec is not None:
        from harness.scenario.flagger_canary import load_canary

        canary = load_canary(spec)
        scrape = scrape_interval_for(canary.provider, scrape_interval)
        scale_canary(canary.manifest, scale, scrape_interval=scrape, source=str(spec))
        return
    for scenario in (s for s in scenarios if s.canary is not None):  # other controllers: local only
        scrape = scrape_interval_for(scenario.canary.provider, scrape_interval)
        scale_canary(scenario.canary_manifest, scale, scrape_interval=scrape, source=str(scenario.file))


@main.command()
@click.argument("scenario_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@timing_options
@click.option("--report-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--repeat", type=click.IntRange(min=1, max=100), default=1, show_default=True)
@click.option(
    "--load-workers", type=click.IntRange(min=0, max=32), default=None, help="Locust worker processes."
)
@click.option(
    "--prometheus",
    type=click.Choice(["auto", "server", "embedded"]),
    default="auto",
    show_default=True,
    help="Local backend: a real Prometheus server when installed (auto), always, or the embedded evaluator.",
)
@click.option("--context-allow", multiple=True, help="Kubernetes contexts the harness may act in.")
@click.option("--keep", is_flag=True, help="Kubernetes: keep the namespace for debugging.")
@click.option("--canary-spec", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--kube-context", default=None, help="Kubernetes: kubeconfig context (default: current).")
@click.option(
    "--ingress-url", default=None, help="Kubernetes: Traefik's web entrypoint from here (default: kind's)."
)
@click.option(
    "--ingress-namespace",
    default=None,
    help="Kubernetes, Linkerd: namespace of the meshed ingress (Traefik) pods the load enters (traefik).",
)
@click.option(
    "--prometheus-url",
    default=None,
    help="Kubernetes: Prometheus URL (default, via the API: Flagger's; Linkerd: linkerd-viz').",
)
@click.option("--flagger-namespace", default=None, help="Kubernetes: where Flagger runs (flagger-system).")
@click.option("--image", default=None, help="Kubernetes: faulty app image the nodes can pull.")
@click.option(
    "--manifests",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Kubernetes: app kustomization directory (default: the packaged harness/data/cluster/app, "
    "or harness/data/cluster/linkerd for a gatewayapi:* provider).",
)
@click.option(
    "--kube-request-timeout",
    type=click.FloatRange(min=1, max=600),
    default=None,
    help="Kubernetes: seconds per API call (default 30).",
)
@click.option("--no-progress", is_flag=True, help="No live progress display.")
@controller_option
def run(
    scenario_files: tuple[Path, ...],
    backend: str,
    time_scale: float | None,
    parallel: int | None,
    scrape_interval: float | None,
    deploy_seconds: float | None,
    report_dir: Path,
    repeat: int,
    load_workers: int | None,
    prometheus: str,
    context_allow: tuple[str, ...],
    keep: bool,
    canary_spec: Path | None,
    kube_context: str | None,
    ingress_url: str | None,
    ingress_namespace: str | None,
    prometheus_url: str | None,
    flagger_namespace: str | None,
    image: str | None,
    manifests: Path | None,
    kube_request_timeout: float | None,
    no_progress: bool,
    controller: tuple[str, ...],
) -> None:
    """Run SCENARIO_FILES and write the evidence (journal, HTML, JUnit, CSV) under --report-dir."""
    from harness.backends.base import ClusterTarget
    from harness.processes.procs import install_signal_handlers
    from harness.run.execute import run_scenarios
    from harness.run.options import RunOptions
    from harness.scenario.loader import load_scenario

    loaded = [load_scenario(path) for path in _scenario_paths(scenario_files)]  # check all input first
    scenarios = for_controllers(loaded, controller)
    scale, slots, startup = timing(backend, time_scale, parallel, deploy_seconds)
    if backend == "kubernetes":
        _check_cluster_scale(scenarios, scale, scrape_interval, canary_spec)
    options = RunOptions(
        backend=backend,
        time_scale=scale,
        parallel=slots,
        startup=startup,
        scrape_interval_seconds=scrape_interval,
        report_dir=report_dir,
        repeat=repeat,
        load_workers=load_workers,
        prometheus=prometheus,
        keep=keep,
        context_allow=context_allow,
        canary_spec=canary_spec,
        cluster=ClusterTarget(
            kube_context=kube_context,
            ingress_url=ingress_url,
            ingress_namespace=ingress_namespace,
            prometheus_url=prometheus_url,
            flagger_namespace=flagger_namespace,
            image=image,
            manifests=manifests,
            request_timeout=kube_request_timeout,
        ),
        progress=not no_progress,
    )
    install_signal_handlers()
    batch = run_scenarios(scenarios, options)
    _print_summary(batch)
    sys.exit(batch.exit_code)


@main.command()
@click.argument("scenario_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@timing_options
@click.option("--repeat", type=click.IntRange(min=1, max=100), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON (has total_seconds).")
def schedule(
    scenario_files: tuple[Path, ...],
    backend: str,
    time_scale: float | None,
    parallel: int | None,
    scrape_interval: float | None,
    deploy_seconds: float | None,
    repeat: int,
    as_json: bool,
) -> None:
    """Predict each run's wall time, the parallel slots and the wall time of the whole set (no run)."""
    import json

    from harness.durations import format_duration
    from harness.plan.schedule import schedule_to_json
    from harness.run.execute import schedule_for
    from harness.run.options import RunOptions
    from harness.scenario.loader import load_scenario

    scenarios = [load_scenario(path) for path in _scenario_paths(scenario_files)]
    scale, slots, startup = timing(backend, time_scale, parallel, deploy_seconds)
    if backend == "kubernetes":
        _check_cluster_scale(scenarios, scale, scrape_interval, None)
    options = RunOptions(backend=backend, time_scale=scale, parallel=slots, startup=startup, repeat=repeat)
    planned = schedule_for(scenarios, options)
    if as_json:
        click.echo(json.dumps(schedule_to_json(planned), indent=2))
        return
    click.echo(f"{backend}, time scale ×{scale:g}, {slots} parallel slot(s), deploy estimate "
               f"{format_duration(startup.deploy_seconds)} + {startup.init_intervals} intervals")  # fmt: skip
    for index, lane in enumerate(planned.slots(), start=1):
        click.echo(f"slot {index}:")
        for e in lane:
            click.echo(
                f"  {format_duration(round(e.start)):>7} {e.scenario_id:<24} "
                f"{format_duration(round(e.seconds)):>6}"
                f"  (deploy {e.deploy:.0f}s, warm-up {e.warmup:.0f}s, analysis {e.analysis:.0f}s"
                f" [{e.basis}], recovery {e.recovery:.0f}s)"
            )
    click.echo(
        f"total: {format_duration(round(planned.total_seconds))} wall "
        f"({format_duration(round(planned.serial_seconds))} one after another)"
    )


@main.command("list")
@click.argument("directory", type=click.Path(path_type=Path), default=CATALOG_DIR)
def list_(directory: Path) -> None:
    """List the scenarios of DIRECTORY with their fault, expected outcome and limits."""
    from rich.console import Console
    from rich.table import Table

    from harness.durations import format_duration
    from harness.scenario.loader import load_catalog

    table = Table(title=f"scenarios in {directory}")
    for column in ("id", "fault", "expect", "abort within", "max weight", "max users hurt", "requires"):
        table.add_column(column)
    for s in load_catalog(directory):
        faults = [f.get("kind", "?") for f in (s.revision.faults or (s.fault.spec if s.fault else ()))]
        table.add_row(
            s.id,
            ", ".join(str(k) for k in faults) or "none (control)",
            s.expect.outcome,
            format_duration(s.expect.abort_within_seconds) if s.expect.abort_within_seconds else "-",
            f"{s.expect.max_canary_weight}%" if s.expect.max_canary_weight is not None else "-",
            str(s.expect.max_users_hurt) if s.expect.max_users_hurt is not None else "-",
            ", ".join(s.requires) or "-",
        )
    Console().print(table)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate scenario files (or every scenario under directories); exit 2 with located errors."""
    from harness.errors import LocatedInputError
    from harness.scenario.loader import discover, load_scenario

    files: list[Path] = []
    for path in paths or (CATALOG_DIR,):
        files.extend(discover(path) if path.is_dir() else [path])
    failures = 0
    for file in files:
        try:
            load_scenario(file)
            click.echo(f"ok      {file}")
        except LocatedInputError as exc:
            failures += 1
            click.echo(f"invalid {file}\n" + "\n".join(f"  {p.render()}" for p in exc.problems), err=True)
    if failures:
        click.echo(f"{failures} of {len(files)} scenario files are invalid", err=True)
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.argument("canary_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rps", type=click.FloatRange(min=0), default=100.0, show_default=True, help="Load through the ingress."
)
@click.option(
    "--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(canary_file: Path, rps: float, policy_file: Path | None, as_json: bool) -> None:
    """Predict abort time, blast radius and traps of CANARY_FILE (a Flagger Canary, or an Argo Rollout with
    its AnalysisTemplates) from the controller's timing model (no run).

    Exit 0 when the plan meets the policy's blast limits (GO), 1 when it does not (NO-GO).
    """
    from harness.plan.command import run_plan

    sys.exit(run_plan(canary_file, rps=rps, policy_file=policy_file, as_json=as_json, echo=click.echo))


@main.command()
@click.argument("journals", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="HTML file (default: next to the first)."
)
def report(journals: tuple[Path, ...], out: Path | None) -> None:
    """Re-render the HTML report (and JUnit) from JOURNALS alone; partial journals render as INCOMPLETE."""
    from harness.report.journal import read_journal, recover
    from harness.report.junit import write_junit
    from harness.report.render_html import render_html

    records = [recover(p) if p.name.endswith(".partial.jsonl") else read_journal(p) for p in journals]
    target = out or journals[0].with_suffix(".html")
    html = render_html(records, target)
    junit = write_junit(records, target.with_suffix(".junit.xml"))
    click.echo(f"report: {html}\njunit:  {junit}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def app(ctx: click.Context) -> None:
    """Serve the faulty demo app (same as ``python -m faulty_app``; see faulty_app/README.md)."""
    from faulty_app.__main__ import main as app_main

    sys.exit(app_main(list(ctx.args)))


def _scenario_paths(paths: tuple[Path, ...]) -> list[Path]:
    """Directories expand to their catalog; the policy file a shell glob also matches is not a scenario."""
    from harness.scenario.loader import discover

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(discover(path))
        elif path.name != "policy.yaml":
            found.append(path)
    if not found:
        raise click.UsageError("no scenario files given")
    return found


def _as_declared(record: RunRecord) -> str:
    """' (declared NO-GO on cohort_boundary: met)' for a scenario that declares its NO-GO."""
    if record.verdict is None or record.verdict.expected.decision == "GO":
        return ""
    expected = record.verdict.expected
    met = "met" if record.verdict.as_expected else "NOT met"
    return f"  (declared {expected.decision} on {', '.join(expected.failing)}: {met})"


def _print_summary(batch: object) -> None:
    from harness.report.compare import compare_lines
    from harness.run.execute import BatchResult

    assert isinstance(batch, BatchResult)
    for record in batch.records:
        click.echo(f"{record.decision:<13} {record.scenario_id}{_as_declared(record)}")
        if record.verdict:
            for reason in record.verdict.reasons:
                click.echo(f"              {reason}")
    for line in compare_lines(batch.records):
        click.echo(line)
    for scenario_id, why in batch.skipped:
        click.echo(f"{'SKIPPED':<13} {scenario_id}: {why}")
    if batch.html:
        click.echo(f"report: {batch.html}")
    if batch.junit:
        click.echo(f"junit:  {batch.junit}")
    if batch.interrupted:
        click.echo(f"interrupted: {batch.interrupted}; the partial report is marked INCOMPLETE", err=True)
