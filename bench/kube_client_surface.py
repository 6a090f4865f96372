"""Record the API surface of one ``kubernetes`` wheel that the gateway may rely on.

    python bench/kube_client_surface.py 29.0.0 > tests/kube/data/kubernetes-client-surface.json

Downloads the wheel with ``pip download --no-deps`` (no install, nothing imported) and reads its source
with ``ast``: the public names of the modules the gateway imports from, the methods (and accepted keyword
arguments) of the classes it calls, and the keyword arguments of the functions it calls. Generated API
methods of the old generator take ``**kwargs`` checked against an ``all_params`` list; that list is what
is recorded. ``tests/kube/test_client_surface.py`` checks the gateway against the output, so run this
again whenever the lower bound of ``kubernetes`` in pyproject.toml moves.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MODULES = {  # import path → file in the wheel
    "kubernetes.client": "kubernetes/client/__init__.py",
    "kubernetes.client.exceptions": "kubernetes/client/exceptions.py",
    "kubernetes.config": "kubernetes/config/__init__.py",
    "kubernetes.config.config_exception": "kubernetes/config/config_exception.py",
    "kubernetes.dynamic": "kubernetes/dynamic/__init__.py",
    "kubernetes.dynamic.exceptions": "kubernetes/dynamic/exceptions.py",
    "kubernetes.watch": "kubernetes/watch/__init__.py",
    "kubernetes.stream": "kubernetes/stream/__init__.py",
}
CLASSES = {  # qualified name → file
    "kubernetes.client.ApiClient": "kubernetes/client/api_client.py",
    "kubernetes.client.Configuration": "kubernetes/client/configuration.py",
    "kubernetes.client.CoreV1Api": "kubernetes/client/api/core_v1_api.py",
    "kubernetes.client.AppsV1Api": "kubernetes/client/api/apps_v1_api.py",
    "kubernetes.client.CustomObjectsApi": "kubernetes/client/api/custom_objects_api.py",
    "kubernetes.client.ApiextensionsV1Api": "kubernetes/client/api/apiextensions_v1_api.py",
    "kubernetes.client.V1Namespace": "kubernetes/client/models/v1_namespace.py",
    "kubernetes.client.V1ObjectMeta": "kubernetes/client/models/v1_object_meta.py",
    "kubernetes.dynamic.DynamicClient": "kubernetes/dynamic/client.py",
    "kubernetes.watch.Watch": "kubernetes/watch/watch.py",
}
FUNCTIONS = {
    "kubernetes.config.list_kube_config_contexts": "kubernetes/config/kube_config.py",
    "kubernetes.config.load_kube_config": "kubernetes/config/kube_config.py",
}
# ``stream.stream(api_method, *args, **kwargs)`` and ``Watch().stream(...)`` forward keywords to the API
# method they are given; the test checks those keywords against that method.


def public_names(tree: ast.Module) -> list[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return sorted(n for n in names if not n.startswith("_"))


def star_sources(tree: ast.Module) -> list[str]:
    return [n.module or "" for n in tree.body if isinstance(n, ast.ImportFrom) and n.names[0].name == "*"]


def arguments(function: ast.FunctionDef, siblings: dict[str, ast.FunctionDef]) -> list[str]:
    args = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
    if function.args.kwarg is not None:
        args += sorted(_kwarg_names(siblings.get(f"{function.name}_with_http_info", function)))
        for callee in _forwarded_to(function):  # `return self.request(..., **kwargs)`
            if callee in siblings and callee != function.name:
                args += arguments(siblings[callee], siblings)
    return sorted({a for a in args if a != "self"})


def _forwarded_to(function: ast.FunctionDef) -> set[str]:
    """Sibling methods that receive this function's ``**kwargs``."""
    kwarg = function.args.kwarg.arg if function.args.kwarg else None
    return {
        node.func.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
        and any(
            k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg for k in node.keywords
        )
    }


def _kwarg_names(function: ast.FunctionDef) -> set[str]:
    """Keywords a ``**kwargs`` function accepts: its ``all_params`` lists or ``params.get('x')`` reads."""
    names: set[str] = set()
    for node in ast.walk(function):
        lists: list[ast.expr] = []
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "all_params" for t in node.targets
        ):
            lists.append(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr == "extend" and isinstance(owner, ast.Name) and owner.id == "all_params":
                lists.extend(node.args)
            if node.func.attr in ("get", "pop") and node.args and isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value))
        for value in lists:
            if isinstance(value, ast.List):
                names.update(str(e.value) for e in value.elts if isinstance(e, ast.Constant))
    return names


def _decorator_kwargs(tree: ast.Module, function: ast.FunctionDef) -> set[str]:
    """Keywords a module-level decorator (the dynamic client's ``meta_request``) pops before the call."""
    names: set[str] = set()
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Name):
            found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == decorator.id]
            for wrapper in found:
                names |= _kwarg_names(wrapper)
    return names


def class_surface(tree: ast.Module, name: str) -> dict[str, list[str]]:
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == name)
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    surface = {
        m: sorted({*arguments(f, methods), *_decorator_kwargs(tree, f)})
        for m, f in methods.items()
        if not m.startswith("__") or m == "__init__"
    }
    for node in ast.walk(methods.get("__init__", cls)):  # instance attributes set in __init__
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            surface.setdefault(node.attr, [])
    for field in (
        n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    ):
        surface.setdefault(field, [])  # pydantic model fields
    return dict(sorted(surface.items()))


def surface(root: Path, version: str) -> dict[str, object]:
    def parse(relative: str) -> ast.Module:
        return ast.parse((root / relative).read_text(encoding="utf-8"))

    modules: dict[str, list[str]] = {}
    for module, relative in MODULES.items():
        tree = parse(relative)
        names = set(public_names(tree))
        for source in star_sources(tree):  # `from .client import *` in kubernetes.dynamic
            target = Path(relative).parent / (source.lstrip(".").replace(".", "/") + ".py")
            names.update(public_names(parse(str(target))))
        modules[module] = sorted(names)
    classes = {q: class_surface(parse(f), q.rsplit(".", 1)[1]) for q, f in CLASSES.items()}
    functions = {}
    for qualified, relative in FUNCTIONS.items():
        tree, name = parse(relative), qualified.rsplit(".", 1)[1]
        function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        functions[qualified] = arguments(function, {})
    return {"version": version, "modules": modules, "classes": classes, "functions": functions}


def main(version: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, f"kubernetes=={version}"],
            check=True,
        )
        wheel = next(Path(tmp).glob("kubernetes-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(Path(tmp) / "src")
        data = surface(Path(tmp) / "src", version)
    # one class, module or function per line: small diffs when the lower bound moves
    lines = [f'"version": {json.dumps(version)}']
    for section in ("modules", "classes", "functions"):
        entries = data[section]
        assert isinstance(entries, dict)
        body = ",\n".join(
            f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(entries.items())
        )
        lines.append(f'"{section}": {{\n{body}\n}}')
    print("{\n" + ",\n".join(lines) + "\n}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "29.0.0")
