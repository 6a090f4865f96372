"""Bad input never gives a traceback; the admin API is token-guarded; reports escape hostile strings."""

from __future__ import annotations

import contextlib
import inspect
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faulty_app.admin
from faulty_app.config import FaultConfigError, parse_faults
from harness.controllers.flagger.model import CanarySpec
from harness.errors import CanarySpecError, ScenarioError
from harness.scenario.flagger_canary import parse_canary
from harness.scenario.loader import load_scenario

from .procwatch import CLI, DATA, ROOT

CANARY = (ROOT / "scenarios/canaries/faulty-app.yaml").read_text()
SHORT = (DATA / "short-5xx.yaml").read_text()
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
SMALL_BOMB = "a: &a [x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
)
yaml_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("../../../scenarios", str(ROOT / "scenarios")))
    return path


class TestScenarioInput:
    @pytest.mark.parametrize(
        ("edit", "needle"),
        [
            (("warmup: 1m", "warmup: 100y"), "warmup"),
            (("warmup: 1m", "warmup: -5m"), "warmup"),
            (("analysis: {interval: 30s", "analysis: {interval: -5m"), "interval"),
            (("users: 10", "users: ten"), "users"),
            (("rps: 100", "rps: 1e400"), "rps"),
        ],
    )
    def test_absurd_values_are_located_errors(
        self, tmp_path: Path, edit: tuple[str, str], needle: str
    ) -> None:
        """Negative/absurd durations and wrong types name the file, the line and the field."""
        path = _scenario(tmp_path, SHORT.replace(*edit))
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        text = str(caught.value)
        assert f"{path}:" in text
        assert needle in text

    def test_huge_file_is_refused(self, tmp_path: Path) -> None:
        """A scenario over 1 MiB is refused with a clear error before parsing."""
        path = _scenario(tmp_path, SHORT + "#" + "x" * (1024 * 1024 + 10) + "\n")
        with pytest.raises(ScenarioError, match=r"MiB|bytes"):
            load_scenario(path)

    def test_alias_bomb_is_refused(self, tmp_path: Path) -> None:
        """A billion-laughs style alias expansion is refused, quickly."""
        path = _scenario(tmp_path, SHORT + BOMB)
        with pytest.raises(ScenarioError, match="alias"):
            load_scenario(path)

    @pytest.mark.parametrize("command", ["validate", "run"])
    def test_cli_exits_2_with_file_and_line(self, tmp_path: Path, command: str) -> None:
        """`canary-chaos validate|run bad.yaml` exits 2, names file:line, prints no traceback."""
        path = _scenario(tmp_path, SHORT.replace("warmup: 1m", "warmup: -5m"))
        args = [CLI, command, str(path)] + (
            ["--report-dir", str(tmp_path / "r"), "--no-progress"] if command == "run" else []
        )
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2, done.stderr
        line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "warmup" in t)
        assert f"{path}:{line}" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout


class TestCanaryInput:
    @settings(max_examples=200, deadline=None)
    @given(yaml_text)
    def test_arbitrary_text_is_a_spec_or_a_spec_error(self, text: str) -> None:
        """parse_canary on any text returns a CanarySpec or raises CanarySpecError, nothing else."""
        with contextlib.suppress(CanarySpecError):
            assert isinstance(parse_canary(text), CanarySpec)

    @settings(max_examples=150, deadline=None)
    @given(
        st.sampled_from(
            [
                "interval: 1m",
                "threshold: 3",
                "maxWeight: 50",
                "stepWeight: 10",
                "progressDeadlineSeconds: 600",
                "min: 99",
                "port: 80",
            ]
        ),
        st.one_of(st.integers(-(10**13), 10**13), st.floats(), st.text(max_size=8), st.none()),
    )
    def test_mutated_fields_are_a_spec_or_a_spec_error(self, field: str, value: object) -> None:
        """Replacing one field of the shipped Canary with junk never leaks another exception."""
        key = field.split(":")[0]
        text = CANARY.replace(field, f"{key}: {value!r}" if isinstance(value, str) else f"{key}: {value}")
        with contextlib.suppress(CanarySpecError):
            parse_canary(text)

    @pytest.mark.parametrize(
        "edit",
        [
            ("progressDeadlineSeconds: 600", f"progressDeadlineSeconds: {10**12}"),
            ("interval: 1m", "interval: -5m"),
        ],
    )
    def test_absurd_canary_values_are_refused(self, edit: tuple[str, str]) -> None:
        """A 10^12 s progress deadline or a negative interval is a located CanarySpecError."""
        with pytest.raises(CanarySpecError) as caught:
            parse_canary(CANARY.replace(*edit), source="c.yaml")
        assert "c.yaml:" in str(caught.value)

    def test_canary_huge_file_is_refused(self) -> None:
        """The Canary loader refuses > 1 MiB of text, like the scenario loader."""
        with pytest.raises(CanarySpecError):
            parse_canary(CANARY + "#" + "x" * (1024 * 1024 + 10), source="c.yaml")

    def test_canary_alias_bomb_is_refused(self) -> None:
        """A small (5^8 ≈ 390k nodes, ~1 s) alias bomb is refused as yamlloc refuses > 100k nodes."""
        with pytest.raises(CanarySpecError):
            parse_canary(CANARY + SMALL_BOMB, source="c.yaml")


class TestFaultInput:
    @settings(max_examples=200, deadline=None)
    @given(st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.sampled_from(["kind", "rate", "status_codes", "delay_ms",
                                                                 "when", "x"]), inner, max_size=4)),
        max_leaves=10))  # fmt: skip
    def test_any_fault_data_is_faults_or_a_fault_error(self, data: object) -> None:
        """parse_faults accepts or raises FaultConfigError; nothing else escapes."""
        with contextlib.suppress(FaultConfigError):
            parse_faults(data)


TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def admin_app() -> Iterator[Any]:
    from tests.faulty_app.conftest import running_app

    with running_app({"ADMIN_TOKEN": TOKEN, "APP_VERSION": "1.0.0"}) as app:
        yield app


@pytest.mark.e2e
class TestAdminApi:
    def test_token_is_compared_in_constant_time(self) -> None:
        """The admin token check uses hmac.compare_digest (no early-exit string compare)."""
        source = inspect.getsource(faulty_app.admin)
        assert "hmac.compare_digest(" in source
        assert "== expected" not in source
        assert "!= expected" not in source

    @pytest.mark.parametrize("auth", [None, "Bearer wrong", f"Bearer {TOKEN}x", f"bearer{TOKEN}", TOKEN, ""])
    def test_missing_or_wrong_token_is_refused(self, admin_app: Any, auth: str | None) -> None:
        """Any Authorization other than the exact Bearer token is 401/403 and changes nothing."""
        headers = {"Authorization": auth} if auth is not None else {}
        faults = [{"kind": "http_errors", "rate": 1.0}]
        url = f"{admin_app.base_url}/admin/faults"
        response = httpx.put(url, json=faults, headers=headers, timeout=5)
        assert response.status_code in (401, 403)
        assert httpx.get(f"{admin_app.base_url}/", timeout=5).status_code == 200

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=400), st.sampled_from(["PUT", "POST", "DELETE", "GET", "PATCH"]),
           st.sampled_from(["application/json", "application/yaml", "text/plain", "x/y; charset=latin-1"]),
           st.booleans())  # fmt: skip
    def test_random_requests_never_5xx(
        self, admin_app: Any, body: bytes, method: str, ctype: str, auth: bool
    ) -> None:
        """Random bodies, methods and content types get 2xx/4xx, never 5xx, and the app keeps serving."""
        headers = {"Content-Type": ctype, **({"Authorization": f"Bearer {TOKEN}"} if auth else {})}
        response = httpx.request(
            method, f"{admin_app.base_url}/admin/faults", content=body, headers=headers, timeout=5
        )
        assert response.status_code < 500, response.text
        httpx.delete(
            f"{admin_app.base_url}/admin/faults", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        assert admin_app.proc.poll() is None
        assert httpx.get(f"{admin_app.base_url}/healthz", timeout=5).status_code == 200
