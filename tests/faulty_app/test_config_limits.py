"""load_faults_text: a value the YAML/JSON reader cannot build is a located FaultConfigError."""

from __future__ import annotations

import pytest

from faulty_app.config import FaultConfigError, load_faults_text


@pytest.mark.parametrize("text", ["- " + "1" * 5000, '[{"kind": "latency", "delay_ms": ' + "1" * 5000 + "}]"])
def test_fault_text_with_an_unreadable_number_is_a_fault_error(text: str) -> None:
    """faulty_app: an integer beyond Python's 4300-digit limit is a FaultConfigError, not a ValueError."""
    with pytest.raises(FaultConfigError, match="unreadable value"):
        load_faults_text(text)
