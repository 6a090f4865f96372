"""Readers for the ``load``, ``timing`` and ``expect`` sections of a scenario file (pure)."""

from __future__ import annotations

from typing import cast

from harness.scenario.fields import Fields, Kind, boolean, choice, duration, integer, number, text
from harness.scenario.model import (
    OUTCOMES,
    ROLLBACK_CAUSES,
    Cohort,
    Expectations,
    LoadProfile,
    LoadStage,
    Outcome,
    PathExpectations,
    RollbackCause,
    Route,
    Timing,
)
from harness.scenario.policy import Policy
from harness.scenario.yamlloc import FieldPath

LOAD_KEYS = ("users", "spawn_rate", "rps", "shape", "routes", "cohorts", "workers", "request_timeout_seconds")
TIMING_KEYS = ("warmup", "recovery", "max_duration")
EXPECT_KEYS = (
    "outcome",
    "abort_within",
    "max_canary_weight",
    "max_failed_requests",
    "max_failed_fraction",
    "max_users_hurt",
    "recovery_within",
    "primary_untouched",
    "rollback_cause",
    "weights_walked",
    "first_failed_check_within",
    "failed_checks_path",
    "events_include",
    "pause_within",
    "pause_reason",
)
PAUSE_KEYS = ("pause_within", "pause_reason")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
MAX_RPS = 5000.0


def read_load(reader: Fields) -> LoadProfile:
    at: FieldPath = ("load",)
    if reader.mapping(at, LOAD_KEYS) is None:
        return LoadProfile()
    users = reader.get((*at, "users"), integer(1, 10_000), 10)
    has_rps, has_shape = reader.present((*at, "rps")), reader.present((*at, "shape"))
    if has_rps == has_shape:
        reader.add(at, "exactly one of rps or shape", "both" if has_rps else "neither")
    return LoadProfile(
        users=users,
        spawn_rate=reader.get((*at, "spawn_rate"), number(above=0), float(users)),
        rps=reader.get((*at, "rps"), number(0, MAX_RPS, above=0), None) if has_rps else None,
        shape=_read_shape(reader, (*at, "shape")) if has_shape else (),
        routes=_read_routes(reader, (*at, "routes")),
        cohorts=_read_cohorts(reader, (*at, "cohorts")),
        workers=reader.get((*at, "workers"), integer(0, 64), 0),
        request_timeout_seconds=reader.get((*at, "request_timeout_seconds"), duration(positive=True), 5.0),
    )


def _read_shape(reader: Fields, at: FieldPath) -> tuple[LoadStage, ...]:
    stages: list[LoadStage] = []
    for index, _ in enumerate(reader.items(at, non_empty=True)):
        item = (*at, index)
        if reader.mapping(item, ("duration", "rps"), required=("duration", "rps")) is None:
            continue
        stages.append(
            LoadStage(
                reader.get((*item, "duration"), duration(positive=True), 0.0),
                reader.get((*item, "rps"), number(0, MAX_RPS), 0.0),
            )
        )
    return tuple(stages)


def _read_routes(reader: Fields, at: FieldPath) -> tuple[Route, ...]:
    if not reader.present(at):
        return (Route("/"),)
    routes: list[Route] = []
    for index, _ in enumerate(reader.items(at, non_empty=True)):
        item = (*at, index)
        if reader.mapping(item, ("path", "method", "weight"), required=("path",)) is None:
            continue
        routes.append(
            Route(
                reader.get((*item, "path"), text(r"/[^\s]*", "a URL path starting with '/'"), "/"),
                reader.get((*item, "method"), choice(METHODS), "GET"),
                reader.get((*item, "weight"), integer(1, 1000), 1),
            )
        )
    return tuple(routes) or (Route("/"),)


def _read_cohorts(reader: Fields, at: FieldPath) -> tuple[Cohort, ...]:
    cohorts: list[Cohort] = []
    for index, _ in enumerate(reader.items(at)):
        item = (*at, index)
        if (
            reader.mapping(item, ("name", "fraction", "header", "cookie"), required=("name", "fraction"))
            is None
        ):
            continue
        cohort = Cohort(
            reader.get((*item, "name"), text(r"[a-z0-9][a-z0-9-]*", "a cohort name of [a-z0-9-]"), "cohort"),
            reader.get((*item, "fraction"), number(0, 1, above=0), 0.0),
            reader.string_map((*item, "header")),
            reader.string_map((*item, "cookie")),
        )
        if not cohort.header and not cohort.cookie:
            reader.add(item, "a header or cookie mapping that marks the cohort's requests", "neither")
        cohorts.append(cohort)
    if sum(c.fraction for c in cohorts) > 1.0 + 1e-9:
        reader.add(at, "cohort fractions summing to at most 1", f"{sum(c.fraction for c in cohorts):g}")
    return tuple(cohorts)


def read_timing(reader: Fields) -> Timing:
    at: FieldPath = ("timing",)
    if not reader.present(at) or reader.mapping(at, TIMING_KEYS) is None:
        return Timing()
    return Timing(
        reader.get((*at, "warmup"), duration(), 120.0),
        reader.get((*at, "recovery"), duration(), 120.0),
        reader.get((*at, "max_duration"), duration(positive=True), 1800.0),
    )


def read_expectations(reader: Fields, policy: Policy) -> Expectations:
    """``expect`` with policy fallbacks; an expectation may tighten the policy, never loosen it."""
    at: FieldPath = ("expect",)
    if reader.mapping(at, EXPECT_KEYS, required=("outcome",)) is None:
        return Expectations("rolled-back")
    outcome = cast(Outcome, reader.get((*at, "outcome"), choice(OUTCOMES), "rolled-back"))
    rolled_back = outcome == "rolled-back"
    for key in ("abort_within", "recovery_within", "rollback_cause"):
        if not rolled_back and reader.present((*at, key)):
            reader.add((*at, key), "no value: it only applies when outcome is 'rolled-back'", "a value")
    for key in PAUSE_KEYS:
        if outcome != "paused" and reader.present((*at, key)):
            reader.add((*at, key), "no value: it only applies when outcome is 'paused'", "a value")
    expect = Expectations(
        outcome=outcome,
        abort_within_seconds=reader.get(
            (*at, "abort_within"), duration(positive=True), policy.abort_within_seconds
        ),
        max_canary_weight=reader.get((*at, "max_canary_weight"), integer(0, 100), policy.max_canary_weight),
        max_failed_requests=reader.get((*at, "max_failed_requests"), integer(0), None),
        max_failed_fraction=reader.get(
            (*at, "max_failed_fraction"), number(0, 1), policy.max_failed_fraction
        ),
        max_users_hurt=reader.get((*at, "max_users_hurt"), integer(0), None),
        recovery_within_seconds=reader.get(
            (*at, "recovery_within"), duration(), policy.recovery_within_seconds
        ),
        primary_untouched=reader.get((*at, "primary_untouched"), boolean(), True),
        rollback_cause=cast(
            RollbackCause | None, reader.get((*at, "rollback_cause"), choice(ROLLBACK_CAUSES), None)
        ),
        path=_read_path(reader, at),
    )
    _no_looser_than_policy(reader, expect, policy)
    if not rolled_back:
        return Expectations(
            outcome,
            pause_within_seconds=reader.get((*at, "pause_within"), duration(positive=True), None),
            pause_reason=reader.get((*at, "pause_reason"), text(), None),
            max_canary_weight=expect.max_canary_weight,
            max_failed_requests=expect.max_failed_requests,
            max_failed_fraction=expect.max_failed_fraction,
            max_users_hurt=expect.max_users_hurt,
            primary_untouched=expect.primary_untouched,
            path=expect.path,
        )
    return expect


def _read_path(reader: Fields, at: FieldPath) -> PathExpectations:
    """``weights_walked``, ``first_failed_check_within``, ``failed_checks_path`` and ``events_include``."""
    events = reader.items((*at, "events_include"))
    return PathExpectations(
        weights_walked=_increasing(reader, (*at, "weights_walked"), integer(1, 100)),
        first_failed_check_within_seconds=reader.get(
            (*at, "first_failed_check_within"), duration(positive=True), None
        ),
        failed_checks_path=_increasing(reader, (*at, "failed_checks_path"), integer(0)),
        events_include=tuple(
            reader.get((*at, "events_include", index), text(), "") for index in range(len(events))
        ),
    )


def _increasing(reader: Fields, at: FieldPath, kind: Kind[int]) -> tuple[int, ...] | None:
    """A non-empty list of ``kind`` in strictly increasing order (a status path never steps back)."""
    if not reader.present(at):
        return None
    values = [reader.get((*at, index), kind, None) for index in range(len(reader.items(at, non_empty=True)))]
    for index in range(1, len(values)):
        previous, value = values[index - 1], values[index]
        if previous is not None and value is not None and value <= previous:
            reader.add((*at, index), f"a value > {previous} (the list is strictly increasing)", str(value))
    return tuple(v for v in values if v is not None)


def _no_looser_than_policy(reader: Fields, expect: Expectations, policy: Policy) -> None:
    pairs = (
        ("abort_within", expect.abort_within_seconds, policy.abort_within_seconds),
        ("max_canary_weight", expect.max_canary_weight, policy.max_canary_weight),
        ("max_failed_fraction", expect.max_failed_fraction, policy.max_failed_fraction),
        ("recovery_within", expect.recovery_within_seconds, policy.recovery_within_seconds),
    )
    for key, value, cap in pairs:
        if value is not None and cap is not None and value > cap:
            reader.add(
                ("expect", key),
                f"at most the policy's {key} ({cap:g})",
                f"{value:g}",
                "loosen the policy explicitly with policy_overrides",
            )
