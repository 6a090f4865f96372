"""The HTTPRoute Flagger v1.44 writes for a Canary on ``gatewayapi:v1beta1`` (pure).

Mirrors ``pkg/router/gateway_api_v1beta1.go`` (``SetRoutes``, ``mapRouteMatches``,
``mergeMatchConditions``): name = the apex Service, ``parentRefs`` = ``service.gatewayRefs``,
``hostnames`` = ``service.hosts``; backendRefs ``<apex>-primary`` / ``<apex>-canary`` on ``service.port``.

- no ``analysis.match``: one rule, ``service.match`` (or ``PathPrefix "/"``) → primary p, canary c;
- ``analysis.match``: rule 1 = the analysis matches merged into the service matches → primary p,
  canary c; rule 2 = the service matches → primary 100. ``runAB`` sets p/c = 0/100 every iteration.
  (The router takes this branch whenever ``match`` is set, also for the canary strategy: then the
  weights apply inside the cohort.)

Flagger **discards** the mapping error of ``analysis.match`` (``analysisMatches, _ :=``): a ``prefix`` /
``suffix`` value anywhere in the list, or an entry with neither headers nor query params, leaves rule 1
matching every request. ``exposure_problems`` names those cases (and a dropped uri/method, which widens
the cohort to every path). Session affinity, mirroring, filters and
timeouts are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.controllers.flagger.model import CanarySpec
from harness.errors import CanarySpecError, Problem
from harness.providers.linkerd.httproute import (
    DEFAULT_PATH,
    BackendRef,
    HeaderMatch,
    HTTPRoute,
    HTTPRouteRule,
    ParentRef,
    PathMatch,
    QueryParamMatch,
    RouteError,
    RouteMatch,
    ValueMatchType,
)

TOTAL_WEIGHT = 100
_STRING_MATCH_KEYS = ("exact", "prefix", "suffix", "regex")
_MATCH_KEYS = ("uri", "method", "headers", "queryParams")
FieldPath = tuple[str | int, ...]
_Add = Callable[[FieldPath, str, Any], None]  # records one located problem


def render_path(path: FieldPath) -> str:
    """``("spec", "analysis", "match", 0)`` → ``spec.analysis.match[0]`` (as ``harness.scenario.yamlloc``)."""
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path).lstrip(".")


@dataclass(frozen=True)
class StringMatch:
    """Istio's ``StringMatch`` as Flagger's Go struct holds it: unset fields are ""."""

    exact: str = ""
    prefix: str = ""
    suffix: str = ""
    regex: str = ""


@dataclass(frozen=True)
class MatchRequest:
    """One ``analysis.match`` / ``service.match`` entry (Istio ``HTTPMatchRequest``), as Flagger reads it."""

    uri: StringMatch | None = None
    method: StringMatch | None = None
    headers: tuple[tuple[str, StringMatch], ...] = ()
    query_params: tuple[tuple[str, StringMatch], ...] = ()
    ignored: tuple[str, ...] = ()  # keys Gateway API has no use for (sourceLabels, port, …)


@dataclass(frozen=True)
class Mapped:
    """``mapRouteMatches``' result: the matches, or the error text (then no matches at all)."""

    matches: tuple[RouteMatch, ...]
    error: str | None = None


def parse_matches(raw: Any, at: FieldPath, source: str | None = None) -> tuple[MatchRequest, ...]:
    """A match list from YAML; shape errors are a ``CanarySpecError`` located at ``at``."""
    problems: list[Problem] = []

    def add(path: FieldPath, expected: str, found: Any) -> None:
        problems.append(Problem(render_path(path), expected, repr(found), file=source))

    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        add(at, "a list of match conditions", raw)
        raise CanarySpecError(problems)
    entries = [_parse_entry(item, (*at, index), add) for index, item in enumerate(raw)]
    if problems:
        raise CanarySpecError(problems)
    return tuple(e for e in entries if e is not None)


def _parse_entry(item: Any, at: FieldPath, add: _Add) -> MatchRequest | None:
    if not isinstance(item, Mapping):
        add(at, "a mapping with uri, method, headers or queryParams", item)
        return None
    return MatchRequest(
        uri=_string_match(item.get("uri"), (*at, "uri"), add),
        method=_string_match(item.get("method"), (*at, "method"), add),
        headers=_string_matches(item.get("headers"), (*at, "headers"), add),
        query_params=_string_matches(item.get("queryParams"), (*at, "queryParams"), add),
        ignored=tuple(sorted(str(k) for k in item if k not in _MATCH_KEYS)),
    )


def _string_matches(raw: Any, at: FieldPath, add: _Add) -> tuple[tuple[str, StringMatch], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        add(at, "a mapping of name → {exact|prefix|suffix|regex: value}", raw)
        return ()
    pairs = [(str(name), _string_match(value, (*at, str(name)), add)) for name, value in raw.items()]
    return tuple(sorted((name, m) for name, m in pairs if m is not None))  # Go map order is random


def _string_match(raw: Any, at: FieldPath, add: _Add) -> StringMatch | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or any(k not in _STRING_MATCH_KEYS for k in raw):
        add(at, "a mapping with exact, prefix, suffix or regex", raw)
        return None
    values = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            add((*at, key), "a string", value)
            return None
        values[key] = value
    return StringMatch(**values)


def map_route_matches(requests: Sequence[MatchRequest]) -> Mapped:
    """Flagger's ``mapRouteMatches``: Istio matches → HTTPRoute matches, or the first error."""
    matches: list[RouteMatch] = []
    for request in requests:
        path = None
        if request.uri is not None:
            uri = request.uri
            if uri.regex:
                path = PathMatch("RegularExpression", uri.regex)
            elif uri.exact:
                path = PathMatch("Exact", uri.exact)
            elif uri.prefix:
                path = PathMatch("PathPrefix", uri.prefix)
            else:
                return Mapped((), f"Gateway API doesn't support the path matching selector {uri}")
        method = None
        if request.method is not None:
            if not request.method.exact:
                return Mapped(
                    (), f"Gateway API doesn't support the method matching selector {request.method}"
                )
            method = request.method.exact
        headers: list[HeaderMatch] = []
        for name, value in request.headers:
            if not (value.exact or value.regex):
                return Mapped((), f"Gateway API doesn't support the header matching selector {name}: {value}")
            headers.append(HeaderMatch(name, *_value_of(value)))
        params: list[QueryParamMatch] = []
        for name, value in request.query_params:
            if not (value.exact or value.regex):
                return Mapped((), f"Gateway API doesn't support the query matching selector {name}: {value}")
            params.append(QueryParamMatch(name, *_value_of(value)))
        match = RouteMatch(path, tuple(headers), tuple(params), method)
        if match != RouteMatch():
            matches.append(match)
    return Mapped(tuple(matches))


def _value_of(value: StringMatch) -> tuple[str, ValueMatchType]:
    return (value.exact, "Exact") if value.exact else (value.regex, "RegularExpression")


def merge_match_conditions(
    analysis: Sequence[RouteMatch], service: Sequence[RouteMatch]
) -> tuple[RouteMatch, ...]:
    """``mergeMatchConditions``: each service match with the analysis match's headers/query params."""
    if not analysis:
        return tuple(service)
    if not service:
        return tuple(analysis)
    merged = []
    for a in analysis:
        for s in service:
            merged.append(
                RouteMatch(s.path, a.headers or s.headers, a.query_params or s.query_params, s.method)
            )
    return tuple(merged)


def service_matches(spec: CanarySpec) -> tuple[RouteMatch, ...]:
    """``service.match`` mapped, or ``PathPrefix "/"``; a mapping error fails Reconcile (``RouteError``)."""
    raw = _service(spec).get("match")
    mapped = map_route_matches(parse_matches(raw, ("spec", "service", "match"), spec.source))
    if mapped.error is not None:
        raise RouteError(f"Invalid request matching selectors: {mapped.error}")
    return mapped.matches or (RouteMatch(path=DEFAULT_PATH),)


def analysis_matches(spec: CanarySpec) -> tuple[MatchRequest, ...]:
    return parse_matches(list(spec.analysis.match), ("spec", "analysis", "match"), spec.source)


def flagger_httproute(spec: CanarySpec, primary_weight: int, canary_weight: int) -> HTTPRoute:
    """The HTTPRoute after ``SetRoutes(primary_weight, canary_weight)`` (``Reconcile`` is 100/0)."""
    apex, port = spec.service_name, spec.service_port
    parents = _parent_refs(spec)
    if not parents:
        raise RouteError(
            "GatewayRefs must be specified when using Gateway API as a provider (service.gatewayRefs)"
        )
    service = service_matches(spec)
    weighted = (
        BackendRef(f"{apex}-primary", primary_weight, port),
        BackendRef(f"{apex}-canary", canary_weight, port),
    )
    rules = [HTTPRouteRule(service, weighted)]
    if spec.analysis.match:
        cohort = map_route_matches(analysis_matches(spec)).matches  # Flagger ignores the error here
        rules = [
            HTTPRouteRule(merge_match_conditions(cohort, service), weighted),
            HTTPRouteRule(service, (BackendRef(f"{apex}-primary", TOTAL_WEIGHT, port),)),
        ]
    return HTTPRoute(apex, spec.namespace, tuple(rules), parents, _hosts(spec)).validate()


def route_weights(route: HTTPRoute, apex: str) -> tuple[int, int]:
    """``GetRoutes``: (primary, canary) from the rules with exactly two backendRefs (the last one wins)."""
    primary = canary = 0
    for rule in route.rules:
        if len(rule.backend_refs) != 2:
            continue  # A/B: the primary-only rule is skipped
        for ref in rule.backend_refs:
            if ref.name == f"{apex}-primary":
                primary = ref.weight
            elif ref.name == f"{apex}-canary":
                canary = ref.weight
    return primary, canary


@dataclass(frozen=True)
class ExposureProblem:
    """A way the A/B cohort rule reaches more requests than ``analysis.match`` says."""

    everyone: bool  # True: rule 1 matches every request (100 % exposure); False: the cohort is widened
    message: str


def exposure_problems(spec: CanarySpec) -> tuple[ExposureProblem, ...]:
    """What makes the cohort rule of an A/B route broader than its match list (empty: it is bounded)."""
    if not spec.analysis.match:
        return ()
    requests = analysis_matches(spec)
    mapped = map_route_matches(requests)
    if mapped.error is not None:
        return (
            ExposureProblem(True, f"{mapped.error}; Flagger ignores this error and drops the match list"),
        )
    problems = []
    for index, request in enumerate(requests):
        where = f"analysis.match[{index}]"
        if not request.headers and not request.query_params:
            why = (
                "its uri/method are dropped by the merge" if request.uri or request.method else "it is empty"
            )
            problems.append(ExposureProblem(True, f"{where} has no headers or queryParams ({why})"))
        elif request.uri or request.method:
            problems.append(
                ExposureProblem(False, f"{where}: uri/method are dropped, the cohort spans all paths")
            )
    if not mapped.matches and not problems:
        problems.append(ExposureProblem(True, "no analysis.match entry maps to a Gateway API match"))
    return tuple(problems)


def _service(spec: CanarySpec) -> Mapping[str, Any]:
    service = spec.manifest.get("spec", {}).get("service", {}) if isinstance(spec.manifest, Mapping) else {}
    return service if isinstance(service, Mapping) else {}


def _parent_refs(spec: CanarySpec) -> tuple[ParentRef, ...]:
    refs = _service(spec).get("gatewayRefs") or []
    parents = []
    for ref in refs if isinstance(refs, Sequence) else []:
        if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
            port = ref.get("port")
            parents.append(
                ParentRef(
                    ref["name"],
                    ref.get("namespace"),
                    ref.get("group"),
                    ref.get("kind"),
                    port if isinstance(port, int) else None,
                )
            )
    return tuple(parents)


def _hosts(spec: CanarySpec) -> tuple[str, ...]:
    hosts = _service(spec).get("hosts") or []
    return tuple(h for h in hosts if isinstance(h, str)) if isinstance(hosts, Sequence) else ()
