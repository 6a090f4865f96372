"""Small request helpers shared by the route modules."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"


class BodyTooLarge(Exception):
    """The request body exceeds the route's limit."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (without buffering it) anything above ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def dumps(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(payload: object, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status_code=status_code, media_type=JSON, headers=headers)
