"""Errors of the Argo Rollouts emulation, placed in the project's tree (``harness.errors``)."""

from __future__ import annotations

from harness.errors import HarnessError, InputError, LocatedInputError


class RolloutSpecError(LocatedInputError):
    """A Rollout or AnalysisTemplate manifest is invalid or unsupported by the emulation."""


class ExpressionError(InputError):
    """A success/failure condition is outside the supported expr subset or is not valid expr."""

    def __init__(self, expression: str, column: int, expected: str, found: str) -> None:
        self.expression = expression
        self.column = column  # 1-based
        self.expected = expected
        self.found = found
        super().__init__(f"{expression!r} at column {column}: expected {expected}, found {found}")


class EvaluationError(HarnessError):
    """Evaluating a condition failed at run time (Argo: the measurement phase becomes Error)."""
