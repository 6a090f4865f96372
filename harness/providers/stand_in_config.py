"""What every router stand-in's configuration holds the same way: the two sides and their endpoints.

Pure (pydantic only). A stand-in answers with ``WORKLOAD_HEADER: primary|canary`` naming the side whose
endpoint served the request; real routers do not, so on kubernetes ``LoadBucket.workload`` stays ""
(``harness.verdict.attribution``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator
from yarl import URL

from harness.providers.base import Side

SIDES: tuple[Side, Side] = ("primary", "canary")
WORKLOAD_HEADER = "X-Canary-Chaos-Workload"


class Endpoints(BaseModel):
    """Ready endpoint base URLs (``http://127.0.0.1:PORT``) of the primary and canary Services."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: tuple[str, ...] = ()
    canary: tuple[str, ...] = ()

    @field_validator("primary", "canary")
    @classmethod
    def _base_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_base_url(url) for url in urls)

    def of(self, side: Side) -> tuple[str, ...]:
        return self.primary if side == "primary" else self.canary


def _base_url(url: str) -> str:
    parsed = URL(url)
    if parsed.scheme != "http" or not parsed.host or parsed.explicit_port is None:
        raise ValueError(f"expected an endpoint like http://127.0.0.1:8080, found {url!r}")
    if parsed.path not in ("", "/") or parsed.query_string or parsed.fragment:
        raise ValueError(f"expected an endpoint without path or query, found {url!r}")
    return f"http://{parsed.host}:{parsed.explicit_port}"
