"""Flagger webhook calls over real HTTP (the only module of the emulation that talks to hooks).

``HttpWebhookCaller`` implements ``harness.controllers.flagger.ports.WebhookCaller`` like Flagger's
``callWebhook`` (``pkg/controller/webhook.go``) on hashicorp go-retryablehttp v0.7.8 defaults:

- ``POST`` with ``Content-Type: application/json`` and the body Go's ``json.Marshal`` would write
  (compact, ``<``/``>``/``&`` escaped); success iff the final status is ≤ 202;
- ``retries`` extra attempts for connection errors, timeouts, 429 and 5xx except 501, waiting
  2^i seconds (1 s … 30 s, or ``Retry-After`` on 429/503) on the run clock between attempts;
  exhausted → ``POST <url> giving up after N attempt(s)[: <last error>]`` and the body is lost;
- any other status > 202 fails with the response body as the error text;
- the timeout is ``hook.timeout_seconds`` emulated seconds: a real network timeout, so it is divided by
  ``clock.scale`` but never below 0.05 s (a hook cannot answer faster than the network allows).

httpx errors never leave this module: they become failed ``WebhookResult`` details in Go's wording.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from harness.clock import Clock
from harness.controllers.flagger.model import WebhookSpec
from harness.controllers.flagger.ports import WebhookResult

MIN_REAL_TIMEOUT = 0.05
RETRY_WAIT_MIN = 1.0
RETRY_WAIT_MAX = 30.0
SUCCESS_MAX_STATUS = 202


def go_json(payload: Mapping[str, Any]) -> bytes:
    """``encoding/json.Marshal`` output: compact, HTML-safe escapes, keys in the given order."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def _retryable_status(status: int) -> tuple[bool, str | None]:
    """go-retryablehttp ``baseRetryPolicy`` for a response: (retry?, check error)."""
    if status == 429:
        return True, None
    if status == 0 or (status >= 500 and status != 501):
        return True, f"unexpected HTTP status {status} {httpx.codes.get_reason_phrase(status)}"
    return False, None


def _transport_error(url: str, exc: httpx.HTTPError) -> tuple[bool, str]:
    """(retryable?, Go-style text) for a transport error."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        scheme = url.split(":", 1)[0]
        return False, f'Post "{url}": unsupported protocol scheme "{scheme}"'
    if isinstance(exc, httpx.TooManyRedirects):
        return False, f'Post "{url}": stopped after 10 redirects'
    if isinstance(exc, httpx.TimeoutException):
        return (
            True,
            f'Post "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        )
    if isinstance(exc, httpx.ConnectError) and "refused" in str(exc).lower():
        host = httpx.URL(url).host
        port = httpx.URL(url).port or (443 if url.startswith("https") else 80)
        return True, f'Post "{url}": dial tcp {host}:{port}: connect: connection refused'
    return True, f'Post "{url}": {exc or type(exc).__name__}'


def _backoff(attempt: int, response: httpx.Response | None) -> float:
    """``DefaultBackoff``: Retry-After on 429/503, else min(2^attempt · 1 s, 30 s)."""
    if response is not None and response.status_code in (429, 503):
        after = response.headers.get("Retry-After", "")
        if after.isdigit():
            return float(after)
    return min(float(2**attempt) * RETRY_WAIT_MIN, RETRY_WAIT_MAX)


class HttpWebhookCaller:
    """``WebhookCaller`` over httpx (sync); one client per call, like Flagger's per-call client."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def real_timeout(self, hook: WebhookSpec) -> float:
        return float(max(hook.timeout_seconds / self._clock.scale, MIN_REAL_TIMEOUT))

    def call(self, hook: WebhookSpec, payload: Mapping[str, Any]) -> WebhookResult:
        body = go_json(payload)
        headers = {"Content-Type": "application/json"}
        attempts = hook.retries + 1
        with httpx.Client(
            timeout=httpx.Timeout(self.real_timeout(hook)),
            verify=not hook.disable_tls,
            follow_redirects=True,
            max_redirects=10,
            trust_env=False,
        ) as client:
            error: str | None = None
            for attempt in range(attempts):
                response: httpx.Response | None = None
                try:
                    response = client.post(hook.url, content=body, headers=headers)
                except httpx.InvalidURL as exc:
                    return WebhookResult(False, f'parse "{hook.url}": {exc}')
                except httpx.HTTPError as exc:
                    retry, error = _transport_error(hook.url, exc)
                    if not retry:
                        return WebhookResult(False, error)
                else:
                    retry, error = _retryable_status(response.status_code)
                    if not retry:
                        if response.status_code > SUCCESS_MAX_STATUS:
                            return WebhookResult(False, response.text)
                        return WebhookResult(True)
                if attempt + 1 < attempts:
                    self._clock.sleep(_backoff(attempt, response))
        suffix = f": {error}" if error else ""
        return WebhookResult(False, f"POST {hook.url} giving up after {attempts} attempt(s){suffix}")
