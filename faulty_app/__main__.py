"""``python -m faulty_app [--host 127.0.0.1] [--port 8080] [--workers 1]``.

Validates the environment first: a bad ``FAULTS`` (or TIME_SCALE, APP_VERSION) prints the exact
field path and exits 2 before anything is served.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys

from faulty_app.config import FaultConfigError
from faulty_app.settings import AppSettings, SettingsError, settings_from_env

EXIT_BAD_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faulty_app", description="The deliberately faulty demo service.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes; each has its own faults")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the app until stopped; return the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_CONFIG
    if args.workers < 1 or not 0 <= args.port <= 65535:
        print("faulty_app: --workers must be ≥ 1 and --port within 0..65535", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        settings = settings_from_env(os.environ)
    except (FaultConfigError, SettingsError) as exc:
        print(f"faulty_app: refusing to start: invalid configuration\n{exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _announce(settings, args.host, args.port)
    _serve(settings, args.host, args.port, args.workers)
    return 0


def _announce(settings: AppSettings, host: str, port: int) -> None:
    kinds = ",".join(fault.kind for fault in settings.faults) or "none"
    admin = "on" if settings.admin_token else "off"
    print(
        f"faulty_app: version={settings.version} faults={kinds} admin={admin} "
        f"time_scale={settings.time_scale:g} listening on http://{host}:{port}",
        file=sys.stderr,
        flush=True,
    )


def _serve(settings: AppSettings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from faulty_app.app import create_app

    target = create_app(settings) if workers == 1 else "faulty_app.app:app_from_env"
    uvicorn.run(
        target,
        factory=workers > 1,  # each worker builds its own app (and fault state) from the environment
        workers=workers,
        host=host,
        port=port,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=2,  # hung requests must not hold a shutdown for 300 s
    )


if __name__ == "__main__":
    sys.exit(main())
