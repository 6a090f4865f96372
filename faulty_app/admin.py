"""``/admin/faults``: GET the installed faults, PUT a whole new list, DELETE them all.

Mounted only when ``ADMIN_TOKEN`` is set; every call needs ``Authorization: Bearer <token>``
(compared in constant time). A bad PUT leaves the installed faults untouched.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from faulty_app.config import (
    MAX_TEXT_BYTES,
    FaultConfigError,
    FaultProblem,
    HttpErrorsFault,
    SlowBurnFault,
    dump_faults,
    load_faults_text,
)
from faulty_app.decide import window_open
from faulty_app.http_util import BodyTooLarge, json_response, read_limited
from faulty_app.runtime import Runtime

PATH = "/admin/faults"


def admin_routes(runtime: Runtime, token: str) -> list[Route]:
    """The admin route, bound to ``runtime`` and ``token``."""
    expected = f"Bearer {token}".encode()

    async def faults(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            return json_response(
                {"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Bearer realm="faulty_app"'}
            )
        if request.method == "PUT":
            return await _replace(runtime, request)
        if request.method == "DELETE":
            runtime.install(())
        return json_response(status_view(runtime))

    return [Route(PATH, faults, methods=["GET", "PUT", "DELETE"])]


async def _replace(runtime: Runtime, request: Request) -> Response:
    try:
        text = (await read_limited(request, MAX_TEXT_BYTES)).decode("utf-8")
        if not text.strip():
            raise FaultConfigError(
                (FaultProblem("", "a JSON or YAML list of fault objects", "an empty body"),), source="body"
            )
        faults = load_faults_text(text, source="body")
    except BodyTooLarge:
        return json_response({"error": f"body larger than {MAX_TEXT_BYTES} bytes"}, 413)
    except UnicodeDecodeError:
        return _unprocessable(
            FaultConfigError((FaultProblem("", "UTF-8 text", "undecodable bytes"),), source="body")
        )
    except FaultConfigError as exc:
        return _unprocessable(exc)
    runtime.install(faults)
    return json_response(status_view(runtime))


def _unprocessable(exc: FaultConfigError) -> Response:
    problems = [{"path": p.path, "expected": p.expected, "found": p.found} for p in exc.problems]
    return json_response({"error": str(exc), "problems": problems}, 422)


def status_view(runtime: Runtime) -> dict[str, Any]:
    """The installed faults as given (PUT-able again), plus per-fault run-time status."""
    engine = runtime.engine
    uptime = engine.uptime()
    status = []
    for compiled in engine.plan.faults:
        fault = compiled.fault
        entry: dict[str, Any] = {
            "index": compiled.index,
            "kind": fault.kind,
            "name": fault.name,
            "active": window_open(
                compiled.window, uptime, engine.requests + 1, engine.opened_at[compiled.index]
            ),
        }
        if isinstance(fault, HttpErrorsFault | SlowBurnFault):
            entry["counts_for_flagger"] = fault.counts_for_flagger  # only 5xx fail Flagger's success rate
        status.append(entry)
    return {
        "version": runtime.version,
        "time_scale": engine.time_scale,
        "uptime_seconds": round(uptime, 3),
        "requests": engine.requests,
        "faults": dump_faults(engine.faults),
        "status": status,
    }
