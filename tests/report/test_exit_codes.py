"""One exit-code rule for `canary-chaos run`, `canary-chaos report` and `python -m harness.report`."""

from __future__ import annotations

import pytest

from harness.model import Decision, decisions_exit_code

GO, NO_GO, INCONCLUSIVE, INCOMPLETE = Decision.GO, Decision.NO_GO, Decision.INCONCLUSIVE, Decision.INCOMPLETE


@pytest.mark.parametrize(
    ("decisions", "code"),
    [
        ([GO, GO], 0),
        ([], 0),
        ([GO, NO_GO], 1),
        ([GO, INCONCLUSIVE], 1),
        ([GO, INCOMPLETE], 3),
        ([INCOMPLETE, NO_GO], 1),
        ([INCOMPLETE, INCONCLUSIVE], 3),
    ],
)
def test_exit_code_is_zero_only_when_every_run_is_go(decisions: list[str], code: int) -> None:
    """NO-GO wins, then INCOMPLETE (infrastructure), then INCONCLUSIVE (never a pass)."""
    assert decisions_exit_code(decisions) == code
