"""Located YAML loading: lines per field path and refusal of hostile or broken input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import CanarySpecError, ScenarioError
from harness.scenario.yamlloc import (
    MAX_BYTES,
    join_path,
    load_located,
    parse_located,
    parse_path,
    render_path,
)

BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
)


class TestLines:
    def test_lines_of_keys_items_and_ancestors(self) -> None:
        """Every key and list item has its line; unknown paths fall back to the nearest ancestor."""
        located = parse_located("a: 1\nb:\n  c:\n    - x\n    - y: 2\n", "f.yaml")
        assert located.data == {"a": 1, "b": {"c": ["x", {"y": 2}]}}
        assert located.line_of(("a",)) == 1
        assert located.line_of(("b", "c", 1, "y")) == 5
        assert located.line_of(("b", "c", 0)) == 4
        assert located.line_of(("b", "missing", "deeper")) == 2

    def test_paths_render_and_parse(self) -> None:
        """render_path and parse_path are inverses; join_path appends rendered sub-paths."""
        path = ("load", "routes", 1, "path")
        assert render_path(path) == "load.routes[1].path"
        assert parse_path("load.routes[1].path") == path
        assert join_path(("fault", "spec"), "[0].rate") == ("fault", "spec", 0, "rate")

    def test_empty_document_is_none(self) -> None:
        """An empty or comment-only file loads as None (the schema then says what is missing)."""
        assert parse_located("# nothing\n", "f.yaml").data is None


class TestRefusals:
    @pytest.mark.parametrize(
        ("text", "line", "fragment"),
        [
            ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first on line 1)"),
            ("a: [1\n", 2, "expected valid YAML"),
            ("a: &a [*a]\n", 1, "recursive aliases"),
            ("<<: {a: 1}\n", 1, "merge key"),
            ("? [1]\n: 2\n", 1, "plain scalar key"),
            ("a: !!python/object:os.system x\n", 1, "could not determine a constructor"),
            ("---\na: 1\n---\nb: 2\n", 3, "single document"),
            ("[" * 100, 1, "nesting of at most 64"),
            (BOMB, 1, "alias bomb"),
            ("a: 2024-13-45\n", 1, "month must be in 1..12"),
            ("a: \x07\n", 1, "unacceptable character"),
            ("x: !!set {a, b}\n", 1, "plain mapping or list"),
        ],
        ids=[
            "dup",
            "syntax",
            "recursive",
            "merge",
            "complex-key",
            "python-tag",
            "multi-doc",
            "deep",
            "bomb",
            "bad-date",
            "control-char",
            "set-tag",
        ],
    )
    def test_located_refusal(self, text: str, line: int, fragment: str) -> None:
        """Each hostile or broken input is one ScenarioError naming file, line and what was wrong."""
        with pytest.raises(ScenarioError) as info:
            parse_located(text, "bad.yaml")
        message = str(info.value)
        assert message.startswith(f"bad.yaml:{line}: "), message
        assert fragment in message

    def test_collects_all_duplicate_keys(self) -> None:
        """Several duplicates in one file are all reported at once."""
        with pytest.raises(ScenarioError) as info:
            parse_located("a: 1\na: 2\nb: {c: 1, c: 2}\n", "f.yaml")
        assert [p.path for p in info.value.problems] == ["a", "b.c"]

    def test_file_too_large(self, tmp_path: Path) -> None:
        """Files over 1 MiB are refused before parsing."""
        big = tmp_path / "big.yaml"
        big.write_text("a: " + "x" * MAX_BYTES + "\n")
        with pytest.raises(ScenarioError, match=r"big\.yaml: at <root>: expected a file of at most"):
            load_located(big)

    def test_missing_file_and_other_error_class(self, tmp_path: Path) -> None:
        """A missing file is a located input error of the class the caller asks for."""
        with pytest.raises(CanarySpecError, match=r"nope\.yaml"):
            load_located(tmp_path / "nope.yaml", error=CanarySpecError)

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Undecodable bytes are refused with their line."""
        path = tmp_path / "latin.yaml"
        path.write_bytes(b"a: 1\nb: \xff\n")
        with pytest.raises(ScenarioError, match=r"latin\.yaml:2: .*UTF-8"):
            load_located(path)


class TestFuzz:
    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!,? \n\t'\"#|>%@`0.x<")), max_size=120))
    def test_any_text_loads_or_raises_scenario_error(self, text: str) -> None:
        """Arbitrary YAML-ish text never raises anything but ScenarioError, whose message names the file."""
        try:
            parse_located(text, "fuzz.yaml")
        except ScenarioError as exc:
            message = str(exc)
        else:
            message = "fuzz.yaml"
        assert "fuzz.yaml" in message
