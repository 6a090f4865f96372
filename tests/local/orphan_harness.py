"""A miniature harness for the orphan tests: spawns two apps and the router, prints their pids and ports
as one JSON line, then waits to be killed. On SIGINT/SIGTERM its ``finally`` stops everything.

    python tests/local/orphan_harness.py RUN_DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))  # the project root, so ``harness`` imports from source

from harness.errors import Interrupted  # noqa: E402
from harness.processes.ports import free_port, wait_listening  # noqa: E402
from harness.processes.procs import ProcessGroup, install_signal_handlers  # noqa: E402
from harness.providers.traefik.router_client import start_router  # noqa: E402


def main() -> int:
    install_signal_handlers()
    group = ProcessGroup(Path(sys.argv[1]), stop_timeout=3.0)
    try:
        ports = []
        for version in ("v1", "v2"):
            port = free_port()
            argv = [sys.executable, str(HERE / "standin_app.py"), "--port", str(port)]
            group.start(f"app-{version}", argv, env={"APP_VERSION": version})
            ports.append(port)
        router = start_router(group, namespace="test", service="podinfo")
        ports += [int(router.url.rsplit(":", 1)[1]), int(router.admin_url.rsplit(":", 1)[1])]
        for port in ports:
            wait_listening(port, 10.0)
        pids = [p.pid for p in group.processes]
        print(json.dumps({"pids": pids, "ports": ports}), flush=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
        return 1
    except Interrupted as exc:
        print(f"interrupted by {exc.signal_name}", flush=True)
        return 130
    finally:
        group.stop_all()
        print("cleaned up", flush=True)


if __name__ == "__main__":
    sys.exit(main())
