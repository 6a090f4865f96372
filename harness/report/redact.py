"""Redaction of secrets from evidence: values under sensitive keys, and secret-looking text anywhere.

Applied to the whole run record (as JSON-able data) before the journal is written and before a report is
rendered, so a token that leaked into an event message, a log or a scenario file never reaches a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

# Keys whose values are secret whatever they look like (compared after lower-casing and dropping - and _).
SENSITIVE_KEY_PARTS = (
    "token",
    "password",
    "passwd",
    "secret",
    "authorization",
    "clientkeydata",
    "clientcertificatedata",
    "bearer",
    "apikey",
    "privatekey",
    "cookie",
    "credential",
)

# (pattern, replacement template): the replacement keeps the key and separator, drops the secret.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # HTTP headers in logs: "Authorization: Bearer abc", "authorization=Basic xyz", "Cookie: a=b".
    (
        re.compile(r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie)(\s*[:=]\s*)[^\r\n,;\"']+"),
        r"\1\2" + REDACTED,
    ),
    # Bare bearer/basic credentials.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + REDACTED),
    # kubeconfig/YAML/env style "key: value" or "key=value" for secret-ish keys.
    (
        re.compile(
            r"(?i)\b([\w-]*(?:token|password|passwd|secret|api[-_]?key|client-key-data|"
            r"client-certificate-data|private[-_]?key)[\w-]*)(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;}\]]+)"
        ),
        r"\1\2" + REDACTED,
    ),
    # JSON Web Tokens (Kubernetes service-account tokens are JWTs).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Credentials in URLs: scheme://user:password@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
    # PEM private keys.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), REDACTED),
)


def is_sensitive_key(key: str) -> bool:
    """True for keys such as ``token``, ``ADMIN_TOKEN``, ``client-key-data``, ``Authorization``."""
    normalised = key.lower().replace("-", "").replace("_", "")
    return any(part in normalised for part in SENSITIVE_KEY_PARTS)


def redact_text(text: str) -> str:
    """Replace secret-looking parts of free text with ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """Return a copy of JSON-like data with sensitive keys' values and secret-looking text redacted."""
    if isinstance(value, Mapping):
        return {key: (REDACTED if _has_secret(key, item) else redact(item)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _has_secret(key: object, item: object) -> bool:
    """A sensitive key with a scalar value (nested mappings are walked, so their structure survives)."""
    return isinstance(key, str) and is_sensitive_key(key) and not isinstance(item, Mapping | list | tuple)
