"""``incident sync --pagerduty`` through ``pdpyras`` against a local HTTP server speaking PagerDuty's REST
API (classic pagination, incidents and their log entries)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from llm_soc2.audit import AuditLog
from llm_soc2.errors import SourceError
from llm_soc2.governance import IncidentDesk
from llm_soc2.governance.pagerduty import sync
from llm_soc2.governance.period import parse_period, parse_rfc3339

INCIDENTS = [
    {
        "id": "PABC123",
        "title": "LLM prompt-injection spike",
        "status": "resolved",
        "urgency": "high",
        "created_at": "2026-01-10T10:00:00Z",
        "html_url": "https://example.pagerduty.com/incidents/PABC123",
        "service": {"summary": "support-bot"},
    },
    {
        "id": "PDEF456",
        "title": "Unknown API key in use",
        "status": "acknowledged",
        "urgency": "low",
        "created_at": "2026-01-11T08:00:00Z",
        "service": {"summary": "support-bot"},
    },
]
LOG_ENTRIES = {
    "PABC123": [
        {"type": "trigger_log_entry", "created_at": "2026-01-10T10:00:00Z", "agent": {"summary": "Grafana"}},
        {
            "type": "acknowledge_log_entry",
            "created_at": "2026-01-10T10:04:00Z",
            "agent": {"summary": "Alice"},
        },
        {"type": "resolve_log_entry", "created_at": "2026-01-10T11:00:00Z", "agent": {"summary": "Alice"}},
    ],
    "PDEF456": [
        {"type": "acknowledge_log_entry", "created_at": "2026-01-11T08:30:00Z", "agent": {"summary": "Bob"}},
    ],
}


class FakePagerDuty(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict[str, list[str]], str]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        FakePagerDuty.requests.append((url.path, query, self.headers.get("authorization", "")))
        if self.headers.get("authorization") != "Token token=pd-token":
            self._send(401, {"error": {"message": "Unauthorized"}})
            return
        parts = url.path.strip("/").split("/")
        if parts == ["incidents"]:
            self._send(200, {"incidents": INCIDENTS, "limit": 100, "offset": 0, "more": False, "total": None})
        elif len(parts) == 3 and parts[0] == "incidents" and parts[2] == "log_entries":
            entries = LOG_ENTRIES.get(parts[1], [])
            self._send(200, {"log_entries": entries, "limit": 100, "offset": 0, "more": False, "total": None})
        else:
            self._send(404, {"error": {"message": "Not Found"}})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def pagerduty() -> Iterator[str]:
    FakePagerDuty.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePagerDuty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pagerduty_incidents_are_copied_with_their_times(pagerduty: str, audit_log: AuditLog) -> None:
    desk = IncidentDesk(audit_log, service="support-bot")
    period = parse_period("2026-01-01", "2026-01-31")
    counts = sync(desk, "pd-token", period, api_url=pagerduty)
    assert counts == {"seen": 2, "opened": 2, "acknowledged": 2, "resolved": 1}
    path, query, _ = FakePagerDuty.requests[0]
    assert path == "/incidents"
    assert query["since"] == ["2026-01-01T00:00:00Z"]
    assert query["until"] == ["2026-02-01T00:00:00Z"]

    by_key = {i.dedupe_key: i for i in desk.all().values()}
    resolved = by_key["pagerduty:PABC123"]
    assert resolved.source == "pagerduty"
    assert resolved.opened_at == parse_rfc3339("2026-01-10T10:00:00Z")
    assert resolved.tta_seconds == 240
    assert resolved.ttr_seconds == 3600
    assert resolved.external_id == "PABC123"
    assert resolved.url.endswith("/PABC123")
    assert [(h.event, h.actor) for h in resolved.history] == [
        ("opened", "pagerduty"),
        ("acknowledged", "Alice"),
        ("resolved", "Alice"),
    ]
    assert by_key["pagerduty:PDEF456"].state == "acknowledged"

    again = sync(desk, "pd-token", period, api_url=pagerduty)  # idempotent
    assert again == {"seen": 2, "opened": 0, "acknowledged": 0, "resolved": 0}
    assert len(list(audit_log.records(kinds={"incident"}))) == 5


def test_a_rejected_token_is_a_source_error(pagerduty: str, audit_log: AuditLog) -> None:
    desk = IncidentDesk(audit_log)
    with pytest.raises(SourceError, match="PagerDuty API"):
        sync(desk, "wrong", parse_period("2026-01-01", "2026-01-31"), api_url=pagerduty)


def test_the_sync_command(
    pagerduty: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from llm_soc2.cli import main

    monkeypatch.setenv("LLM_SOC2_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LLM_SOC2_PAGERDUTY_TOKEN", "pd-token")
    monkeypatch.delenv("LLM_SOC2_AUDIT_URL", raising=False)
    argv = [
        "incident",
        "sync",
        "--pagerduty",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--api-url",
        pagerduty,
    ]
    assert main(argv) == 0
    assert (
        "2 incident(s) in the period; recorded 2 opened, 2 acknowledged, 1 resolved"
        in capsys.readouterr().out
    )
    monkeypatch.setenv("LLM_SOC2_PAGERDUTY_TOKEN", "wrong")
    assert main(argv) == 2
    assert "PagerDuty API" in capsys.readouterr().err
