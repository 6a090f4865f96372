"""The controller and provider seams: scenarios name their plug-ins, and the code asks the plug-in."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.backends.local.backend import LocalBackend
from harness.clock import FakeClock, ScaledClock
from harness.controllers.base import EmulationPorts
from harness.controllers.flagger import queries
from harness.controllers.flagger.controller import FlaggerController
from harness.controllers.flagger.plugin import FLAGGER
from harness.controllers.registry import controller_named
from harness.errors import InputError, ScenarioError
from harness.model import Revision
from harness.providers import registry
from harness.providers.base import ProviderPlugin
from harness.providers.registry import provider_named
from harness.providers.traefik.plugin import TRAEFIK
from harness.scenario.loader import load_scenario
from harness.testing.ports import FakeMetrics, FakeRouter, FakeWebhooks, FakeWorkloads, RecordingEventSink

Write = Callable[..., Path]

MINIMAL = """\
description: minimal
revision: {version: "1.1.0"}
load: {rps: 10}
expect: {outcome: promoted}
"""


def _problems(error: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [p.render() for p in error.value.problems]


class TestScenarioNamesItsPlugins:
    def test_defaults_are_flagger_on_traefik(self, write: Write) -> None:
        scenario = load_scenario(write(MINIMAL))
        assert scenario.controller == "flagger"
        assert scenario.canary.provider == "traefik"

    def test_explicit_names_load_the_same_scenario(self, write: Write) -> None:
        plain = load_scenario(write(MINIMAL, "plain.yaml"))
        named = load_scenario(write("controller: flagger\nprovider: traefik\n" + MINIMAL, "named.yaml"))
        assert dataclasses.replace(named, id=plain.id, file=plain.file) == plain

    def test_unknown_controller_is_located(self, write: Write) -> None:
        with pytest.raises(ScenarioError) as error:
            load_scenario(write("controller: argo\n" + MINIMAL))
        assert any(
            ":1: at controller: expected one of 'argo-rollouts', 'flagger', found 'argo'" in p
            for p in _problems(error)
        )

    def test_argo_rollouts_without_a_rollout_is_located(self, write: Write) -> None:
        with pytest.raises(ScenarioError) as error:
            load_scenario(write("controller: argo-rollouts\n" + MINIMAL))
        assert any(
            "at rollout: expected a Rollout file relative to the scenario" in p for p in _problems(error)
        )

    def test_unknown_provider_is_located(self, write: Write) -> None:
        with pytest.raises(ScenarioError) as error:
            load_scenario(write("provider: linkerd\n" + MINIMAL))
        assert any(
            ":1: at provider: expected one of 'traefik', found 'linkerd'" in p for p in _problems(error)
        )


class TestRegistries:
    def test_lookup_and_refusal(self) -> None:
        assert controller_named("flagger") is FLAGGER
        assert provider_named("traefik") is TRAEFIK
        with pytest.raises(
            InputError, match=r"controller: expected one of \['argo-rollouts', 'flagger'\], found 'x'"
        ):
            controller_named("x")
        with pytest.raises(InputError, match=r"provider: expected one of \['traefik'\], found 'x'"):
            provider_named("x")

    def test_flagger_plugin_builds_the_emulation(self) -> None:
        from tests.flagger.rig import canary

        clock = FakeClock()
        ports = EmulationPorts(
            router=FakeRouter(clock),
            workloads=FakeWorkloads(clock),
            metrics=FakeMetrics(clock, {}),
            webhooks=FakeWebhooks(clock, {}),
            clock=clock,
            events=RecordingEventSink(),
        )
        assert isinstance(FLAGGER.emulate(canary(), ports), FlaggerController)
        assert FLAGGER.tick_interval_seconds(canary()) == canary().analysis.interval_seconds


class TestProviderSeam:
    def test_builtin_queries_come_from_the_canarys_provider(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from tests.flagger.rig import canary

        fake = ProviderPlugin(
            name="fake",
            builtin_templates={"request-success-rate": 'ok{ns="{{ namespace }}", w="{{ interval }}"}'},
            request_series="ok",
            service_label=lambda namespace, service, side, port: f"{namespace}/{service}/{side}/{port}",
            routes_by_match=True,
        )
        monkeypatch.setitem(registry.PROVIDERS, "fake", fake)
        spec = dataclasses.replace(canary(), provider="fake")
        assert (
            queries.builtin_query("request-success-rate", spec, "2m")
            == f'ok{{ns="{spec.namespace}", w="2m"}}'
        )
        assert queries.builtin_query("request-success-rate", canary(), "1m") == queries.request_success_rate(
            canary().namespace, canary().target_name, "1m"
        )

    def test_local_backend_refuses_a_provider_without_a_router_stand_in(self, tmp_path: Path) -> None:
        from tests.flagger.rig import canary

        backend = LocalBackend(clock=ScaledClock(60.0), run_dir=tmp_path)
        with pytest.raises(InputError, match=r"spec.provider 'linkerd': the local backend has router"):
            backend.deploy(dataclasses.replace(canary(), provider="linkerd"), Revision("1.0.0"))
        backend.teardown()
        assert not (tmp_path / "processes").exists()
