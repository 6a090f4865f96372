"""A tiny fake Kubernetes API server on 127.0.0.1 for the KubeGateway tests, and a kubeconfig naming it.

A test module subclasses ``JsonHandler`` with its ``do_GET``/``do_PATCH`` and serves it with
``serve_on_loopback``; a real ``kubernetes`` ApiClient then talks HTTP to it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REASONS = {404: "NotFound", 410: "Expired", 500: "InternalError"}


def status(code: int, message: str) -> dict:
    """A metav1.Status as the API server sends it."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": REASONS[code],
        "code": code,
    }


class JsonHandler(BaseHTTPRequestHandler):
    """Answers with JSON (or ``raw`` bytes) and logs nothing."""

    def _send(self, code: int, payload: object, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextmanager
def serve_on_loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free 127.0.0.1 port (threads per request) until the block ends; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def kubeconfig(tmp_path: Path, server: str) -> str:
    """A kubeconfig file (context ``kind-test``, a token user) for the API server at ``server``."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "kind-test", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "kind-test",
            }
        )
    )
    return str(path)
