"""Fixtures: a scratch catalog directory with the shipped Canary files and policy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

CATALOG = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A directory with canaries/ and policy.yaml copied from the shipped catalog."""
    shutil.copytree(CATALOG / "canaries", tmp_path / "canaries")
    shutil.copy(CATALOG / "policy.yaml", tmp_path / "policy.yaml")
    return tmp_path


@pytest.fixture
def write(scratch: Path) -> Callable[[str, str], Path]:
    """Write a scenario file into the scratch catalog and return its path."""

    def _write(text: str, name: str = "s.yaml") -> Path:
        path = scratch / name
        path.write_text(text)
        return path

    return _write
