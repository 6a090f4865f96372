"""Duration parsing: Go-style strings and plain seconds."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.durations import DurationError, format_duration, parse_duration


class TestParseDuration:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("90s", 90),
            ("5m", 300),
            ("1m30s", 90),
            ("1h", 3600),
            ("250ms", 0.25),
            ("1.5m", 90),
            (42, 42),
            (2.5, 2.5),
            ("30", 30),
            (" 2m ", 120),
            ("0s", 0),
        ],
    )
    def test_accepts(self, text: object, seconds: float) -> None:
        """Units ms/s/m/h combine; numbers and numeric strings are seconds."""
        assert parse_duration(text) == pytest.approx(seconds)

    @pytest.mark.parametrize(
        "text", ["", "m", "5x", "5 m", "-1s", -3, True, None, "1m-2s", "s5", float("nan"), [1]]
    )
    def test_refuses(self, text: object) -> None:
        """Anything else raises DurationError (a ValueError), never another exception."""
        with pytest.raises(DurationError):
            parse_duration(text)

    @given(st.integers(min_value=0, max_value=10**7))
    def test_format_round_trips(self, seconds: int) -> None:
        """format_duration output parses back to the same number of seconds."""
        assert parse_duration(format_duration(seconds)) == seconds

    @given(st.text(max_size=20))
    def test_any_text_is_parsed_or_refused(self, text: str) -> None:
        """Arbitrary text yields a non-negative float or DurationError."""
        with contextlib.suppress(DurationError):
            assert parse_duration(text) >= 0
