"""The nightly kind workflow and the bootstrap script keep their safety properties."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "nightly-kind.yaml"
BOOTSTRAP = REPO / "cluster" / "bootstrap.sh"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


class TestNightlyWorkflow:
    def test_least_privilege(self):
        """No token permissions at the top; the job only reads contents."""
        data = workflow()
        assert data["permissions"] == {}
        assert data["jobs"]["kind"]["permissions"] == {"contents": "read"}

    def test_actions_pinned_by_full_sha(self):
        """Every `uses:` names a 40-hex commit, never a movable tag."""
        uses = [step["uses"] for step in workflow()["jobs"]["kind"]["steps"] if "uses" in step]
        assert len(uses) == 4
        assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses

    def test_triggers_and_command(self):
        """Nightly and on demand; runs the scenarios on the kubernetes backend, kind context only."""
        data = workflow()
        assert set(data[True]) == {"schedule", "workflow_dispatch"}  # YAML 1.1 reads the key `on` as True
        runs = " ".join(step.get("run", "") for step in data["jobs"]["kind"]["steps"])
        assert "cluster/bootstrap.sh" in runs
        assert re.search(
            r'canary-chaos run "\$\{files\[@\]\}"\s+--backend kubernetes \$RUN_FLAGS "\$\{flags\[@\]\}"\s+'
            r"--context-allow kind-canary-chaos\s+--report-dir reports/",
            runs,
        )
        # Linkerd: the harness reads linkerd-viz' Prometheus through a port-forward (its policy refuses
        # the API server's service proxy)
        assert "kubectl -n linkerd-viz port-forward svc/prometheus 19090:9090" in runs
        assert "flags+=(--prometheus-url http://127.0.0.1:19090)" in runs
        upload = next(s for s in data["jobs"]["kind"]["steps"] if "upload-artifact" in s.get("uses", ""))
        assert (upload["if"], upload["with"]["path"]) == ("always()", "reports/")
        assert "${{ matrix.name }}" in upload["with"]["name"]  # one artifact per matrix entry

    def test_diagnostics_run_on_failure_and_on_cancel(self):
        """A timeout cancels the job; the diagnostics step must still run then (issue 13, defect 1)."""
        steps = workflow()["jobs"]["kind"]["steps"]
        diagnostics = next(s for s in steps if s.get("name") == "Cluster diagnostics")
        condition = diagnostics["if"].replace(" ", "")
        assert condition in ("always()", "failure()||cancelled()", "cancelled()||failure()")

    def test_schedule_is_checked_before_the_run_and_fits_the_timeout(self):
        """The workflow prints the schedule and stops if it predicts more than 30 min; the defaults it uses
        predict the catalog within that, and the job's timeout covers bootstrap + run."""
        from click.testing import CliRunner

        from harness.cli import main

        job = workflow()["jobs"]["kind"]
        names = [s.get("name", "") for s in job["steps"]]
        schedule_step = next(s for s in job["steps"] if "canary-chaos schedule" in s.get("run", ""))
        run_step = next(s for s in job["steps"] if "canary-chaos run" in s.get("run", ""))
        assert names.index(schedule_step["name"]) < names.index(run_step["name"])
        assert "--backend kubernetes $RUN_FLAGS --json" in schedule_step["run"]
        assert "t > 1800" in schedule_step["run"]
        for flag in ("--time-scale", "--parallel", "--deploy-seconds"):  # only through $RUN_FLAGS, in both
            assert flag not in run_step["run"]
            assert flag not in schedule_step["run"]
        # each matrix entry is its own cluster and schedules only its own scenarios
        checked = 0
        for entry in matrix().values():
            files = shipped(entry["scenarios"])
            if not files:
                continue  # the nightly's "Select scenarios" step fails such an entry (tested below)
            flags = entry["run_flags"].split()
            result = CliRunner().invoke(
                main, ["schedule", *files, "--backend", "kubernetes", *flags, "--json"]
            )
            predicted = json.loads(result.output)["total_seconds"]
            assert predicted <= 1800, f"{entry['name']}: {predicted} s predicted"
            assert run_step["timeout-minutes"] * 60 >= predicted * 1.25  # room for a slow cluster
            checked += 1
        assert checked >= 2  # Flagger's catalog and the Argo scenarios at least
        assert job["timeout-minutes"] >= run_step["timeout-minutes"] + 15  # bootstrap, upload


def matrix() -> dict[str, dict[str, str]]:
    return {entry["name"]: entry for entry in workflow()["jobs"]["kind"]["strategy"]["matrix"]["include"]}


def shipped(pattern: str) -> list[str]:
    """The repository's scenario files a matrix entry's glob selects (bash extglob, as in the workflow)."""
    done = subprocess.run(
        ["bash", "-c", 'shopt -s extglob nullglob; files=( $SCENARIOS ); printf "%s\\n" "${files[@]}"'],
        cwd=REPO, capture_output=True, text=True, timeout=10,
        env={"PATH": "/usr/bin:/bin", "SCENARIOS": pattern},
    )  # fmt: skip
    return [str(REPO / line) for line in done.stdout.split() if line]


def select(pattern: str, names: list[str], tmp_path: Path) -> list[str]:
    """Run the workflow's "Select scenarios" step in a directory holding ``names``."""
    step = next(s for s in workflow()["jobs"]["kind"]["steps"] if s.get("name") == "Select scenarios")
    (tmp_path / "scenarios").mkdir(parents=True)
    for name in names:
        (tmp_path / "scenarios" / name).write_text("")
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True, timeout=10,
        env={"PATH": "/usr/bin:/bin", "SCENARIOS": pattern},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return (tmp_path / "reports" / "scenarios.txt").read_text().split()


CATALOG = ["5xx.yaml", "healthy-control.yaml", "argo-5xx.yaml", "argo-control.yaml", "linkerd-ab.yaml"]


class TestMatrix:
    def test_entries_and_their_bootstrap_flags(self):
        """Flagger on Traefik, Argo Rollouts (issue 15) and Flagger on Linkerd (issue 14: the load enters
        meshed Traefik), each with its bootstrap flags."""
        entries = matrix()
        assert {name: e["bootstrap"] for name, e in entries.items()} == {
            "flagger-traefik": "",
            "argo-rollouts": "--controller argo-rollouts",
            "flagger-linkerd": "--mesh linkerd",
        }
        assert workflow()["jobs"]["kind"]["strategy"]["fail-fast"] is False
        runs = " ".join(step.get("run", "") for step in workflow()["jobs"]["kind"]["steps"])
        assert "cluster/bootstrap.sh --kind-cluster canary-chaos $BOOTSTRAP_FLAGS" in runs
        env = workflow()["jobs"]["kind"]["env"]
        assert env == {
            "BOOTSTRAP_FLAGS": "${{ matrix.bootstrap }}",
            "SCENARIOS": "${{ matrix.scenarios }}",
            "RUN_FLAGS": "${{ matrix.run_flags }}",
        }
        assert entries["argo-rollouts"]["run_flags"] == "--time-scale 2"  # 30 s intervals ≥ 3 scrapes
        assert entries["flagger-linkerd"]["run_flags"] == "--time-scale 2"  # 1m ≥ 3 linkerd-viz scrapes

    def test_bootstrap_accepts_every_entry_s_flags(self):
        text = BOOTSTRAP.read_text()
        for entry in matrix().values():
            for flag in entry["bootstrap"].split()[::2]:
                assert f"    {flag})" in text, f"bootstrap.sh has no {flag}"

    def test_each_entry_selects_its_scenarios(self, tmp_path: Path):
        """The globs split the catalog: no scenario runs twice, none on a cluster without its controller."""
        entries = matrix()
        picked = {
            name: select(e["scenarios"], CATALOG, tmp_path / name) for name, e in entries.items()
        }  # fmt: skip
        assert picked["flagger-traefik"] == ["scenarios/5xx.yaml", "scenarios/healthy-control.yaml"]
        assert picked["argo-rollouts"] == ["scenarios/argo-5xx.yaml", "scenarios/argo-control.yaml"]
        assert picked["flagger-linkerd"] == ["scenarios/linkerd-ab.yaml"]

    def test_an_empty_selection_fails(self, tmp_path: Path):
        step = next(s for s in workflow()["jobs"]["kind"]["steps"] if s.get("name") == "Select scenarios")
        (tmp_path / "scenarios").mkdir()
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True, timeout=10,
            env={"PATH": "/usr/bin:/bin", "SCENARIOS": "scenarios/argo-*.yaml"},
        )  # fmt: skip
        assert done.returncode != 0
        assert "no scenario matches scenarios/argo-*.yaml" in done.stderr

    def test_schedule_and_run_use_the_selection(self):
        steps = workflow()["jobs"]["kind"]["steps"]
        names = [s.get("name", "") for s in steps]
        for step in steps:
            if "canary-chaos schedule" in step.get("run", "") or "canary-chaos run" in step.get("run", ""):
                assert "mapfile -t files < reports/scenarios.txt" in step["run"]
                assert names.index("Select scenarios") < names.index(step["name"])

    def test_diagnostics_cover_argo_and_linkerd(self):
        diagnostics = next(
            s for s in workflow()["jobs"]["kind"]["steps"] if s.get("name") == "Cluster diagnostics"
        )
        assert "rollouts,analysistemplates,analysisruns" in diagnostics["run"]
        assert "logs deployment/argo-rollouts" in diagnostics["run"]
        assert "httproutes" in diagnostics["run"]


class TestBootstrap:
    def test_strict_mode_and_pinned_charts(self):
        """bootstrap.sh is strict and pins Traefik chart 37.4.0 and Flagger chart 1.44.0."""
        text = BOOTSTRAP.read_text()
        assert "set -euo pipefail" in text
        assert 'TRAEFIK_CHART_VERSION="37.4.0"' in text
        assert 'FLAGGER_CHART_VERSION="1.44.0"' in text
        assert text.count("--version") == 3  # Traefik, Flagger, Argo Rollouts (with --controller)
        assert 'docker build -f "${REPO_ROOT}/faulty_app/Dockerfile"' in text
        assert "kind load docker-image" in text

    def test_values_match_flaggers_traefik_e2e(self):
        """Traefik metrics on entrypoint `metrics`, scraped on 9100; Flagger traefik + bundled Prometheus."""
        traefik = yaml.safe_load((REPO / "cluster" / "traefik-values.yaml").read_text())
        flagger = yaml.safe_load((REPO / "cluster" / "flagger-values.yaml").read_text())
        assert traefik["metrics"]["prometheus"]["entryPoint"] == "metrics"
        assert traefik["deployment"]["podAnnotations"]["prometheus.io/port"] == "9100"
        assert traefik["ports"]["web"]["nodePort"] == 30080
        assert flagger["meshProvider"] == "traefik"
        assert flagger["prometheus"]["install"] is True
        assert flagger["eventWebhook"].startswith("http://event-receiver.flagger-system:8080")
        kind = yaml.safe_load((REPO / "cluster" / "kind" / "kind-config.yaml").read_text())
        assert [n["role"] for n in kind["nodes"]] == ["control-plane", "worker"]
        assert kind["nodes"][0]["extraPortMappings"][0]["containerPort"] == 30080
