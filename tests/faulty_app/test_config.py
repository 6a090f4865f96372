"""parse_faults / load_faults_text: precise problems, safe loading, fuzzing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faulty_app.config import (
    KINDS,
    FaultConfigError,
    FaultProblem,
    dump_faults,
    load_faults_text,
    parse_faults,
)
from faulty_app.settings import SettingsError, settings_from_env

ONE_OF_EACH = [
    {"kind": "http_errors", "rate": 0.3, "status_codes": [500, 503]},
    {"kind": "latency", "p50_ms": 20, "p99_ms": 200, "scope": {"routes": ["/api/orders"]}},
    {"kind": "latency", "delay_ms": 500, "fraction": 0.05},
    {"kind": "slow_burn", "ramp_seconds": 600, "error_rate": {"start": 0, "end": 0.5}},
    {"kind": "crash", "after_requests": 100, "exit_code": 137},
    {"kind": "readiness", "mode": "flap", "period_seconds": 30, "window": {"start_after_seconds": 60}},
    {"kind": "hang", "scope": {"header": {"name": "x-canary", "value": "1"}, "probability": 0.1}},
    {"kind": "wrong_answer", "scope": {"cookie": {"name": "cohort", "value": "b"}}},
    {"kind": "cpu_burn", "ms_per_request": 50, "max_duty_cycle": 0.5},
    {"kind": "memory_leak", "bytes_per_request": 65536, "max_total_bytes": 67108864},
]


def problems(data: object) -> tuple[FaultProblem, ...]:
    with pytest.raises(FaultConfigError) as caught:
        parse_faults(data)
    return caught.value.problems


class TestParseFaults:
    def test_one_example_of_each_kind_parses_and_round_trips(self):
        """One valid fault per kind parses, and dump_faults output parses to the same models."""
        faults = parse_faults(ONE_OF_EACH)
        assert {fault.kind for fault in faults} == set(KINDS)
        assert parse_faults(dump_faults(faults)) == faults

    def test_message_names_path_expected_and_found(self):
        """The issue's example message, exactly."""
        with pytest.raises(FaultConfigError) as caught:
            parse_faults([{"kind": "latency", "delay_ms": 1}, {"kind": "http_errors", "rate": 1.7}])
        assert str(caught.value) == "FAULTS[1].rate: expected a number between 0 and 1, found 1.7"
        assert caught.value.problems == (FaultProblem("[1].rate", "a number between 0 and 1", "1.7"),)

    @pytest.mark.parametrize(
        ("data", "path", "expected_part", "found"),
        [
            ({"kind": "http_errors"}, "[0]", "a list of fault objects", '{"kind": "http_errors"}'),
            ([{"rate": 1}], "[0].kind", "a fault kind, one of", "nothing"),
            ([{"kind": "boom"}], "[0].kind", "a fault kind, one of", '"boom"'),
            ([5], "[0]", "a fault object with a 'kind'", "5"),
            ([{"kind": "http_errors", "rate": True}], "[0].rate", "a number between 0 and 1", "true"),
            (
                [{"kind": "http_errors", "rate": 1, "status_codes": [200]}],
                "[0].status_codes[0]",
                "400 and 599",
                "200",
            ),
            (
                [{"kind": "http_errors", "rate": 1, "scope": {"probability": -1}}],
                "[0].scope.probability",
                "0 and 1",
                "-1",
            ),
            ([{"kind": "latency", "p50_ms": 50, "p99_ms": 10}], "[0].p99_ms", "≥ p50_ms (50)", "10"),
            ([{"kind": "latency", "delay_ms": 5, "p50_ms": 3}], "[0].delay_ms", "not both", "5"),
            ([{"kind": "latency", "delay_ms": 60001}], "[0].delay_ms", "between 0 and 60000", "60001"),
            (
                [{"kind": "crash", "on_startup": True, "after_requests": 3}],
                "[0].on_startup",
                "exactly one",
                "true",
            ),
            (
                [{"kind": "readiness", "mode": "delay"}],
                "[0].ready_after_seconds",
                "mode is 'delay'",
                "nothing",
            ),
            ([{"kind": "hang", "hold_ms": 300001}], "[0].hold_ms", "≤ 300000", "300001"),
            (
                [{"kind": "cpu_burn", "ms_per_request": 10, "max_duty_cycle": 0.9}],
                "[0].max_duty_cycle",
                "≤ 0.8",
                "0.9",
            ),
            ([{"kind": "memory_leak"}], "[0].bytes_per_request", "(required)", "nothing"),
            ([{"kind": "wrong_answer", "rate": 0.5}], "[0].rate", 'no field named "rate"', "0.5"),
            (
                [{"kind": "slow_burn", "ramp_seconds": 10}],
                "[0].error_rate",
                "error_rate and/or latency_ms",
                "nothing",
            ),
            (
                [{"kind": "hang", "window": {"start_after_seconds": 1, "start_after_requests": 2}}],
                "[0].window.start_after_requests",
                "only one of",
                "2",
            ),
        ],
    )
    def test_problem_locations(self, data, path, expected_part, found):
        """Each mistake is reported at its exact path, with the expectation and the found value."""
        if path == "[0]" and isinstance(data, dict):
            path = ""
        (problem,) = problems(data)
        assert problem.path == path
        assert expected_part in problem.expected
        assert problem.found == found

    def test_several_problems_are_all_reported(self):
        """Every bad field is listed, not only the first."""
        found = problems([{"kind": "http_errors", "rate": 2}, {"kind": "hang", "hold_ms": 0}])
        assert [p.path for p in found] == ["[0].rate", "[1].hold_ms"]

    def test_custom_source_prefixes_the_message(self):
        """The source names the origin (a scenario file, say) in the rendered message."""
        with pytest.raises(FaultConfigError, match=r"^scenarios/x\.yaml:faults\[0\]\.rate: expected"):
            parse_faults([{"kind": "http_errors", "rate": "high"}], source="scenarios/x.yaml:faults")


class TestReadme:
    def test_examples_per_kind_parse(self):
        """The README's "one example per kind" block parses and covers every kind."""
        readme = (Path(__file__).resolve().parents[2] / "faulty_app" / "README.md").read_text()
        block = readme.split("One example per kind:", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
        assert {fault.kind for fault in load_faults_text(block)} == set(KINDS)


class TestLoadFaultsText:
    def test_json_and_yaml_give_the_same_faults(self):
        """The same list written as JSON or YAML parses identically; blank text means no faults."""
        as_json = '[{"kind": "http_errors", "rate": 0.5}]'
        as_yaml = "- kind: http_errors\n  rate: 0.5\n"
        assert load_faults_text(as_json) == load_faults_text(as_yaml)
        assert load_faults_text("  \n") == ()

    def test_refuses_more_than_one_mebibyte(self):
        """Text over 1 MiB is refused before any parsing."""
        with pytest.raises(FaultConfigError, match="at most 1 MiB"):
            load_faults_text("[]" + " " * (1024 * 1024))

    def test_refuses_yaml_aliases(self):
        """Anchors/aliases are refused, so a 'billion laughs' document cannot explode."""
        bomb = "- &a {kind: hang}\n- *a\n"
        with pytest.raises(FaultConfigError, match="aliases are not allowed"):
            load_faults_text(bomb)

    def test_refuses_unsafe_tags_and_deep_nesting(self):
        """Python object tags and absurd nesting become FaultConfigError, never another error."""
        with pytest.raises(FaultConfigError):
            load_faults_text("- !!python/object/apply:os.system ['true']\n")
        with pytest.raises(FaultConfigError):
            load_faults_text("[" * 100_000 + "]" * 100_000)

    def test_yaml_syntax_error_has_a_line(self):
        """A YAML syntax error says where it is."""
        with pytest.raises(FaultConfigError, match="line 2"):
            load_faults_text("- kind: hang\n  - : [\n")


class TestSettingsFromEnv:
    def test_defaults(self):
        """An empty environment gives version dev, no faults, admin off, TIME_SCALE 1."""
        settings = settings_from_env({})
        assert (settings.version, settings.faults, settings.admin_token, settings.time_scale) == (
            "dev",
            (),
            None,
            1.0,
        )

    @pytest.mark.parametrize(
        ("env", "source"),
        [
            ({"TIME_SCALE": "-1"}, "TIME_SCALE"),
            ({"TIME_SCALE": "nan"}, "TIME_SCALE"),
            ({"APP_VERSION": "a b"}, "APP_VERSION"),
        ],
    )
    def test_bad_values(self, env, source):
        """Invalid TIME_SCALE or APP_VERSION are refused with the variable name."""
        with pytest.raises(SettingsError, match=f"^{source}: expected"):
            settings_from_env(env)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["kind", "rate", "status_codes", "scope", "window", "delay_ms", "p50_ms", "p99_ms", "fraction", "mode",
     "routes", "probability", "header", "cookie", "name", "value", "after_requests", "on_startup", "hold_ms",
     "ramp_seconds", "error_rate", "start", "end", "bytes_per_request", "start_after_requests"]
)  # fmt: skip
fault_like = st.fixed_dictionaries({"kind": st.sampled_from([*KINDS, "nope"])}, optional={}).flatmap(
    lambda base: st.dictionaries(field_names, json_values, max_size=5).map(lambda extra: {**extra, **base})
)


class TestFuzz:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(json_values, st.lists(st.one_of(fault_like, json_values), max_size=4)))
    def test_parse_faults_only_returns_faults_or_raises_fault_config_error(self, data):
        """Whatever the input, parse_faults returns a tuple of faults or raises FaultConfigError."""
        outcome: object
        try:
            outcome = parse_faults(data)
        except FaultConfigError as exc:
            outcome = exc
        if isinstance(outcome, FaultConfigError):
            assert outcome.problems
            assert all(isinstance(p, FaultProblem) for p in outcome.problems)
        else:
            assert isinstance(outcome, tuple)
            assert all(fault.kind in KINDS for fault in outcome)

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=200))
    def test_load_faults_text_never_raises_anything_else(self, text):
        """Arbitrary text is either faults or FaultConfigError."""
        with contextlib.suppress(FaultConfigError):
            assert isinstance(load_faults_text(text), tuple)
