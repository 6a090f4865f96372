"""``cluster/bootstrap.sh`` for the cluster-files tests: where it is, and running it without a cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP = REPO / "cluster" / "bootstrap.sh"


def run_bootstrap(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``bash bootstrap.sh ARGS`` with only /usr/bin:/bin on PATH (no kubectl, no helm) and HOME=``home``."""
    return subprocess.run(
        ["bash", str(BOOTSTRAP), *args], capture_output=True, text=True, timeout=10,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
    )  # fmt: skip
