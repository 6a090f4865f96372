"""Evaluate a parsed condition with ``result`` bound, with expr's run-time rules (v1.15.5 ``vm/runtime``).

Values are ``bool``, ``int``, ``float``, ``str``, ``None`` (nil) and tuples (arrays). Type errors raise
``EvaluationError`` with expr-like wording; Argo turns any such error into a measurement of phase Error.
``isNil`` and ``default`` follow Argo's own helpers, which look at ``result`` whatever their first argument is
(``utils/evaluate/evaluate.go`` ``isNilFunc``, ``defaultFunc``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from harness.controllers.argo_rollouts.errors import EvaluationError
from harness.controllers.argo_rollouts.expr import (
    ArrayLiteral,
    Binary,
    Call,
    Element,
    Expression,
    Index,
    Literal,
    Node,
    Predicate,
    Result,
    Unary,
)

Value = bool | int | float | str | None | tuple["Value", ...]


def evaluate_condition(expression: Expression, result: float | Sequence[float] | None) -> bool:
    """Argo's ``EvalCondition``: the expression must yield a bool."""
    bound: Value = tuple(float(v) for v in result) if isinstance(result, Sequence) else result
    value = _Evaluator(bound).eval(expression.root)
    if not isinstance(value, bool):
        raise EvaluationError(f"expected bool, but got {type_name(value)}")
    return value


def type_name(value: Value) -> str:
    """Go's name for the type expr would see (``float64``, ``[]float64``, ``<nil>``…)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if value and all(isinstance(item, float) for item in value):
        return "[]float64"
    return "[]interface {}"


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _mismatch(operator: str, left: Value, right: Value) -> EvaluationError:
    return EvaluationError(
        f"invalid operation: {operator} (mismatched types {type_name(left)} and {type_name(right)})"
    )


class _Evaluator:
    def __init__(self, result: Value) -> None:
        self._result = result
        self._elements: list[Value] = []

    def eval(self, node: Node) -> Value:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Result):
            return self._result
        if isinstance(node, Element):
            return self._elements[-1]
        if isinstance(node, ArrayLiteral):
            return tuple(self.eval(item) for item in node.items)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Index):
            return self._index(node)
        if isinstance(node, Predicate):
            return self._predicate(node)
        if isinstance(node, Call):
            return self._call(node)
        raise EvaluationError(f"unsupported node {type(node).__name__}")

    def _unary(self, node: Unary) -> Value:
        value = self.eval(node.operand)
        if node.operator in ("not", "!"):
            if not isinstance(value, bool):
                raise EvaluationError(
                    f"invalid operation: {node.operator} (mismatched type {type_name(value)})"
                )
            return not value
        number = _numeric(value, f"invalid operation: {node.operator} (mismatched type {type_name(value)})")
        return -number if node.operator == "-" else number

    def _binary(self, node: Binary) -> Value:
        operator = node.operator
        if operator in ("and", "&&", "or", "||"):
            return self._logical(node)
        left, right = self.eval(node.left), self.eval(node.right)
        if operator == "==":
            return _equal(left, right)
        if operator == "!=":
            return not _equal(left, right)
        if operator in ("<", ">", "<=", ">="):
            return _compare(operator, left, right)
        if operator == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        if not (_is_number(left) and _is_number(right)):
            raise _mismatch(operator, left, right)
        message = str(_mismatch(operator, left, right))
        return _arithmetic(operator, _numeric(left, message), _numeric(right, message))

    def _logical(self, node: Binary) -> Value:
        left = self.eval(node.left)
        if not isinstance(left, bool):
            raise EvaluationError(f"invalid operation: {node.operator} (mismatched type {type_name(left)})")
        if node.operator in ("and", "&&") and not left:
            return False
        if node.operator in ("or", "||") and left:
            return True
        right = self.eval(node.right)
        if not isinstance(right, bool):
            raise EvaluationError(f"invalid operation: {node.operator} (mismatched type {type_name(right)})")
        return right

    def _index(self, node: Index) -> Value:
        target, index = self.eval(node.target), self.eval(node.index)
        if not isinstance(target, tuple):
            raise EvaluationError(f"type {type_name(target)} does not support indexing")
        if not isinstance(index, int) or isinstance(index, bool):
            raise EvaluationError(
                f"array elements can only be selected using an integer (got {type_name(index)})"
            )
        position = index + len(target) if index < 0 else index
        if not 0 <= position < len(target):
            raise EvaluationError(f"index out of range: {index} (array length is {len(target)})")
        return target[position]

    def _predicate(self, node: Predicate) -> Value:
        array = self.eval(node.array)
        if not isinstance(array, tuple):
            raise EvaluationError(f"builtin {node.function} takes only array (got {type_name(array)})")
        hits = 0
        for element in array:
            self._elements.append(element)
            try:
                verdict = self.eval(node.body)
            finally:
                self._elements.pop()
            if not isinstance(verdict, bool):
                raise EvaluationError(f"predicate should return boolean (got {type_name(verdict)})")
            hits += verdict
            if node.function == "all" and not verdict:
                return False
            if node.function in ("any", "none") and verdict:
                return node.function == "any"
        if node.function == "all":
            return True
        if node.function == "any":
            return False
        if node.function == "none":
            return True
        return hits == 1

    def _call(self, node: Call) -> Value:
        arguments = [self.eval(argument) for argument in node.arguments]
        if node.function == "isNil":
            return self._result is None
        if node.function == "default":
            return arguments[1] if self._result is None else self._result
        return _BUILTINS[node.function](node.function, arguments)


def _equal(left: Value, right: Value) -> bool:
    if _is_number(left) and _is_number(right):
        return left == right
    if type(left) is not type(right):
        return False
    return left == right


def _compare(operator: str, left: Value, right: Value) -> bool:
    if _is_number(left) and _is_number(right):
        message = str(_mismatch(operator, left, right))
        a, b = float(_numeric(left, message)), float(_numeric(right, message))
    elif isinstance(left, str) and isinstance(right, str):
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
    else:
        raise _mismatch(operator, left, right)
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]


def _arithmetic(operator: str, left: int | float, right: int | float) -> int | float:
    both_int = isinstance(left, int) and isinstance(right, int)
    if operator == "+":
        return left + right if both_int else float(left) + float(right)
    if operator == "-":
        return left - right if both_int else float(left) - float(right)
    if operator == "*":
        return left * right if both_int else float(left) * float(right)
    if operator == "/":
        return _divide(float(left), float(right))
    if operator == "%":
        if not (isinstance(left, int) and isinstance(right, int)):
            raise _mismatch("%", left, right)
        if right == 0:
            raise EvaluationError("integer divide by zero")
        remainder = abs(left) % abs(right)
        return remainder if left >= 0 else -remainder  # Go truncates towards zero
    try:
        return math.pow(float(left), float(right))
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _divide(left: float, right: float) -> float:
    if right != 0:
        return left / right
    if left == 0 or math.isnan(left):
        return math.nan
    return math.copysign(math.inf, left) * (math.copysign(1.0, right))


def _numeric(value: Value, message: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvaluationError(message)
    return value


def _number(name: str, value: Value) -> float:
    return float(_numeric(value, f"invalid argument for {name} (type {type_name(value)})"))


def _len(name: str, arguments: list[Value]) -> Value:
    value = arguments[0]
    if isinstance(value, tuple | str):
        return len(value)
    raise EvaluationError(f"invalid argument for len (type {type_name(value)})")


def _as_int(name: str, arguments: list[Value]) -> Value:
    value = arguments[0]
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError as exc:
            raise EvaluationError(f'strconv.ParseInt: parsing "{value}": invalid syntax') from exc
    number = _number(name, value)
    if math.isnan(number) or math.isinf(number):
        raise EvaluationError(f"asInt() not supported on float64 {number}")
    return int(number)


def _as_float(name: str, arguments: list[Value]) -> Value:
    value = arguments[0]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as exc:
            raise EvaluationError(f'strconv.ParseFloat: parsing "{value}": invalid syntax') from exc
    return _number(name, value)


def _extreme(name: str, arguments: list[Value]) -> Value:
    numbers = [(_number(name, value), value) for value in arguments]
    pick = max if name == "max" else min
    return pick(numbers, key=lambda pair: pair[0])[1]


def _abs(name: str, arguments: list[Value]) -> Value:
    return abs(_numeric(arguments[0], f"invalid argument for abs (type {type_name(arguments[0])})"))


_BUILTINS: dict[str, Callable[[str, list[Value]], Value]] = {
    "len": _len,
    "isNaN": lambda name, args: math.isnan(_number(name, args[0])),
    "isInf": lambda name, args: math.isinf(_number(name, args[0])),
    "asInt": _as_int,
    "asFloat": _as_float,
    "abs": _abs,
    "min": _extreme,
    "max": _extreme,
}
