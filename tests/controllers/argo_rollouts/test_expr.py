"""The expr subset: forms from Argo's docs evaluate as expr does; anything else is refused with a column."""

from __future__ import annotations

import math
import re

import pytest

from harness.controllers.argo_rollouts.errors import EvaluationError, ExpressionError
from harness.controllers.argo_rollouts.expr import Binary, Unary, parse
from harness.controllers.argo_rollouts.expr_eval import evaluate_condition


def ev(text: str, result: object) -> bool:
    return evaluate_condition(parse(text), result)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "result", "expected"),
    [
        # docs/analysis/prometheus.md, docs/features/analysis.md
        ("result[0] >= 0.95", [0.97], True),
        ("result[0] >= 0.95", [0.9], False),
        ("result[0] <= 0.01", [0.02], False),
        ("len(result) == 0 || result[0] >= 0.95", [], True),
        ("len(result) > 0 && result[0] >= 0.95", [], False),
        ("all(result, # < 1000)", [10.0, 999.0], True),
        ("all(result, # < 1000)", [10.0, 1000.0], False),
        ("all(result, {# <= 0.01})", [0.001], True),
        ("any(result, {# > 0.5})", [0.1, 0.6], True),
        ("none(result, # > 0.5)", [0.1, 0.2], True),
        ("one(result, # > 0.5)", [0.6, 0.7], False),
        ("isNaN(result) || result >= 0.95", math.nan, True),
        ("result >= 0.95", math.nan, False),
        ("result < 0.95", math.nan, False),
        ("result >= 0.95", math.inf, True),
        ("isInf(result)", math.inf, True),
        ("default(result, 0) < 5", 3.0, True),
        ("isNil(result)", None, True),
        ("default(result, 0) < 5", None, True),
        ("result[0] >= 0.90 and result[0] < 1", [0.95], True),
        ("not (result[0] < 0.5) or false", [0.7], True),
        ("result[-1] == 3", [1.0, 3.0], True),
        ("asInt(result) == 2 && asFloat('2.5') == 2.5", 2.9, True),
        ("abs(-result) == 1.5 && max(1, result, 0.5) == result && min(2, 3) == 2", 1.5, True),
        ("result == 1", 1.0, True),  # int and float compare as numbers
        ("result != 'x'", 1.0, True),  # different types are unequal, not an error
        ("[1, 2][1] == 2 && 'a' + 'b' == \"ab\"", 0.0, True),
    ],
)
def test_documented_forms(text: str, result: object, expected: bool) -> None:
    assert ev(text, result) is expected


def test_precedence_follows_expr() -> None:
    # unary ! binds tighter than ==; ** is right-associative and tighter than unary minus
    node = parse("!true == false").root
    assert isinstance(node, Binary)
    assert node.operator == "=="
    assert isinstance(node.left, Unary)
    assert ev("!true == false", 0.0) is True
    assert ev("-2 ** 2 == -4", 0.0) is True
    assert ev("2 ** 3 ** 2 == 512", 0.0) is True
    assert ev("1 + 2 * 3 == 7 && 7 / 2 == 3.5 && 7 % 3 == 1 && -7 % 3 == -1", 0.0) is True
    assert ev("1 / 0 > 1000 && isNaN(0 / 0)", 0.0) is True


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("result.value > 1", 7, "member access"),
        ("result in [1, 2]", 8, "'in' (not supported)"),
        ("results[0] >= 90", 1, "unknown name 'results'"),
        ("result[0:1] > 1", 9, "slice"),
        ("result > 1 ? true : false", 12, "ternary"),
        ("sum(result) > 1", 1, "'sum'"),
        ("len(result, 1) > 1", 1, "2"),
        ("result[0] >", 12, "the end"),
        ("# > 1", 1, "outside a predicate"),
        ("'abc", 1, "closing '"),
        ("result ?? 0", 8, "'??' (not supported)"),
        ("result @ 1", 8, "'@'"),
        ("result[0] >= 0.95)", 18, "')'"),
    ],
)
def test_refused_with_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.column == column
    assert fragment in caught.value.found or fragment in caught.value.expected
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "result", "message"),
    [
        ("result > 0.9", [0.97], "invalid operation: > (mismatched types []float64 and float64)"),
        ("result[0] >= 0.95", [], "index out of range: 0 (array length is 0)"),
        ("result", 1.0, "expected bool, but got float64"),
        ("result && true", 1.0, "invalid operation: && (mismatched type float64)"),
        ("len(result) > 0", 1.0, "invalid argument for len (type float64)"),
        ("isNaN(result)", [1.0], "invalid argument for isNaN (type []float64)"),
        ("all(result, # + 1)", [1.0], "predicate should return boolean"),
        ("result[0.5] > 1", [1.0], "selected using an integer"),
    ],
)
def test_runtime_errors(text: str, result: object, message: str) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        ev(text, result)


def test_short_circuit_skips_the_right_side() -> None:
    assert ev("len(result) == 0 || result[0] > 1", []) is True
    assert ev("len(result) > 0 && result[0] > 1", []) is False
