"""Recover the readable beginning of a JSON document cut off mid-write (an interrupted run)."""

from __future__ import annotations

import json
from typing import Any

_CLOSERS = {"{": "}", "[": "]"}
MAX_ATTEMPTS = 200


def close_truncated_json(text: str) -> Any | None:
    """Parse ``text`` cut back to its last complete element, with open brackets closed; None if hopeless.

    Cut points are the commas between elements (outside strings), tried from the last one backwards.
    """
    cuts = _cut_points(text)
    for position, stack in reversed(cuts[-MAX_ATTEMPTS:]):
        candidate = text[:position] + "".join(_CLOSERS[b] for b in reversed(stack))
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return None


def _cut_points(text: str) -> list[tuple[int, tuple[str, ...]]]:
    """(index of each element-separating comma, brackets open there), plus the end of a whole value."""
    stack: list[str] = []
    cuts: list[tuple[int, tuple[str, ...]]] = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _CLOSERS:
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
            cuts.append((index + 1, tuple(stack)))
        elif char == "," and stack:
            cuts.append((index, tuple(stack)))
    return cuts
