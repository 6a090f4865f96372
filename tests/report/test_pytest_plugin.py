"""The pytest plugin, driven through pytester with a fake runner returning recorded journals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# In-process pytester runs unload modules first imported inside them; numpy cannot be loaded twice,
# so the report stack (matplotlib, numpy, pandas) is imported here, outside every inner run.
import harness.report.render_html  # noqa: F401
from harness.pytest_plugin import is_scenario_file
from harness.report.journal import write_journal

from .journal_factory import build

pytest_plugins = ["pytester"]

# The entry-point copy is blocked and the module loaded by name; this test module imported it already,
# so pytest cannot assertion-rewrite it (harmless: it has no asserts that matter to users).
PLUGIN = (
    "-p",
    "no:canary_chaos",
    "-p",
    "harness.pytest_plugin",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
    *("-p", "no:locust", "-p", "no:hypothesispytest", "-p", "no:anyio"),  # unrelated, slow to import
)
FAKE_RUNNER = '''
import json, os
from pathlib import Path
from harness.report.journal import read_journal

def run(path, *, backend, time_scale, report_dir):
    """Return the recorded journal named like the scenario; log the call."""
    report_dir.mkdir(parents=True, exist_ok=True)
    with (report_dir / "calls.jsonl").open("a") as log:
        log.write(json.dumps({"path": str(path), "backend": backend, "time_scale": time_scale}) + "\\n")
    return read_journal(Path(os.environ["FAKE_JOURNALS"]) / (Path(path).stem + ".json"))
'''


@pytest.fixture
def project(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
):
    """A scenarios/ tree, recorded journals for each scenario, and the fake runner on sys.path."""
    journals = tmp_path_factory.mktemp("journals")
    for stem, kind in (
        ("go", "rolled-back-go"),
        ("nogo", "no-go"),
        ("unsure", "inconclusive"),
        ("extra", "rolled-back-go"),
    ):
        write_journal(build(kind), journals / f"{stem}.json")
    monkeypatch.setenv("FAKE_JOURNALS", str(journals))
    pytester.makepyfile(fake_runner=FAKE_RUNNER)
    pytester.syspathinsert()
    scenario = "id: {0}\ncanary: canaries/podinfo.yaml\nexpect:\n  abort_within: 7m\n"
    for stem in ("go", "nogo", "unsure"):
        (pytester.path / "scenarios").mkdir(exist_ok=True)
        (pytester.path / "scenarios" / f"{stem}.yaml").write_text(scenario.format(stem))
    (pytester.path / "scenarios" / "policy.yaml").write_text("max_time_scale: 120\n")
    (pytester.path / "scenarios" / "canaries").mkdir()
    (pytester.path / "scenarios" / "canaries" / "podinfo.yaml").write_text(
        "apiVersion: flagger.app/v1beta1\nkind: Canary\n"
    )
    (pytester.path / "other").mkdir()
    (pytester.path / "other" / "extra.yaml").write_text(scenario.format("extra"))
    (pytester.path / "other" / "values.yaml").write_text("replicas: 2\n")
    return pytester


class TestCollection:
    def test_collects_scenarios_only(self, project: pytest.Pytester) -> None:
        """Scenario files become items; policy.yaml, canaries/ and plain YAML do not."""
        result = project.runpytest(
            *PLUGIN, "--collect-only", "-q", "scenarios", "other", "--canary-runner", "fake_runner:run"
        )
        collected = sorted(line for line in result.outlines if "::" in line)
        assert collected == [
            "other/extra.yaml::extra",
            "scenarios/go.yaml::go",
            "scenarios/nogo.yaml::nogo",
            "scenarios/unsure.yaml::unsure",
        ]

    def test_is_scenario_file(self, tmp_path: Path) -> None:
        """Outside scenarios/, only YAML with a top-level expect: is a scenario; manifests never are."""
        (tmp_path / "a.yaml").write_text("expect: {abort_within: 5m}\n")
        (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nexpect: 1\n")
        (tmp_path / "c.txt").write_text("expect: 1\n")
        assert [is_scenario_file(tmp_path / n, tmp_path) for n in ("a.yaml", "b.yaml", "c.txt")] == [
            True,
            False,
            False,
        ]


class TestOutcomes:
    def test_go_passes_no_go_fails_inconclusive_errors(self, project: pytest.Pytester) -> None:
        """GO → passed, NO-GO → failed listing measures, INCONCLUSIVE → error; options reach the runner."""
        report_dir = project.path / "out"
        result = project.runpytest(
            *PLUGIN,
            "scenarios",
            "--canary-runner=fake_runner:run",
            "--canary-backend=kubernetes",
            "--canary-time-scale=30",
            f"--canary-report-dir={report_dir}",
        )
        result.assert_outcomes(passed=1, failed=1, errors=1)
        result.stdout.fnmatch_lines(
            [
                "*INCONCLUSIVE: cohort-miss: the fault never reached traffic*",
                "*NO-GO: late-errors-overshoot*",
                "*abort_within: measured 5m20s, limit 5m*",
                "*max_canary_weight: measured 60%, limit 50%*",
            ]
        )
        calls = [json.loads(line) for line in (report_dir / "calls.jsonl").read_text().splitlines()]
        assert {(c["backend"], c["time_scale"]) for c in calls} == {("kubernetes", 30.0)}
        assert (report_dir / "evidence.html").exists()
        assert (report_dir / "evidence-junit.xml").exists()

    def test_runner_from_environment_and_ini(
        self, project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The runner can be named by $CANARY_CHAOS_RUNNER or the canary_runner ini option."""
        monkeypatch.setenv("CANARY_CHAOS_RUNNER", "fake_runner:run")
        project.runpytest(
            *PLUGIN, "scenarios/go.yaml", f"--canary-report-dir={project.path / 'o1'}"
        ).assert_outcomes(passed=1)
        monkeypatch.delenv("CANARY_CHAOS_RUNNER")
        project.makeini("[pytest]\ncanary_runner = fake_runner:run\n")
        project.runpytest(
            *PLUGIN, "scenarios/go.yaml", f"--canary-report-dir={project.path / 'o2'}"
        ).assert_outcomes(passed=1)

    def test_runner_harness_error_is_an_error(self, project: pytest.Pytester) -> None:
        """A HarnessError from the runner (bad scenario, broken infrastructure) is a test error."""
        project.makepyfile(
            broken_runner="from harness.errors import ProcessError\n"
            "def run(path, **kw):\n    raise ProcessError('router died on 127.0.0.1:9')\n"
        )
        result = project.runpytest(*PLUGIN, "scenarios/go.yaml", "--canary-runner=broken_runner:run")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*ProcessError: router died*"])


class TestPytestHtml:
    def test_verdict_table_and_chart_are_attached(self, project: pytest.Pytester) -> None:
        """With --html, each scenario row carries its verdict table and inline SVG chart."""
        result = project.runpytest(
            *PLUGIN,
            "scenarios/go.yaml",
            "scenarios/nogo.yaml",
            "--canary-runner=fake_runner:run",
            f"--canary-report-dir={project.path / 'out'}",
            "--html=report.html",
            "--self-contained-html",
        )
        result.assert_outcomes(passed=1, failed=1)
        html = (project.path / "report.html").read_text()
        assert html.count("canary-chaos-chart") == 2
        assert "Canary weight and phase" in html
        assert "max_canary_weight" in html
