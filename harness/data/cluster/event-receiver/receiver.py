"""Flagger event webhook receiver (stdlib only; runs in the app image via a ConfigMap).

POST <any path>   store the JSON body (a Flagger event payload), echo it as one line on stdout and
                  append it to $EVENTS_FILE (default /data/events.jsonl); answers 202.
GET  /events      every stored event as a JSON array, oldest first; ``?since=N`` skips the first N.
GET  /healthz     "ok".

Flagger posts ``{"name", "namespace", "phase", "checksum", "metadata": {"eventMessage", "eventType",
"timestamp"}}`` for every event, synchronously and without the rate limits of Kubernetes Events.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 1024 * 1024
MAX_EVENTS = 100_000


class EventStore:
    """Thread-safe, bounded, append-only event list mirrored to a JSON-lines file."""

    def __init__(self, path: str | None) -> None:
        self._events: list[object] = self._reload(path)
        self._lock = threading.Lock()
        self._path = path

    @staticmethod
    def _reload(path: str | None) -> list[object]:
        """Events a previous run of this container stored (the file outlives a container restart), so that
        ``?since=N`` indexes stay valid and nothing the harness has not read yet is lost."""
        if not path or not os.path.exists(path):
            return []
        events: list[object] = []
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue  # a line cut short by the crash
        return events[-MAX_EVENTS:]

    def add(self, event: object) -> None:
        line = json.dumps(event, separators=(",", ":"))
        with self._lock:
            if len(self._events) >= MAX_EVENTS:
                del self._events[0]
            self._events.append(event)
            if self._path:
                with open(self._path, "a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
        print(line, flush=True)

    def since(self, start: int) -> list[object]:
        with self._lock:
            return list(self._events[max(0, start) :])


def make_handler(store: EventStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._reply(413 if length > MAX_BODY else 400, {"error": "body required (<= 1 MiB)"})
                return
            try:
                event = json.loads(self.rfile.read(length))
            except ValueError:
                self._reply(400, {"error": "body is not JSON"})
                return
            store.add(event)
            self._reply(202, {"stored": True})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/healthz":
                self._reply(200, "ok")
            elif url.path == "/events":
                since = parse_qs(url.query).get("since", ["0"])[0]
                self._reply(200, store.since(int(since) if since.isdigit() else 0))
            else:
                self._reply(404, {"error": "not found"})

        def _reply(self, code: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # stdout carries events only
            del format, args

    return Handler


def serve(host: str, port: int, events_file: str | None) -> ThreadingHTTPServer:
    """Build the server (call ``serve_forever`` on it); port 0 picks a free port."""
    return ThreadingHTTPServer((host, port), make_handler(EventStore(events_file)))


def main() -> None:
    host = os.environ.get("HOST", "0.0.0.0")  # noqa: S104 - listens inside its pod
    port = int(os.environ.get("PORT", "8080"))
    server = serve(host, port, os.environ.get("EVENTS_FILE", "/data/events.jsonl") or None)
    print(f"event receiver listening on {host}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
