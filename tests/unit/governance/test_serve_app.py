"""The HTTP application in process (Starlette's TestClient, lifespan included): report generation and
serving a bundle, with a stand-in generator; the real process is tested in tests/integration/test_serve.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from llm_soc2.config import Settings
from llm_soc2.governance.period import Period, format_ns
from llm_soc2.serve import ServeConfig, create_app
from llm_soc2.serve.auth import check_token

TOKEN = "unit-test-token-0123456789"
HEADERS = {"authorization": f"Bearer {TOKEN}"}


class Generator:
    def __init__(self) -> None:
        self.calls: list[Period] = []

    def __call__(self, period: Period, out_dir: Path, config: ServeConfig) -> dict[str, Any]:
        self.calls.append(period)
        (out_dir / "evidence").mkdir(parents=True)
        (out_dir / "index.html").write_text("<h1>report</h1>")
        (out_dir / "evidence" / "cc6.json").write_text('{"ok": true}')
        return {"verified": True}


@pytest.fixture
def generator() -> Generator:
    return Generator()


@pytest.fixture
def client(settings: Settings, tmp_path: Path, generator: Generator) -> Iterator[TestClient]:
    config = ServeConfig(
        settings=settings, token=check_token(TOKEN), reports_dir=tmp_path / "reports", generator=generator
    )
    with TestClient(create_app(config), base_url="http://llm-soc2.test") as test_client:
        yield test_client


def test_a_report_is_generated_for_the_period_and_served(client: TestClient, generator: Generator) -> None:
    response = client.post("/api/report?from=2025-01-01&to=2025-06-30", headers=HEADERS)
    assert response.status_code == 201
    body = response.json()
    assert body["files"] == ["evidence/cc6.json", "index.html"]
    assert body["summary"] == {"verified": True}
    assert body["period"] == {"from": "2025-01-01T00:00:00Z", "to": "2025-07-01T00:00:00Z"}
    [period] = generator.calls
    assert format_ns(period.start) == "2025-01-01T00:00:00Z"
    index = client.get(body["url"], headers=HEADERS)
    assert index.status_code == 200
    assert index.text == "<h1>report</h1>"
    assert "script-src 'none'" in index.headers["content-security-policy"]
    assert client.get(f"{body['url']}evidence/cc6.json", headers=HEADERS).json() == {"ok": True}
    assert client.get(f"{body['url']}evidence/cc6.json").status_code == 401
    assert client.get(f"{body['url']}../../secret.key", headers=HEADERS).status_code == 404
    assert client.get(f"{body['url']}%2e%2e/%2e%2e/secret.key", headers=HEADERS).status_code == 404


def test_the_browser_form_redirects_to_the_report(client: TestClient) -> None:
    import base64

    basic = base64.b64encode(f"me:{TOKEN}".encode()).decode()
    headers = {
        "authorization": f"Basic {basic}",
        "accept": "text/html",
        "origin": "http://llm-soc2.test",
        "sec-fetch-site": "same-origin",
        "content-type": "application/x-www-form-urlencoded",
    }
    response = client.post("/api/report?from=now-7d&to=now", headers=headers, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/reports/")
    cross = {**headers, "origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    assert client.post("/api/report", headers=cross).status_code == 403


def test_bad_periods_and_bodies_are_rejected(client: TestClient) -> None:
    assert client.post("/api/report?from=2025-02-01&to=2025-01-01", headers=HEADERS).status_code == 400
    response = client.post(
        "/api/report", headers={**HEADERS, "content-type": "application/json"}, content=b"x" * 5000
    )
    assert response.status_code == 413


def test_without_the_report_module_generation_is_unavailable(settings: Settings, tmp_path: Path) -> None:
    def missing(period: Period, out_dir: Path, config: ServeConfig) -> None:
        raise LookupError("llm_soc2.report.generate is not available in this version")

    config = ServeConfig(
        settings=settings, token=check_token(TOKEN), reports_dir=tmp_path / "r", generator=missing
    )
    with TestClient(create_app(config)) as test_client:
        response = test_client.post("/api/report", headers=HEADERS)
    assert response.status_code == 503
    assert "unavailable" in response.json()["error"]


def test_tokens_must_be_long_and_printable() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        check_token("short")
    with pytest.raises(ValueError, match="whitespace"):
        check_token("a token with spaces in it")
