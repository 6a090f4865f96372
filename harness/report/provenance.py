"""Where a run's evidence came from: tool versions and the git commit of the checkout."""

from __future__ import annotations

import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

PYTHON_DISTRIBUTIONS = {
    "canary-chaos": "canary-chaos",
    "locust": "locust",
    "kubernetes client": "kubernetes",
    "pandas": "pandas",
    "matplotlib": "matplotlib",
    "jinja2": "Jinja2",
    "pytest": "pytest",
}
_VERSION = re.compile(r"version\s+(\S+)")


def tool_versions(*, prometheus_binary: str = "prometheus", timeout: float = 5.0) -> dict[str, str]:
    """Versions of python, our package and the tools a run depends on ('absent' when not installed)."""
    versions = {"python": platform.python_version()}
    for label, distribution in PYTHON_DISTRIBUTIONS.items():
        try:
            versions[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[label] = "absent"
    versions["prometheus"] = _binary_version([prometheus_binary, "--version"], timeout)
    return versions


def git_commit(directory: Path | None = None, *, timeout: float = 5.0) -> str | None:
    """The HEAD commit (with ``+dirty`` when the work tree has changes), or None outside a git checkout."""
    cwd = directory or Path(__file__).resolve().parent
    head = _run(["git", "rev-parse", "HEAD"], cwd, timeout)
    if head is None or not re.fullmatch(r"[0-9a-f]{40}", head):
        return None
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd, timeout)
    return head + ("+dirty" if status else "")


def _binary_version(command: list[str], timeout: float) -> str:
    output = _run(command, None, timeout, merge_stderr=True)
    if output is None:
        return "absent"
    match = _VERSION.search(output)
    return match.group(1) if match else output.splitlines()[0][:80] if output else "unknown"


def _run(command: list[str], cwd: Path | None, timeout: float, *, merge_stderr: bool = False) -> str | None:
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return (completed.stdout + (completed.stderr if merge_stderr else "")).strip()
