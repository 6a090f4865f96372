"""Readers for a scenario's cohort declarations (``load.cohorts``) and cohort expectations (pure).

A cohort's marks go on the wire as they are written, so they must be valid HTTP: header names are RFC 9110
tokens, values have no control characters, cookie names are tokens and values RFC 6265 cookie-octets (no
``;``, ``,``, space or quote). ``Host`` comes from the ingress and ``Cookie`` from ``cookie:``, so neither
may be a ``header:``. Two cohorts with the same marks cannot be told apart by any route, and duplicate
names would merge in the records: both are refused. Every problem is located (file, line, field path).

Expectations (``expect``): ``cohort_boundary`` lists the cohorts the experiment may expose to the canary;
``max_users_hurt_inside_cohort`` / ``max_users_hurt_outside_cohort`` bound the users hurt on either side
of it; ``segment_regression`` names one cohort or route whose canary answers are judged on their own;
``verdict`` declares the decision a guardrail-design example must come out with.
"""

from __future__ import annotations

import re

from harness.model import EXPECTABLE_DECISIONS, ExpectedVerdict
from harness.scenario.fields import Fields, boolean, choice, integer, number, text
from harness.scenario.model import Cohort, CohortExpectations, Route, SegmentExpectation
from harness.scenario.yamlloc import FieldPath

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # no control characters
COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")  # RFC 6265 cookie-octet
RESERVED_HEADERS = {"host": "the ingress sets Host", "cookie": "write cookies under cookie:"}
COHORT_KEYS = ("name", "fraction", "header", "cookie")
COHORT_EXPECT_KEYS = (
    "cohort_boundary",
    "max_users_hurt_inside_cohort",
    "max_users_hurt_outside_cohort",
    "segment_regression",
    "verdict",  # not a cohort key, read here with them: read_expected_verdict
)
COHORT_NAME = text(r"[a-z0-9][a-z0-9-]*", "a cohort name of [a-z0-9-]")


def read_cohorts(reader: Fields, at: FieldPath) -> tuple[Cohort, ...]:
    """``load.cohorts``: named fractions of the users with the headers/cookies they send."""
    cohorts: list[Cohort] = []
    seen: dict[str, int] = {}
    marks: dict[tuple[object, ...], str] = {}
    for index, _ in enumerate(reader.items(at)):
        item = (*at, index)
        if reader.mapping(item, COHORT_KEYS, required=("name", "fraction")) is None:
            continue
        cohort = Cohort(
            reader.get((*item, "name"), COHORT_NAME, "cohort"),
            reader.get((*item, "fraction"), number(0, 1, above=0), 0.0),
            reader.string_map((*item, "header")),
            reader.string_map((*item, "cookie")),
        )
        if not cohort.header and not cohort.cookie:
            reader.add(item, "a header or cookie mapping that marks the cohort's requests", "neither")
        _check_marks(reader, item, cohort)
        if cohort.name in seen:
            reader.add((*item, "name"), f"a name not used by cohort {seen[cohort.name]}", repr(cohort.name))
        seen.setdefault(cohort.name, index)
        key = (tuple(sorted((k.lower(), v) for k, v in cohort.header)), tuple(sorted(cohort.cookie)))
        if (cohort.header or cohort.cookie) and key in marks:
            reader.add(item, f"marks different from cohort {marks[key]!r} (no route could tell them apart)",
                       "the same header and cookie values")  # fmt: skip
        marks.setdefault(key, cohort.name)
        cohorts.append(cohort)
    if sum(c.fraction for c in cohorts) > 1.0 + 1e-9:
        reader.add(at, "cohort fractions summing to at most 1", f"{sum(c.fraction for c in cohorts):g}")
    return tuple(cohorts)


def _check_marks(reader: Fields, item: FieldPath, cohort: Cohort) -> None:
    for name, value in cohort.header:
        where = (*item, "header", name)
        if not TOKEN.fullmatch(name):
            reader.add(where, "a header name made of HTTP token characters", repr(name))
        elif name.lower() in RESERVED_HEADERS:
            reader.add(where, f"another header ({RESERVED_HEADERS[name.lower()]})", repr(name))
        if not HEADER_VALUE.fullmatch(value):
            reader.add(where, "a header value without control characters", repr(value))
    for name, value in cohort.cookie:
        where = (*item, "cookie", name)
        if not TOKEN.fullmatch(name):
            reader.add(where, "a cookie name made of HTTP token characters", repr(name))
        if not value or not COOKIE_VALUE.fullmatch(value):
            reader.add(
                where, "a non-empty cookie value without ';', ',', spaces, quotes or '\\'", repr(value)
            )


def read_cohort_expectations(
    reader: Fields, at: FieldPath, cohorts: tuple[Cohort, ...], routes: tuple[Route, ...]
) -> CohortExpectations:
    """The cohort keys of ``expect`` (every one optional), checked against the declared cohorts/routes."""
    names = {c.name for c in cohorts}
    boundary: tuple[str, ...] | None = None
    if reader.present((*at, "cohort_boundary")):
        values = reader.items((*at, "cohort_boundary"))
        boundary = tuple(_cohort_ref(reader, (*at, "cohort_boundary", i), names) for i in range(len(values)))
        if not cohorts:
            reader.add((*at, "cohort_boundary"), "load.cohorts to be declared", "no cohorts")
    hurt_keys = ("max_users_hurt_inside_cohort", "max_users_hurt_outside_cohort")
    inside, outside = (reader.get((*at, key), integer(0), None) for key in hurt_keys)
    for key in hurt_keys:
        if reader.present((*at, key)) and not cohorts:
            reader.add((*at, key), "load.cohorts to be declared", "no cohorts")
    return CohortExpectations(
        boundary=tuple(b for b in boundary if b) if boundary is not None else None,
        max_users_hurt_inside=inside,
        max_users_hurt_outside=outside,
        segment=_segment(reader, (*at, "segment_regression"), names, routes),
    )


def _cohort_ref(reader: Fields, at: FieldPath, names: set[str]) -> str:
    name = reader.get(at, COHORT_NAME, "")
    if name and name not in names:
        reader.add(at, f"a declared cohort ({', '.join(sorted(names)) or 'none declared'})", repr(name))
        return ""
    return name


def _segment(
    reader: Fields, at: FieldPath, names: set[str], routes: tuple[Route, ...]
) -> SegmentExpectation | None:
    if not reader.present(at) or reader.mapping(at, ("cohort", "route", "caught"), ("caught",)) is None:
        return None
    caught = reader.get((*at, "caught"), boolean(), True)
    has_cohort, has_route = reader.present((*at, "cohort")), reader.present((*at, "route"))
    if has_cohort == has_route:
        reader.add(at, "exactly one of cohort or route", "both" if has_cohort else "neither")
        return None
    if has_cohort:
        name = _cohort_ref(reader, (*at, "cohort"), names)
        return SegmentExpectation("cohort", name, caught) if name else None
    route = _route_ref(reader, (*at, "route"), routes)
    return SegmentExpectation("route", route, caught) if route else None


def _route_ref(reader: Fields, at: FieldPath, routes: tuple[Route, ...]) -> str:
    """``/api/orders`` or ``GET /api/orders`` → the records' ``"GET /api/orders"`` (one load route)."""
    written = reader.get(at, text(r"([A-Z]+ )?/\S*", "a load route: '/path' or 'METHOD /path'"), "")
    if not written:
        return ""
    known = [f"{r.method.upper()} {r.path}" for r in routes]
    found = [k for k in known if k == written or k.split(" ", 1)[1] == written]
    if len(found) != 1:
        expected = f"exactly one of the load routes ({', '.join(known)})"
        reader.add(at, expected, repr(written) + (" matches several" if found else ""))
        return ""
    return found[0]


def read_expected_verdict(reader: Fields, at: FieldPath) -> ExpectedVerdict:
    """``expect.verdict: {decision: NO-GO, failing: [cohort_boundary]}``; GO when absent."""
    if not reader.present(at) or reader.mapping(at, ("decision", "failing"), ("decision",)) is None:
        return ExpectedVerdict()
    decision = reader.get((*at, "decision"), choice(EXPECTABLE_DECISIONS), "GO")
    failing = tuple(
        reader.get((*at, "failing", i), text(r"[a-z_]+", "a measure name"), "")
        for i in range(len(reader.items((*at, "failing"))))
    )
    if failing and decision != "NO-GO":
        reader.add((*at, "failing"), "no failing measures unless decision is NO-GO", str(list(failing)))
    if decision == "NO-GO" and not failing:
        reader.add((*at, "failing"), "the measures an expected NO-GO must name", "nothing")
    return ExpectedVerdict(decision, tuple(f for f in failing if f))
