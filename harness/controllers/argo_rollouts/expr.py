"""Argo Rollouts' condition language: the expr subset (antonmedv/expr v1.15.5) its docs use, as an AST.

Argo evaluates ``successCondition`` / ``failureCondition`` with ``result`` bound to the provider's value
(``utils/evaluate/evaluate.go``); docs/argo-rollouts-semantics.md §10 lists the subset. Precedence and
associativity follow expr's ``parser/operator/operator.go``. Anything else is refused with an
``ExpressionError`` naming the column and what was expected. Evaluation lives in ``expr_eval``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.controllers.argo_rollouts.errors import ExpressionError

MAX_LENGTH = 4096
MAX_DEPTH = 64

# expr's binary operators: precedence, right-associative?
BINARY: dict[str, tuple[int, bool]] = {
    "or": (10, False),
    "||": (10, False),
    "and": (15, False),
    "&&": (15, False),
    "==": (20, False),
    "!=": (20, False),
    "<": (20, False),
    ">": (20, False),
    ">=": (20, False),
    "<=": (20, False),
    "+": (30, False),
    "-": (30, False),
    "*": (60, False),
    "/": (60, False),
    "%": (60, False),
    "**": (100, True),
    "^": (100, True),
}
UNARY: dict[str, int] = {"not": 50, "!": 50, "-": 90, "+": 90}
UNSUPPORTED_BINARY = frozenset({"in", "matches", "contains", "startsWith", "endsWith", "..", "??", "|"})
PREDICATES = frozenset({"all", "any", "none", "one"})
# name → (min args, max args or None for variadic)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "len": (1, 1),
    "isNaN": (1, 1),
    "isInf": (1, 1),
    "isNil": (1, 1),
    "default": (2, 2),
    "asInt": (1, 1),
    "asFloat": (1, 1),
    "abs": (1, 1),
    "min": (1, None),
    "max": (1, None),
}
SUPPORTED_CALLS = ", ".join(sorted(PREDICATES | FUNCTIONS.keys()))
_KEYWORDS = frozenset({"true", "false", "nil", "and", "or", "not", *UNSUPPORTED_BINARY, "let"})
_TOKEN = re.compile(
    r"(?P<num>\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<op>\*\*|&&|\|\||==|!=|<=|>=|\.\.|\?\?|\?\.|[-+*/%^<>!()\[\]{},#.?:|])"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class Token:
    kind: str  # num | str | name | op | eof
    text: str
    column: int  # 1-based
    value: object = None


@dataclass(frozen=True)
class Node:
    column: int


@dataclass(frozen=True)
class Literal(Node):
    value: bool | int | float | str | None


@dataclass(frozen=True)
class Result(Node):
    """The identifier ``result``."""


@dataclass(frozen=True)
class Element(Node):
    """``#``: the current element inside a predicate."""


@dataclass(frozen=True)
class ArrayLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    operator: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    operator: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Index(Node):
    target: Node
    index: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    arguments: tuple[Node, ...]


@dataclass(frozen=True)
class Predicate(Node):
    function: str  # all | any | none | one
    array: Node
    body: Node


@dataclass(frozen=True)
class Expression:
    """A parsed condition: the source text and its AST."""

    text: str
    root: Node


def parse(text: str) -> Expression:
    """Parse ``text`` or raise ``ExpressionError`` (column, what was expected, what was found)."""
    if not text.strip():
        raise ExpressionError(text, 1, "an expression", "nothing")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(text[:80] + "…", 1, f"at most {MAX_LENGTH} characters", f"{len(text)}")
    return Expression(text, _Parser(text, tokenize(text)).parse_all())


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        if char in "'\"":
            token, position = _string(text, position)
            tokens.append(token)
            continue
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(text, position + 1, "an operator, a name, a number or a string", repr(char))
        kind = match.lastgroup or "op"
        word = match.group()
        value: object = None
        if kind == "num":
            value = float(word) if any(c in word for c in ".eE") else int(word)
        tokens.append(Token(kind, word, position + 1, value))
        position = match.end()
    tokens.append(Token("eof", "", len(text) + 1))
    return tokens


def _string(text: str, start: int) -> tuple[Token, int]:
    quote, position = text[start], start + 1
    chars: list[str] = []
    while position < len(text):
        char = text[position]
        if char == quote:
            return Token("str", text[start : position + 1], start + 1, "".join(chars)), position + 1
        if char == "\\":
            escape = text[position + 1 : position + 2]
            if escape not in _ESCAPES:
                expected = "one of the escapes \\n \\t \\r \\\\ \\' \\\""
                raise ExpressionError(text, position + 1, expected, repr("\\" + escape))
            chars.append(_ESCAPES[escape])
            position += 2
            continue
        chars.append(char)
        position += 1
    raise ExpressionError(text, start + 1, f"a closing {quote}", "the end of the expression")


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self._text = text
        self._tokens = tokens
        self._position = 0
        self._closures = 0
        self._depth = 0

    @property
    def _current(self) -> Token:
        return self._tokens[self._position]

    def _advance(self) -> Token:
        token = self._current
        if token.kind != "eof":
            self._position += 1
        return token

    def _fail(self, token: Token, expected: str, found: str | None = None) -> ExpressionError:
        shown = found if found is not None else (repr(token.text) if token.kind != "eof" else "the end")
        return ExpressionError(self._text, token.column, expected, shown)

    def _is(self, token: Token, *texts: str) -> bool:
        return token.kind in ("op", "name") and token.text in texts

    def _expect(self, text: str) -> Token:
        if not self._is(self._current, text):
            raise self._fail(self._current, repr(text))
        return self._advance()

    def parse_all(self) -> Node:
        node = self._expression(0)
        token = self._current
        if self._is(token, "?"):
            raise self._fail(token, "an operator or the end", "a ternary '?:' (not supported)")
        if token.kind != "eof":
            raise self._fail(token, "an operator or the end of the expression")
        return node

    def _expression(self, precedence: int) -> Node:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._fail(self._current, f"at most {MAX_DEPTH} levels of nesting", "deeper nesting")
        try:
            left = self._primary()
            while True:
                token = self._current
                word = token.text if token.kind in ("op", "name") else ""
                if word in UNSUPPORTED_BINARY or (word == "not" and token.kind == "name"):
                    raise self._fail(token, "a supported operator", f"'{word}' (not supported)")
                if word not in BINARY or token.kind not in ("op", "name"):
                    return left
                level, right_assoc = BINARY[word]
                if level < precedence:
                    return left
                self._advance()
                right = self._expression(level if right_assoc else level + 1)
                left = Binary(token.column, word, left, right)
        finally:
            self._depth -= 1

    def _primary(self) -> Node:
        token = self._current
        if token.kind in ("op", "name") and token.text in UNARY:
            self._advance()
            operand = self._expression(UNARY[token.text])
            return self._postfix(Unary(token.column, token.text, operand))
        if self._is(token, "("):
            self._advance()
            inner = self._expression(0)
            self._expect(")")
            return self._postfix(inner)
        if self._is(token, "#"):
            if self._closures == 0:
                raise self._fail(token, "a value", "'#' outside a predicate of all/any/none/one")
            self._advance()
            if self._current.kind == "name":
                raise self._fail(self._current, "an operator after '#'", "a named pointer (not supported)")
            return self._postfix(Element(token.column))
        return self._postfix(self._secondary())

    def _secondary(self) -> Node:
        token = self._advance()
        if token.kind == "num" or token.kind == "str":
            return Literal(token.column, token.value)  # type: ignore[arg-type]
        if token.kind == "name":
            if token.text in ("true", "false"):
                return Literal(token.column, token.text == "true")
            if token.text == "nil":
                return Literal(token.column, None)
            if self._is(self._current, "("):
                return self._call(token)
            if token.text == "result":
                return Result(token.column)
            if token.text in _KEYWORDS:
                raise self._fail(token, "a value", f"'{token.text}' (not supported)")
            raise self._fail(token, "'result', a literal or a call", f"unknown name '{token.text}'")
        if self._is(token, "["):
            return self._array(token)
        if self._is(token, "."):
            raise self._fail(token, "a value", "member access (not supported: results are numbers or lists)")
        raise self._fail(token, "a value")

    def _call(self, name: Token) -> Node:
        self._expect("(")
        if name.text in PREDICATES:
            array = self._expression(0)
            self._expect(",")
            braced = self._is(self._current, "{")
            if braced:
                self._advance()
            self._closures += 1
            try:
                body = self._expression(0)
            finally:
                self._closures -= 1
            if braced:
                self._expect("}")
            self._expect(")")
            return Predicate(name.column, name.text, array, body)
        if name.text not in FUNCTIONS:
            raise self._fail(name, f"one of the functions {SUPPORTED_CALLS}", f"'{name.text}'")
        arguments: list[Node] = []
        while not self._is(self._current, ")"):
            if arguments:
                self._expect(",")
            arguments.append(self._expression(0))
        self._expect(")")
        low, high = FUNCTIONS[name.text]
        if len(arguments) < low or (high is not None and len(arguments) > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            raise self._fail(name, f"{wanted} argument(s) to {name.text}", f"{len(arguments)}")
        return Call(name.column, name.text, tuple(arguments))

    def _array(self, opening: Token) -> Node:
        items: list[Node] = []
        while not self._is(self._current, "]"):
            if items:
                self._expect(",")
            items.append(self._expression(0))
        self._expect("]")
        return ArrayLiteral(opening.column, tuple(items))

    def _postfix(self, node: Node) -> Node:
        while True:
            token = self._current
            if self._is(token, "["):
                self._advance()
                if self._is(self._current, ":"):
                    raise self._fail(self._current, "an index", "a slice (not supported)")
                index = self._expression(0)
                if self._is(self._current, ":"):
                    raise self._fail(self._current, "']'", "a slice (not supported)")
                self._expect("]")
                node = Index(token.column, node, index)
            elif self._is(token, ".", "?."):
                raise self._fail(
                    token, "an operator", "member access (not supported: results are numbers or lists)"
                )
            elif self._is(token, "("):
                raise self._fail(token, "an operator", "a call of something that is not a function name")
            else:
                return node
