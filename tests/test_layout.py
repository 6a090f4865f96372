"""The package layout: one subpackage per domain, each saying what it owns, and no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

import harness

PACKAGE_DIR = Path(harness.__file__).parent


def _import_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), type-checking imports included."""
    graph = grimp.build_graph("harness", include_external_packages=False)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle() -> None:
    assert _import_cycles() == []


SUBPACKAGES = sorted(p.parent for p in PACKAGE_DIR.rglob("__init__.py") if p.parent != PACKAGE_DIR)


@pytest.mark.parametrize("package", SUBPACKAGES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_each_subpackage_says_what_it_owns_and_reexports_nothing(package: Path) -> None:
    tree = ast.parse((package / "__init__.py").read_text())
    assert ast.get_docstring(tree), f"{package}/__init__.py has no docstring"
    statements = [node for node in tree.body if not isinstance(node, ast.Expr)]
    assert statements == [], f"{package}/__init__.py should hold only its docstring"


def test_top_level_holds_the_entry_points_the_shared_basics_and_the_domains() -> None:
    """A new top-level entry is a design decision: add it here and to docs/architecture.md."""
    entries = {
        p.name for p in PACKAGE_DIR.iterdir() if p.name not in {"__pycache__", "py.typed", "__init__.py"}
    }
    assert entries == {
        *("cli.py", "pytest_plugin.py"),  # entry points
        *("errors.py", "clock.py", "durations.py", "model.py"),  # shared by every layer
        *("run", "testing", "backends", "load", "metrics", "report"),
        *("plan", "verdict", "scenario", "controllers", "providers", "processes"),
        "data",  # package data, no code: the cluster manifests a wheel ships (no __init__.py)
    }
    assert not list((PACKAGE_DIR / "data").rglob("__init__.py")), "harness/data is data, not a package"
