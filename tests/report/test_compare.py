"""Controllers compared: runs of one scenario file under two controllers side by side."""

from __future__ import annotations

from harness.model import Decision, Measure, Verdict
from harness.report.compare import compare_groups, compare_lines
from harness.report.journal import RunRecord
from harness.report.render_html import render_html_text


def record(
    controller: str, run_id: str, abort: float, weight: int, file: str = "s/http-5xx.yaml"
) -> RunRecord:
    measures = (
        Measure("outcome", "rolled-back", "rolled-back", "", True),
        Measure("abort_within", abort, 420.0, "s", True),
        Measure("max_canary_weight", weight, 10, "%", weight <= 10),
        Measure("max_failed_fraction", 0.02, 0.05, "", True),
    )
    return RunRecord(
        run_id=run_id,
        scenario_id=run_id,
        scenario_file=file,
        controller=controller,
        verdict=Verdict(Decision.GO, measures, ()),
    )


RUNS = [
    record("flagger", "http-5xx", 309.0, 10),
    record("argo-rollouts", "http-5xx-on-argo-rollouts", 120.0, 10),
    record("flagger", "other", 100.0, 10, file="s/other.yaml"),
]


def test_only_a_file_run_under_two_controllers_is_compared() -> None:
    [group] = compare_groups(RUNS)
    assert group.scenario_file == "s/http-5xx.yaml"
    assert [(r.controller, r.abort_seconds, r.max_canary_weight) for r in group.rows] == [
        ("flagger", 309.0, 10.0),
        ("argo-rollouts", 120.0, 10.0),
    ]


def test_the_console_and_the_html_show_both_abort_times() -> None:
    text = "\n".join(compare_lines(RUNS))
    assert "5m9s (309 s)" in text
    assert "2m (120 s)" in text
    assert "argo-rollouts" in text
    html = render_html_text(RUNS)
    assert "Controllers compared: s/http-5xx.yaml" in html
    assert "5m9s (309 s)" in html


def test_nothing_to_compare_under_one_controller() -> None:
    assert compare_lines(RUNS[:1] + RUNS[2:]) == []
