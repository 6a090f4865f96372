"""Gateway API HTTPRoute as Linkerd applies it (pure): matches, rule precedence, weighted backends.

Semantics follow linkerd2-proxy's ``linkerd-http-route`` crate (``lib.rs`` ``find``, ``http/match.rs``,
``http/match/{path,header,query_param}.rs``), not the Gateway API spec's prose where the two differ:

- a rule matches when any of its matches does; its rank is the best rank of its matching matches; a rule
  without matches ranks as ``PathPrefix "/"``. The best-ranked rule wins and **ties keep the earlier rule**;
- rank (``Specificity``) compares path match length, then header count, then query-param count, then
  whether a method is matched (the spec puts method before headers; Linkerd puts it last);
- regular expressions must match the whole value with their **leftmost-first** match (``re.search`` span),
  in the Rust ``regex`` dialect: lookaround and back-references are rejected.

Weighted backends are drawn at random by weight (linkerd ``distribute``: ``WeightedIndex``), redrawing when
the drawn backend is not available; one backend is used whatever its weight. ``WeightedBackendPicker`` does
this with a seeded ``random.Random`` so a run is reproducible. Details: docs/linkerd-gateway-api-semantics.md.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

PathMatchType = Literal["Exact", "PathPrefix", "RegularExpression"]
ValueMatchType = Literal["Exact", "RegularExpression"]

# Constructs Python's re accepts but Rust's regex crate refuses (so Linkerd rejects the route).
_UNSUPPORTED_REGEX = re.compile(r"\(\?(?:=|!|<=|<!|P=)|\\[1-9]|\\k<")


class RouteError(ValueError):
    """An HTTPRoute Linkerd would not accept (bad regex, weights)."""


def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` as Linkerd's Rust ``regex`` would accept it."""
    if _UNSUPPORTED_REGEX.search(pattern):
        raise RouteError(
            f"regular expression {pattern!r} uses lookaround or a back-reference (RE2 has neither)"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RouteError(f"invalid regular expression {pattern!r}: {exc}") from exc


def _spans_whole(pattern: re.Pattern[str], value: str) -> bool:
    """Linkerd's check: the leftmost-first match starts at 0 and ends at the end of the value."""
    found = pattern.search(value)
    return found is not None and found.start() == 0 and found.end() == len(value)


@dataclass(frozen=True)
class Request:
    """What route matching looks at; header names are compared case-insensitively, values are not."""

    method: str = "GET"
    path: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # repeated names allowed (e.g. two Cookie fields)
    host: str | None = None

    @staticmethod
    def of(method: str, target: str, headers: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> Request:
        """A request from its method, target (``/path?query``) and headers (Host taken from them)."""
        pairs = tuple(headers.items() if isinstance(headers, Mapping) else headers)
        parts = urlsplit(target)
        host = next((value for name, value in pairs if name.lower() == "host"), None)
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        return Request(method.upper(), parts.path or "/", query, pairs, host)

    def header_values(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)


@dataclass(frozen=True)
class PathMatch:
    type: PathMatchType
    value: str

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return compile_regex(self.value)

    def validate(self) -> None:
        if self.type == "RegularExpression":
            _ = self._regex
        elif not self.value.startswith("/"):
            raise RouteError(f"path {self.value!r} must start with '/'")

    def match_length(self, path: str) -> int | None:
        """Linkerd's ``MatchPath::match_length``: the rank of a match, None when it does not match."""
        if self.type == "Exact":
            return len(self.value) if path == self.value else None
        if self.type == "RegularExpression":
            return len(path) if _spans_whole(self._regex, path) else None
        if self.value == "/":
            return 1
        prefix = self.value.rstrip("/")
        trimmed = path.rstrip("/")
        if not trimmed.startswith(prefix):
            return None
        rest = trimmed[len(prefix) :]
        return len(prefix) if rest == "" or rest.startswith("/") else None


DEFAULT_PATH = PathMatch("PathPrefix", "/")


@dataclass(frozen=True)
class _ValueMatch:
    """A header or query-param match: a name and an ``Exact`` or ``RegularExpression`` value."""

    name: str
    value: str
    type: ValueMatchType = "Exact"

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return compile_regex(self.value)

    def validate(self) -> None:
        if self.type == "RegularExpression":
            _ = self._regex

    def matches(self, request: Request) -> bool:
        """Any of the request's values for ``name`` is equal (or spans the regex's whole match)."""
        values = self.values_in(request)
        if self.type == "Exact":
            return self.value in values
        return any(_spans_whole(self._regex, value) for value in values)

    def values_in(self, request: Request) -> Sequence[str]:
        raise NotImplementedError


@dataclass(frozen=True)
class HeaderMatch(_ValueMatch):
    """Header names compare case-insensitively; values are case-sensitive."""

    def values_in(self, request: Request) -> Sequence[str]:
        return request.header_values(self.name)


@dataclass(frozen=True)
class QueryParamMatch(_ValueMatch):
    """Query-param names and decoded values compare exactly."""

    def values_in(self, request: Request) -> Sequence[str]:
        return [value for name, value in request.query if name == self.name]


@dataclass(frozen=True, order=True)
class Specificity:
    """Linkerd's ``RequestMatch`` order: greater is preferred."""

    path_length: int
    headers: int = 0
    query_params: int = 0
    method: bool = False


IMPLICIT = Specificity(1)  # no matches: an implicit PathPrefix "/" (Gateway API default)


@dataclass(frozen=True)
class RouteMatch:
    """``HTTPRouteMatch``: every part given must hold."""

    path: PathMatch | None = None
    headers: tuple[HeaderMatch, ...] = ()
    query_params: tuple[QueryParamMatch, ...] = ()
    method: str | None = None

    def validate(self) -> None:
        for part in (self.path, *self.headers, *self.query_params):
            if part is not None:
                part.validate()

    def rank(self, request: Request) -> Specificity | None:
        """The specificity of this match for ``request``; None when it does not match."""
        if self.method is not None and request.method != self.method.upper():
            return None
        path_length = IMPLICIT.path_length
        if self.path is not None:
            length = self.path.match_length(request.path)
            if length is None:
                return None
            path_length = length
        if not all(h.matches(request) for h in self.headers):
            return None
        if not all(q.matches(request) for q in self.query_params):
            return None
        return Specificity(path_length, len(self.headers), len(self.query_params), self.method is not None)


@dataclass(frozen=True)
class BackendRef:
    """A weighted backend Service (Gateway API's default weight is 1)."""

    name: str
    weight: int = 1
    port: int | None = None


@dataclass(frozen=True)
class HTTPRouteRule:
    matches: tuple[RouteMatch, ...] = ()
    backend_refs: tuple[BackendRef, ...] = ()

    def rank(self, request: Request) -> Specificity | None:
        if not self.matches:
            return IMPLICIT
        ranks = [r for m in self.matches if (r := m.rank(request)) is not None]
        return max(ranks) if ranks else None


@dataclass(frozen=True)
class ParentRef:
    name: str
    namespace: str | None = None
    group: str | None = None
    kind: str | None = None
    port: int | None = None


@dataclass(frozen=True)
class Selection:
    """The rule a request is routed by: its index in ``rules`` and the rank that won."""

    index: int
    rule: HTTPRouteRule
    rank: Specificity


@dataclass(frozen=True)
class HTTPRoute:
    name: str
    namespace: str
    rules: tuple[HTTPRouteRule, ...]
    parent_refs: tuple[ParentRef, ...] = ()
    hostnames: tuple[str, ...] = ()

    def validate(self) -> HTTPRoute:
        """Raise ``RouteError`` for what Linkerd's policy controller would reject; returns ``self``."""
        if not self.rules:
            raise RouteError(f"HTTPRoute {self.name}: no rules")
        for rule in self.rules:
            for match in rule.matches:
                match.validate()
            if any(b.weight < 0 for b in rule.backend_refs):
                raise RouteError(f"HTTPRoute {self.name}: a backendRef weight is negative")
        return self

    def hosts_match(self, request: Request) -> bool:
        """No hostnames: every host. Else an exact name or a ``*.`` wildcard (one or more labels)."""
        if not self.hostnames:
            return True
        if request.host is None:
            return False
        host = request.host.rsplit(":", 1)[0].lower() if not request.host.startswith("[") else request.host
        for name in self.hostnames:
            name = name.lower()
            if host == name or (name.startswith("*.") and host.endswith(name[1:])):
                return True
        return False

    def select(self, request: Request) -> Selection | None:
        """The best-ranked matching rule; on equal rank the earlier rule wins; None: no rule matches."""
        if not self.hosts_match(request):
            return None
        best: Selection | None = None
        for index, rule in enumerate(self.rules):
            rank = rule.rank(request)
            if rank is not None and (best is None or rank > best.rank):
                best = Selection(index, rule, rank)
        return best


Available = Callable[[str], bool]


@dataclass
class WeightedBackendPicker:
    """Linkerd's ``RandomAvailable`` distribution over one rule's backends, with a seeded generator."""

    backends: Sequence[BackendRef]
    seed: int | str = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.backends:
            raise RouteError("a rule without backendRefs has nowhere to send requests")
        if len(self.backends) > 1 and not any(b.weight > 0 for b in self.backends):
            raise RouteError("every backendRef has weight 0")
        self._rng = random.Random(self.seed)  # noqa: S311 - traffic split, not security

    def pick(self, available: Available | None = None) -> str | None:
        """The backend for the next request; None when no backend is available."""
        ready = available or (lambda _name: True)
        if len(self.backends) == 1:  # FirstAvailable: the weight is not consulted
            only = self.backends[0].name
            return only if ready(only) else None
        weights = [float(b.weight) for b in self.backends]
        while any(w > 0 for w in weights):
            index = self._rng.choices(range(len(weights)), weights=weights)[0]
            name = self.backends[index].name
            if ready(name):
                return name
            weights[index] = 0.0  # not ready: excluded for this request, as poll_ready does
        return None


@dataclass(frozen=True)
class Decision:
    """Where one request goes: the backend, or None — with no rule a 404 (the proxy's synthetic
    not-found, ``NoRoute``), with a rule but no available backend a 503."""

    backend: str | None
    rule_index: int | None  # None: no rule matched


class RouteTable:
    """An HTTPRoute with one seeded picker per rule; build a new table on every route change."""

    def __init__(self, route: HTTPRoute, seed: int | str = 0) -> None:
        self.route = route.validate()
        self._pickers = [
            WeightedBackendPicker(rule.backend_refs, seed=f"{seed}/{index}") if rule.backend_refs else None
            for index, rule in enumerate(route.rules)
        ]

    def decide(self, request: Request, available: Available | None = None) -> Decision:
        selection = self.route.select(request)
        if selection is None:
            return Decision(None, None)
        picker = self._pickers[selection.index]
        return Decision(picker.pick(available) if picker else None, selection.index)
