"""The event receiver (cluster/event-receiver/receiver.py) on 127.0.0.1: store, mirror, serve back."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import httpx
import pytest

from harness.backends.kubernetes.observe import parse_events
from harness.testing.flagger_status import flagger_event

RECEIVER = Path(__file__).resolve().parents[2] / "harness/data/cluster/event-receiver/receiver.py"


@pytest.fixture
def receiver(tmp_path):
    spec = importlib.util.spec_from_file_location("event_receiver", RECEIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.serve("127.0.0.1", 0, str(tmp_path / "events.jsonl"))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}", timeout=5) as client:
            yield client, tmp_path / "events.jsonl"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class TestReceiver:
    def test_restart_keeps_events_and_indexes(self, tmp_path):
        """A restarted receiver reloads its JSON-lines file: ?since=N still means the same events."""
        spec = importlib.util.spec_from_file_location("event_receiver_restart", RECEIVER)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        path = str(tmp_path / "events.jsonl")
        first = module.EventStore(path)
        events = [flagger_event("ns", "faulty-app", f"event {i}", at_epoch_ms=i) for i in range(3)]
        for event in events:
            first.add(event)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write('{"cut short')  # the container died mid-write
        restarted = module.EventStore(path)
        assert restarted.since(0) == events
        assert restarted.since(2) == events[2:]

    def test_stores_and_serves_events_in_order(self, receiver):
        """Every POSTed Flagger event is answered 202, kept in order and served back at /events."""
        client, _ = receiver
        sent = [
            flagger_event("ns", "faulty-app", f"Advance faulty-app.ns canary weight {w}", at_epoch_ms=w)
            for w in (10, 20, 30)
        ]
        assert [client.post("/", json=event).status_code for event in sent] == [202, 202, 202]
        assert client.get("/events").json() == sent
        assert client.get("/events", params={"since": "2"}).json() == sent[2:]

    def test_mirrors_to_a_jsonl_file(self, receiver):
        """Events are also appended to the JSON-lines file, one per line."""
        client, path = receiver
        client.post(
            "/", json=flagger_event("ns", "faulty-app", "Initialization done! faulty-app.ns", at_epoch_ms=1)
        )
        lines = path.read_text().splitlines()
        assert [json.loads(line)["metadata"]["eventMessage"] for line in lines] == [
            "Initialization done! faulty-app.ns"
        ]

    def test_rejects_non_json_and_answers_health(self, receiver):
        """A non-JSON body is a 400 and stores nothing; /healthz answers ok."""
        client, _ = receiver
        assert client.post("/", content=b"not json").status_code == 400
        assert client.get("/events").json() == []
        assert client.get("/healthz").json() == "ok"

    def test_backend_parser_reads_receiver_output(self, receiver):
        """The backend's parser turns the receiver's /events body into CanaryEvents for one Canary."""
        from datetime import UTC, datetime

        client, _ = receiver
        client.post(
            "/",
            json=flagger_event(
                "ns",
                "faulty-app",
                "Canary failed! Scaling down faulty-app.ns",
                at_epoch_ms=1_767_225_660_000,
                phase="Failed",
                warning=True,
            ),
        )
        client.post("/", json=flagger_event("other", "faulty-app", "x", at_epoch_ms=0))
        events, total = parse_events(
            client.get("/events").text,
            namespace="ns",
            name="faulty-app",
            origin=datetime(2026, 1, 1, tzinfo=UTC),
        )
        assert total == 2
        assert [(e.at, e.type, e.phase.value) for e in events] == [(60.0, "Warning", "Failed")]
