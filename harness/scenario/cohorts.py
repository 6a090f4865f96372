"""Load-generator cohorts, pure: which synthetic user is in which cohort, and what it sends.

A scenario declares cohorts under ``load.cohorts`` (``harness.scenario.model.Cohort``: a name, a fraction
of the users, headers and/or cookies sent on every request). The assignment is the rule the Locust child
applies (``harness/load/locustfile.py`` ``SyntheticUser.on_start``): user ``n`` of Locust process ``i`` is
``w<i>u<nnnn>`` (``u<nnnn>`` without workers), its spread index is ``n × max(1, workers) + i`` (about the
global user index), its position is ``spread × φ⁻¹ mod 1`` (golden-ratio low-discrepancy), and the
cohorts own consecutive slices ``[0, f₁), [f₁, f₁ + f₂), …`` of [0, 1). A user keeps its cohort for the
whole run because the position depends only on its id. ``load.seed`` (default 0) is added to the spread
index: another seed puts other users in the cohorts, the same seed the same ones.

This module is the single pure copy of that rule: the Locust child calls ``cohort_for_user`` and the load
gateway builds each cohort's headers with ``request_headers``.

``cohort_reaches_canary`` joins cohorts with an HTTPRoute: does a cohort's request select the rule that
carries the canary backend?
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from harness.providers.linkerd.httproute import HTTPRoute, Request
from harness.scenario.model import Cohort

GOLDEN = (math.sqrt(5) - 1) / 2
OUTSIDE = "-"  # the cohort name of users in no declared cohort
_USER_ID = re.compile(r"(?:w(?P<index>\d+))?u(?P<number>\d+)")


def user_id(number: int, *, index: int = 0, worker: bool = False) -> str:
    """The id the Locust child gives its ``number``-th user (``worker``: a distributed worker ``index``)."""
    return f"w{index}u{number:04d}" if worker else f"u{number:04d}"


def parse_user_id(text: str) -> tuple[int, int]:
    """``(process index, user number)`` of ``w<i>u<n>`` or ``u<n>``; ValueError for anything else."""
    match = _USER_ID.fullmatch(text)
    if match is None:
        raise ValueError(f"expected a synthetic user id like 'u0003' or 'w1u0003', found {text!r}")
    return int(match["index"] or 0), int(match["number"])


def spread_index(number: int, index: int = 0, workers: int = 0, seed: int = 0) -> int:
    return number * max(1, workers) + index + seed


def position(spread: int) -> float:
    """Where a spread index falls in [0, 1)."""
    return (spread * GOLDEN) % 1.0


class _Fraction(Protocol):
    @property
    def fraction(self) -> float: ...


C = TypeVar("C", bound=_Fraction)


def cohort_at(point: float, cohorts: Sequence[C]) -> C | None:
    """The cohort owning ``point`` (a scenario ``Cohort`` or the child's ``CohortConfig``); None past them."""
    start = 0.0
    for cohort in cohorts:
        if start <= point < start + cohort.fraction:
            return cohort
        start += cohort.fraction
    return None


def cohort_for_user(
    number: int, cohorts: Sequence[C], *, index: int = 0, workers: int = 0, seed: int = 0
) -> C | None:
    """The cohort of the ``number``-th user of Locust process ``index`` (what the child calls)."""
    return cohort_at(position(spread_index(number, index, workers, seed)), cohorts)


def cohort_of_user(text: str, cohorts: Sequence[Cohort], workers: int = 0, seed: int = 0) -> Cohort | None:
    """The cohort of a user id from the load records."""
    index, number = parse_user_id(text)
    return cohort_for_user(number, cohorts, index=index, workers=workers, seed=seed)


def cohort_name(text: str, cohorts: Sequence[Cohort], workers: int = 0, seed: int = 0) -> str:
    cohort = cohort_of_user(text, cohorts, workers, seed)
    return OUTSIDE if cohort is None else cohort.name


def request_headers(cohort: Cohort | None, host_header: str | None = None) -> tuple[tuple[str, str], ...]:
    """The headers a cohort's user sends: its headers, then ``Cookie: a=1; b=2``, then ``Host``."""
    headers = list(cohort.header) if cohort else []
    if cohort and cohort.cookie:
        headers.append(("Cookie", "; ".join(f"{name}={value}" for name, value in cohort.cookie)))
    if host_header:
        headers.append(("Host", host_header))
    return tuple(headers)


@dataclass(frozen=True)
class CohortSize:
    """How many of a run's synthetic users a cohort really gets (the fraction is only a target)."""

    name: str
    fraction: float  # declared
    users: int  # assigned, for the run's user count
    share: float  # users / all users: its share of the requests (every user is paced alike)


def cohort_sizes(cohorts: Sequence[Cohort], users: int, seed: int = 0) -> tuple[CohortSize, ...]:
    """Assigned users per cohort (and ``OUTSIDE``) when ``users`` users are spread 0 … users − 1."""
    counts = {c.name: 0 for c in cohorts}
    outside = 0
    for spread in range(users):
        cohort = cohort_at(position(spread + seed), cohorts)
        if cohort is None:
            outside += 1
        else:
            counts[cohort.name] += 1
    sizes = [
        CohortSize(c.name, c.fraction, counts[c.name], counts[c.name] / users if users else 0.0)
        for c in cohorts
    ]
    rest = 1.0 - sum(c.fraction for c in cohorts)
    sizes.append(CohortSize(OUTSIDE, max(0.0, rest), outside, outside / users if users else 0.0))
    return tuple(sizes)


def cohort_reaches_canary(
    cohort: Cohort | None, route: HTTPRoute, canary_backend: str, paths: Iterable[str] = ("/",)
) -> bool:
    """True when ``cohort``'s request on one of ``paths`` selects a rule sending to ``canary_backend``."""
    for path in paths:
        selection = route.select(Request.of("GET", path, request_headers(cohort)))
        if selection is not None and any(
            b.name == canary_backend and b.weight > 0 for b in selection.rule.backend_refs
        ):
            return True
    return False
