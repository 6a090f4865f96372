"""Body checksums so a client can verify an answer (and notice a ``wrong_answer`` fault).

``checksum`` = sha256 hex of the canonical JSON (sorted keys, no spaces, UTF-8) of the body
without its ``checksum`` field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

CHECKSUM_FIELD = "checksum"


def canonical_json(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def body_checksum(payload: Mapping[str, object]) -> str:
    """The checksum of ``payload`` (its own ``checksum`` field, if any, is ignored)."""
    body = {key: value for key, value in payload.items() if key != CHECKSUM_FIELD}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def with_checksum(payload: Mapping[str, object]) -> dict[str, object]:
    return {**payload, CHECKSUM_FIELD: body_checksum(payload)}


def verify_body(payload: Mapping[str, object]) -> bool:
    """True when the body carries a checksum that matches its content."""
    return payload.get(CHECKSUM_FIELD) == body_checksum(payload)
