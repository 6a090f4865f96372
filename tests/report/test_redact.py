"""Secrets are removed from evidence: by key name and by pattern."""

from __future__ import annotations

import pytest

from harness.report.redact import REDACTED, is_sensitive_key, redact, redact_text


class TestRedactText:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Authorization: Bearer abcdefghijkl", "Authorization: [REDACTED]"),
            ('-H "authorization=Basic dXNlcjpwYXNz"', '-H "authorization=[REDACTED]"'),
            ("client-key-data: LS0tLS1CRUdJTiBSU0E=", "client-key-data: [REDACTED]"),
            ("token=s3cr3t-value ok", "token=[REDACTED] ok"),
            ("https://bob:hunter2@example.com/x", "https://[REDACTED]@example.com/x"),
            ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4eXoifQ.sig_abc", "jwt [REDACTED]"),
            ("sent Bearer abcdefghijkl upstream", "sent Bearer [REDACTED] upstream"),
        ],
    )
    def test_patterns(self, text: str, expected: str) -> None:
        """Headers, kubeconfig keys, tokens, URL credentials and JWTs are replaced."""
        assert redact_text(text) == expected

    def test_ordinary_text_is_untouched(self) -> None:
        """Flagger messages without secrets pass through unchanged."""
        text = "Halt podinfo.test advancement success rate 62.50% < 99%"
        assert redact_text(text) == text


class TestRedactData:
    def test_sensitive_keys_anywhere(self) -> None:
        """Values under sensitive keys are replaced at any depth; structure and other values survive."""
        data = {
            "env": {"ADMIN_TOKEN": "x"},
            "users": [{"user": {"token": "abc", "client-key-data": "k"}}],
            "n": 3,
        }
        assert redact(data) == {
            "env": {"ADMIN_TOKEN": REDACTED},
            "users": [{"user": {"token": REDACTED, "client-key-data": REDACTED}}],
            "n": 3,
        }

    @pytest.mark.parametrize("key", ["password", "Authorization", "client_key_data", "apiKey", "my-secret"])
    def test_key_names(self, key: str) -> None:
        """Key matching ignores case, dashes and underscores."""
        assert is_sensitive_key(key)

    def test_plain_keys(self) -> None:
        """Ordinary keys are not sensitive."""
        assert not any(is_sensitive_key(k) for k in ("name", "interval", "threshold", "message"))
