"""``canary-chaos schedule`` and the time-scale refusal of ``run`` (exit 2 before touching a cluster)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main


def test_schedule_json_of_the_catalog_fits_thirty_minutes():
    """The kind nightly's Traefik catalog (the Linkerd scenarios need a Linkerd cluster of their own)."""
    traefik = sorted(str(p) for p in Path("scenarios").glob("*.yaml") if p.name != "policy.yaml"
                     and not p.name.startswith("linkerd-"))  # fmt: skip
    result = CliRunner().invoke(main, ["schedule", *traefik, "--backend", "kubernetes", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total_seconds"] <= 1800
    assert (data["time_scale"], data["parallel"]) == (4.0, 4)
    assert len(data["scenarios"]) == len({e["scenario"] for e in data["scenarios"]}) >= 18


def test_schedule_text_lists_slots_and_total():
    # the whole catalog: the Linkerd files need --time-scale ≤ 2 (linkerd-viz scrapes every 10 s)
    args = ["schedule", "scenarios/", "--backend", "kubernetes", "--parallel", "2", "--time-scale", "2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "slot 1:" in result.output
    assert "slot 2:" in result.output
    assert "slot 3:" not in result.output
    assert "total: " in result.output


def test_the_linkerd_files_are_refused_at_the_default_scale_naming_the_fix():
    result = CliRunner().invoke(main, ["schedule", "scenarios/linkerd-5xx.yaml", "--backend", "kubernetes"])
    assert result.exit_code == 2
    assert "3 × the Prometheus scrape interval 10s = 30s (use --time-scale ≤ 2)" in result.output


def test_options_change_the_prediction():
    def total(*extra: str) -> int:
        out = CliRunner().invoke(main, ["schedule", "scenarios/http-5xx-spike.yaml", "--json", *extra])
        return int(json.loads(out.output)["total_seconds"])

    kube = ("--backend", "kubernetes")
    assert total(*kube, "--deploy-seconds", "100") == total(*kube, "--deploy-seconds", "40") + 60
    assert total(*kube, "--time-scale", "2") > total(*kube, "--time-scale", "4")
    assert total() < total(*kube)  # local: scale 60


def test_refused_scale_exits_2_naming_the_field():
    for command in ("schedule", "run"):
        result = CliRunner().invoke(
            main, [command, "scenarios/http-5xx-spike.yaml", "--backend", "kubernetes", "--time-scale", "6"]
        )
        assert result.exit_code == 2, result.output
        assert "spec.analysis.metrics[0].interval (request-success-rate)" in result.output
        assert "scenarios/http-5xx-spike.yaml" in result.output


def test_scrape_interval_is_an_option():
    args = ["schedule", "scenarios/http-5xx-spike.yaml", "--backend", "kubernetes", "--time-scale", "6"]
    assert CliRunner().invoke(main, [*args, "--scrape-interval", "3"]).exit_code == 0
