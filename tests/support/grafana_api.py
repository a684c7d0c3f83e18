"""A local HTTP server replaying responses written in the shape of Grafana's documented HTTP API.

No Grafana server can run here, so the report's Grafana source is tested against this replay. The
responses under ``tests/testdata/grafana/<scenario>/`` were written by hand after Grafana's HTTP API
documentation (alerting provisioning, ``/api/v1/rules/history`` data frames, annotations, search,
dashboard versions in both the list shape and the newer ``{"versions", "continueToken"}`` shape, service
accounts and tokens, users, org users, teams); they were NOT recorded from a live server. A test against a
real Grafana runs when ``GRAFANA_URL`` is set.

Files map to paths: ``GET /api/v1/provisioning/alert-rules`` is ``api/v1/provisioning/alert-rules.json``.
The server behaves like Grafana where the report depends on it:

* every path but ``/api/health`` needs ``Authorization: Bearer <token>``; a wrong token gets 401 with
  ``{"message": "invalid API key"}``; paths listed in ``forbidden`` get 403;
* search endpoints (``/api/serviceaccounts/search``, ``/api/users/search``, ``/api/teams/search``) page
  their list with ``page``/``perpage``; dashboard versions page with ``limit``/``start`` (list shape) or
  ``limit``/``continueToken`` (object shape) read from the query string;
* strings ``{{end}}``, ``{{end-200d}}``, ``{{end+30d}}``, ``{{end-3h}}`` become ISO times relative to
  ``anchor`` (the end of the test's period), and ``{{end_ms}}``/``{{end_ms-5d}}`` epoch milliseconds, so
  the scenario's ages stay what they are whenever the test runs.

Every request is recorded in ``requests`` (method, path, query) for assertions.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

TESTDATA = Path(__file__).resolve().parent.parent / "testdata" / "grafana"
SCENARIO = TESTDATA / "llm-soc2"
TOKEN = "glsa_replay_token_0123456789abcdef"
PAGED = {
    "/api/serviceaccounts/search": "serviceAccounts",
    "/api/users/search": "users",
    "/api/teams/search": "teams",
}
_PLACEHOLDER = re.compile(r"\{\{end(_ms)?(?:([+-])(\d+)([dhm]))?\}\}")
_UNITS = {"d": 86400, "h": 3600, "m": 60}


def expand(value: Any, anchor: datetime) -> Any:
    """Replace the ``{{end...}}`` placeholders of a loaded JSON value."""
    if isinstance(value, dict):
        return {k: expand(v, anchor) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, anchor) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value

    def moment(match: re.Match[str]) -> tuple[datetime, bool]:
        millis, sign, amount, unit = match.groups()
        delta = timedelta(seconds=int(amount) * _UNITS[unit]) if amount else timedelta(0)
        return (anchor - delta if sign == "-" else anchor + delta), bool(millis)

    whole = _PLACEHOLDER.fullmatch(value)
    if whole:
        when, millis = moment(whole)
        if millis:
            return int(when.timestamp() * 1000)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def text(match: re.Match[str]) -> str:
        when, millis = moment(match)
        return str(int(when.timestamp() * 1000)) if millis else when.strftime("%Y-%m-%dT%H:%M:%SZ")

    return _PLACEHOLDER.sub(text, value)


class GrafanaReplay:
    """The replay server; ``url`` is its base URL (use it as GRAFANA_URL / --grafana-url)."""

    def __init__(
        self,
        scenario: Path = SCENARIO,
        *,
        anchor: datetime | None = None,
        token: str = TOKEN,
        forbidden: frozenset[str] = frozenset(),
    ) -> None:
        self.scenario = scenario
        self.anchor = anchor or datetime.now(UTC)
        self.token = token
        self.forbidden = forbidden
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                replay.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GrafanaReplay:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def load(self, path: str) -> Any:
        file = self.scenario / (path.strip("/") + ".json")
        if not file.is_file():
            return None
        return expand(json.loads(file.read_text()), self.anchor)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        path = parts.path.rstrip("/")
        self.requests.append(("GET", path, query))
        if path != "/api/health" and request.headers.get("Authorization") != f"Bearer {self.token}":
            return self.send(request, 401, {"message": "invalid API key"})
        if path in self.forbidden:
            return self.send(
                request, 403, {"message": "You'll need additional permissions to perform this action."}
            )
        body = self.load(path)
        if body is None:
            return self.send(request, 404, {"message": "Not found"})
        if path in PAGED:
            body = self.page(body, PAGED[path], query)
        elif path.endswith("/versions"):
            body = self.versions(body, query)
        return self.send(request, 200, body)

    @staticmethod
    def page(body: dict[str, Any], key: str, query: dict[str, list[str]]) -> dict[str, Any]:
        items = body[key]
        per_page = int(query.get("perpage", ["1000"])[0])
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        return {**body, key: chunk, "totalCount": len(items), "page": page, "perPage": per_page}

    @staticmethod
    def versions(body: Any, query: dict[str, list[str]]) -> Any:
        limit = int(query.get("limit", ["0"])[0]) or None
        if isinstance(body, list):  # Grafana <= 10: a list paged with start
            start = int(query.get("start", ["0"])[0])
            return body[start : start + limit if limit else None]
        items = body["versions"]  # Grafana 11+: continueToken is the next offset here
        start = int(query.get("continueToken", ["0"])[0] or 0)
        end = start + limit if limit else len(items)
        return {"versions": items[start:end], "continueToken": str(end) if end < len(items) else ""}

    @staticmethod
    def send(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


@pytest.fixture
def grafana_replay() -> Iterator[GrafanaReplay]:
    """A replay of the ``llm-soc2`` scenario anchored at now (tests that need another anchor build
    their own ``GrafanaReplay``)."""
    with GrafanaReplay() as replay:
        yield replay
