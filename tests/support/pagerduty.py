"""A local HTTP server mimicking the PagerDuty Events API v2 (``POST /v2/enqueue``), recording events.

Like the real API it answers ``202 {"status": "success", "message": "Event processed", "dedup_key": ...}``
to a well-formed event and ``400 {"status": "invalid event", ...}`` when a required field is missing
(``routing_key``, ``event_action``; for triggers ``payload.summary``, ``payload.source`` and a
``payload.severity`` of critical|error|warning|info). Every POST is recorded, valid or not.

Fixture ``fake_pagerduty``: a running :class:`FakePagerDuty`; point Alertmanager's
``pagerduty_configs[].url`` (or Grafana's PagerDuty ``url`` setting) at ``fake.enqueue_url``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")


@dataclass
class ReceivedEvent:
    path: str
    headers: dict[str, str]
    body: Any
    accepted: bool
    errors: list[str] = field(default_factory=list)


def validate(event: Any) -> list[str]:
    """What the Events API v2 would reject in ``event``."""
    if not isinstance(event, dict):
        return ["event is not a JSON object"]
    errors = []
    if not event.get("routing_key"):
        errors.append("routing_key is required")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append(f"event_action must be one of {ACTIONS}")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("payload is required for trigger events")
        else:
            if not payload.get("summary"):
                errors.append("payload.summary is required")
            if not payload.get("source"):
                errors.append("payload.source is required")
            if payload.get("severity") not in SEVERITIES:
                errors.append(f"payload.severity must be one of {SEVERITIES}")
    elif action in ("acknowledge", "resolve") and not event.get("dedup_key"):
        errors.append("dedup_key is required to acknowledge or resolve")
    return errors


class FakePagerDuty:
    def __init__(self) -> None:
        self.events: list[ReceivedEvent] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                    errors = validate(body) if self.path == "/v2/enqueue" else [f"unknown path {self.path}"]
                except ValueError:
                    body, errors = raw.decode(errors="replace"), ["body is not JSON"]
                event = ReceivedEvent(self.path, dict(self.headers), body, not errors, errors)
                with owner._lock:
                    owner.events.append(event)
                if errors:
                    self._reply(
                        400,
                        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
                    )
                    return
                dedup = body.get("dedup_key") or uuid.uuid4().hex
                self._reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.enqueue_url = f"{self.url}/v2/enqueue"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-pagerduty", daemon=True)

    def __enter__(self) -> FakePagerDuty:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self) -> list[ReceivedEvent]:
        with self._lock:
            return list(self.events)

    def wait_for(self, predicate: Callable[[ReceivedEvent], bool], timeout: float) -> ReceivedEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.received():
                if predicate(event):
                    return event
            time.sleep(0.1)
        raise AssertionError(f"no matching PagerDuty event within {timeout}s; received: {self.received()}")


@pytest.fixture
def fake_pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake
