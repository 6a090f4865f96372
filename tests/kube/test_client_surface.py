"""The Kubernetes gateway uses only kubernetes-client API present in the declared lower bound.

``tests/kube/data/kubernetes-client-surface.json`` is the API surface of the lower-bound wheel, read from
its source by ``bench/kube_client_surface.py`` (module names, class methods with the keywords they accept,
function keywords). The checker below walks the gateway's AST and resolves every vendor attribute and
keyword it can: module aliases, ``self._x = client.SomeApi(...)`` handles, a few named locals, and the
API method handed to ``watch``/``stream`` (which forward keywords to it). Anything newer-only, such as
``ApiClient.param_serialize`` (37+) or a keyword an old generated method rejects, fails here.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GATEWAY_MODULES = [
    REPO / "harness" / "backends" / "kubernetes" / f"{name}.py"
    for name in ("gateway", "gateway_custom", "gateway_calls")
]
SURFACE = json.loads((Path(__file__).parent / "data" / "kubernetes-client-surface.json").read_text())
LOCALS = {"dyn": "kubernetes.dynamic.DynamicClient", "configuration": "kubernetes.client.Configuration"}
FORWARDERS = {("kubernetes.stream", "stream"), ("kubernetes.watch.Watch", "stream")}


@dataclass
class SurfaceChecker(ast.NodeVisitor):
    surface: dict
    modules: dict[str, str] = field(default_factory=dict)  # alias → kubernetes module
    handles: dict[str, str] = field(default_factory=lambda: dict(LOCALS))  # self._x / local → class
    problems: list[str] = field(default_factory=list)
    checked: int = 0

    def check(self, source: str) -> list[str]:
        tree = ast.parse(source)
        for node in ast.walk(tree):  # aliases and handles first, wherever they are assigned
            self._collect(node)
        self.visit(tree)
        return self.problems

    def _collect(self, node: ast.AST) -> None:
        if isinstance(node, ast.ImportFrom) and node.module == "kubernetes":
            for alias in node.names:
                self.modules[alias.asname or alias.name] = f"kubernetes.{alias.name}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kubernetes."):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in self.surface["modules"]:
                    self.modules[alias.asname or alias.name] = submodule
                elif alias.name not in self.surface["modules"].get(node.module, ()):
                    self.problems.append(f"line {node.lineno}: {submodule} not in the surface")
        annotated_alias = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        if annotated_alias and isinstance(node.value, ast.Name) and node.value.id in self.modules:
            self.modules[node.target.id] = self.modules[node.value.id]  # `config: Any = _config`
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            return
        value = node.value
        if isinstance(value, ast.Call):
            cls = self._qualified(value.func)
            if cls in self.surface["classes"]:
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                        self.handles[target.attr] = cls

    def _qualified(self, node: ast.AST) -> str | None:
        """``client.CoreV1Api`` → ``kubernetes.client.CoreV1Api`` (None when not a vendor name)."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = self.modules.get(node.value.id)
            return f"{module}.{node.attr}" if module else None
        return None

    def _owner(self, node: ast.AST) -> str | None:
        """The vendor class of a receiver: ``self._core``, a named local, or ``watch.Watch()``."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return self.handles.get(node.attr)
        if isinstance(node, ast.Name):
            return self.handles.get(node.id) if node.id in LOCALS else None
        if isinstance(node, ast.Call):
            return self._qualified(node.func)
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            module = self.modules[node.value.id]
            known = self.surface["modules"].get(module)
            if known is not None and node.attr not in known:
                self.problems.append(f"line {node.lineno}: {module}.{node.attr} not in the surface")
            self.checked += 1
        owner = self._owner(node.value)
        if owner is not None:
            if node.attr not in self.surface["classes"][owner]:
                self.problems.append(f"line {node.lineno}: {owner}.{node.attr} not in the surface")
            self.checked += 1
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        target: tuple[str, str] | None = None
        if isinstance(func, ast.Attribute):
            owner = self._owner(func.value) or self.modules.get(getattr(func.value, "id", ""), None)
            target = (owner, func.attr) if owner else None
        qualified = self._qualified(func)
        if qualified in self.surface["classes"]:
            target = (qualified, "__init__")
        if target in FORWARDERS and node.args and isinstance(node.args[0], ast.Attribute):
            forwarded = self._owner(node.args[0].value)
            target = (forwarded, node.args[0].attr) if forwarded else None
        if target is not None:
            self._keywords(node, *target)
        self.generic_visit(node)

    def _keywords(self, node: ast.Call, owner: str, name: str) -> None:
        if owner in self.surface["classes"]:
            accepted = self.surface["classes"][owner].get(name)
        else:
            accepted = self.surface["functions"].get(f"{owner}.{name}")
        if accepted is None:
            return  # the attribute itself is checked in visit_Attribute
        for keyword in node.keywords:
            self.checked += 1
            if keyword.arg is not None and keyword.arg not in accepted:
                self.problems.append(f"line {node.lineno}: {owner}.{name}(…, {keyword.arg}=) not accepted")


def lower_bound() -> str:
    text = (REPO / "pyproject.toml").read_text()
    found = re.search(r'"kubernetes>=([0-9.]+)(?:,<[0-9.]+)?"', text)
    assert found, "pyproject.toml must declare kubernetes>=X"
    return found.group(1)


class TestClientSurface:
    def test_surface_is_the_declared_lower_bound(self):
        """The recorded surface is the wheel pyproject.toml names as the lower bound."""
        assert SURFACE["version"].startswith(lower_bound())

    def test_gateway_uses_only_lower_bound_api(self):
        """Every resolved vendor attribute and keyword in the gateway exists in the lower-bound wheel."""
        checker = SurfaceChecker(SURFACE)
        # one tree: the handles KubeGateway.__init__ creates are used by its gateway_custom half too
        assert checker.check("\n".join(path.read_text() for path in GATEWAY_MODULES)) == []
        assert checker.checked > 60  # the resolution really reached the calls (not a vacuous pass)

    def test_newer_only_api_is_caught(self):
        """ApiClient.param_serialize (new generator only) and an unknown keyword are reported."""
        snippet = textwrap.dedent(
            """
            from kubernetes import client
            class Gateway:
                def __init__(self):
                    self._api_client = client.ApiClient(None)
                    self._core = client.CoreV1Api(self._api_client)
                def raw(self):
                    self._api_client.param_serialize("GET", "/api")
                    self._core.read_namespace("ns", _request_timout=3)
            """
        )
        problems = SurfaceChecker(SURFACE).check(snippet)
        assert any("ApiClient.param_serialize not in the surface" in p for p in problems), problems
        assert any("_request_timout" in p for p in problems), problems
