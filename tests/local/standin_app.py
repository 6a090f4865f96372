"""A tiny stand-in for faulty_app with the same CLI and environment, plus test-only behaviour switches.

    python tests/local/standin_app.py --host 127.0.0.1 --port PORT

Environment: APP_VERSION, FAULTS (JSON list, only stored), ADMIN_TOKEN, TIME_SCALE (ignored), and
STANDIN_MODE = ok | never_ready | crash | slow | errors (every page a 500), STANDIN_DELAY_MS (slow mode),
STANDIN_READY_AFTER (seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

from aiohttp import web

VERSION = os.environ.get("APP_VERSION", "unknown")
MODE = os.environ.get("STANDIN_MODE", "ok")
DELAY = float(os.environ.get("STANDIN_DELAY_MS", "0")) / 1000
READY_AFTER = float(os.environ.get("STANDIN_READY_AFTER", "0"))
TOKEN = os.environ.get("ADMIN_TOKEN")
STARTED = time.monotonic()
faults: list[object] = json.loads(os.environ.get("FAULTS") or "[]")


@web.middleware
async def version_header(request: web.Request, handler):  # type: ignore[no-untyped-def]
    response = await handler(request)
    response.headers["X-App-Version"] = VERSION
    return response


async def index(request: web.Request) -> web.Response:
    if MODE == "slow" and DELAY:
        await asyncio.sleep(DELAY)
    if MODE == "errors":
        return web.json_response({"version": VERSION, "error": "as told"}, status=500)
    return web.json_response({"version": VERSION, "path": request.path})


async def readyz(request: web.Request) -> web.Response:
    ready = MODE != "never_ready" and time.monotonic() - STARTED >= READY_AFTER
    return web.Response(status=200 if ready else 503, text="ready" if ready else "not ready")


async def version(request: web.Request) -> web.Response:
    return web.json_response({"version": VERSION})


def _authorized(request: web.Request) -> bool:
    return TOKEN is not None and request.headers.get("Authorization") == f"Bearer {TOKEN}"


async def put_faults(request: web.Request) -> web.Response:
    global faults
    if not _authorized(request):
        return web.Response(status=401)
    body = await request.json()
    faults = body["faults"] if isinstance(body, dict) else body
    return web.json_response({"faults": faults})


async def get_faults(request: web.Request) -> web.Response:
    if not _authorized(request):
        return web.Response(status=401)
    return web.json_response({"faults": faults})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if MODE == "crash":
        time.sleep(0.1)
        print("stand-in: crashing on startup as told", flush=True)
        sys.exit(3)
    app = web.Application(middlewares=[version_header])
    app.router.add_get("/", index)
    app.router.add_get("/api/orders", index)
    app.router.add_get("/healthz", version)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/version", version)
    app.router.add_get("/metrics", version)
    app.router.add_put("/admin/faults", put_faults)
    app.router.add_get("/admin/faults", get_faults)
    app.router.add_route("*", "/{tail:.*}", index)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
