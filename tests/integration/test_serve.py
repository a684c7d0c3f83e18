"""``llm-soc2 serve`` as a real process (uvicorn on a free port): authentication, limits, bad requests."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "test-token-0123456789abcdef"
SECRET_KEY_HEX = "5a" * 32
LLM_SOC2 = str(Path(sys.executable).parent / "llm-soc2")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SOC2_", "OTEL_"))}
    env.update(
        {
            "LLM_SOC2_DATA_DIR": str(data_dir),
            "LLM_SOC2_SECRET_KEY": SECRET_KEY_HEX,
            "OTEL_SERVICE_NAME": "llm-soc2-serve",
            "OTEL_SDK_DISABLED": "true",
        }
    )
    env.update(extra)
    return env


class Serve:
    """A running ``llm-soc2 serve``."""

    def __init__(self, data_dir: Path, *args: str, token: str | None = TOKEN, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        extra = {"LLM_SOC2_SERVE_TOKEN": token} if token else {}
        self.env = serve_env(data_dir, **extra, **env)
        self.process = subprocess.Popen(
            [LLM_SOC2, "serve", "--port", str(self.port), *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"llm-soc2 serve exited: {self.process.stderr.read() if self.process.stderr else ''}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("llm-soc2 serve did not come up within 30 s")
            time.sleep(0.1)

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read() if self.process.stderr else ""


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    running = Serve(tmp_path_factory.mktemp("serve") / "data", "--max-body", "4096")
    yield running
    running.stop()


def alertmanager_payload(status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="LLMHighRisk"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "llm-soc2",
        "groupLabels": {"alertname": "LLMHighRisk"},
        "commonLabels": {"alertname": "LLMHighRisk", "severity": "critical"},
        "commonAnnotations": {"summary": "High-risk interactions"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "LLMHighRisk", "severity": "critical"},
                "annotations": {},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "c6eadffa33fcdf37",
            }
        ],
    }


def test_health_needs_no_token_and_says_only_ok(serve: Serve) -> None:
    response = httpx.get(f"{serve.url}/healthz")
    assert response.status_code == 200
    assert response.text == "ok"
    assert "server" not in response.headers


def test_everything_else_needs_the_token(serve: Serve) -> None:
    anonymous = serve.client(token=None)
    for method, path in (("GET", "/api/incidents"), ("POST", "/api/webhooks/alertmanager"), ("GET", "/nope")):
        response = anonymous.request(method, path)
        assert response.status_code == 401, path
        assert response.json() == {"error": "missing or invalid credentials"}
        assert "Bearer" in response.headers["www-authenticate"]
    assert serve.client(token="wrong-token-0123456789abcdef").get("/api/incidents").status_code == 401
    assert serve.client(token=TOKEN[:-1]).get("/api/incidents").status_code == 401
    basic = base64.b64encode(f"auditor:{TOKEN}".encode()).decode()
    assert anonymous.get("/api/incidents", headers={"authorization": f"Basic {basic}"}).status_code == 200
    assert serve.client().get("/api/incidents").status_code == 200


def test_unknown_paths_404_and_wrong_methods_405(serve: Serve) -> None:
    client = serve.client()
    assert client.get("/nope").status_code == 404
    response = client.get("/api/webhooks/alertmanager")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert client.delete("/api/incidents").status_code == 405
    assert client.get("/reports/../../etc/passwd").status_code == 404
    assert client.get("/reports/nope/index.html").status_code == 404
    assert client.get("/api/incidents/INC-nope").status_code == 404


def test_malformed_bodies_get_400_with_the_reason(serve: Serve) -> None:
    client = serve.client()
    path = "/api/webhooks/alertmanager"
    response = client.post(path, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    response = client.post(path, json={**alertmanager_payload(), "version": "3"})
    assert response.status_code == 400
    assert "version" in response.json()["error"]
    response = client.post(path, json={**alertmanager_payload(), "alerts": []})
    assert response.status_code == 400
    assert client.post(path, content=b"a=b", headers={"content-type": "text/plain"}).status_code == 415
    assert client.get("/api/incidents", params={"from": "yesterday"}).status_code == 400
    assert client.get("/api/incidents", params={"state": "sleeping"}).status_code == 400


def test_oversized_bodies_get_413(serve: Serve) -> None:
    client = serve.client()
    path = "/api/webhooks/alertmanager"
    big = b'{"x":"' + b"a" * 5000 + b'"}'
    response = client.post(path, content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for _ in range(10):
            yield b" " * 1000

    response = client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_webhook_opens_an_incident_that_the_api_lists(serve: Serve) -> None:
    client = serve.client()
    response = client.post("/api/webhooks/alertmanager", json=alertmanager_payload())
    assert response.status_code == 200
    body = response.json()
    assert body["event"] == "opened"
    assert (
        client.post("/api/webhooks/alertmanager", json=alertmanager_payload()).json()["event"] == "unchanged"
    )
    incidents = client.get("/api/incidents").json()["incidents"]
    assert [i["id"] for i in incidents] == [body["incident"]]
    assert client.get(f"/api/incidents/{body['incident']}").json()["state"] == "open"
    grafana = {**alertmanager_payload(), "version": "1", "orgId": 1, "groupKey": '{}/{}:{alertname="G"}'}
    response = client.post("/api/webhooks/grafana", json={**grafana, "title": "[FIRING:1] G"})
    assert response.status_code == 200
    assert response.json()["event"] == "opened"
    sources = sorted(i["source"] for i in client.get("/api/incidents").json()["incidents"])
    assert sources == ["alertmanager", "grafana"]


def test_browser_posts_from_another_site_are_refused(serve: Serve) -> None:
    basic = base64.b64encode(f"x:{TOKEN}".encode()).decode()
    response = httpx.post(
        f"{serve.url}/api/report",
        headers={
            "authorization": f"Basic {basic}",
            "origin": "https://evil.example",
            "sec-fetch-site": "cross-site",
        },
    )
    assert response.status_code == 403


def test_the_report_page_is_served_with_the_period(serve: Serve) -> None:
    response = serve.client().get("/report", params={"from": "1750000000000", "to": "1750086400000"})
    assert response.status_code == 200
    assert "2025-06-15T15:06:40Z" in response.text
    assert "form-action 'self'" in response.headers["content-security-policy"]


def _start_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *args: str,
    token: str = "",
) -> str:
    """The serve command's own checks, run in process (they come before uvicorn starts)."""
    from llm_soc2.cli import main

    for name in list(os.environ):
        if name.startswith(("LLM_SOC2_", "OTEL_")):
            monkeypatch.delenv(name)
    for name, value in serve_env(tmp_path / "data", LLM_SOC2_SERVE_TOKEN=token).items():
        if name.startswith(("LLM_SOC2_", "OTEL_")):
            monkeypatch.setenv(name, value)
    assert main(["serve", "--port", str(free_port()), *args]) == 2
    return capsys.readouterr().err


def test_it_refuses_to_start_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails(*args: str, token: str = "") -> str:
        return _start_fails(monkeypatch, capsys, tmp_path, *args, token=token)

    assert "refusing to serve without a token" in fails()
    assert "at least 16 characters" in fails(token="short")
    assert "only allowed on a loopback address" in fails("--insecure-local", "--host", "0.0.0.0")
    assert "audit" in fails("--audit-url", "mysql://nowhere", token=TOKEN)
    assert "not a TCP port" in fails("--port", "70000", token=TOKEN)


def test_insecure_local_serves_on_loopback_without_a_token(tmp_path: Path) -> None:
    running = Serve(tmp_path / "data", "--insecure-local", token=None)
    try:
        assert httpx.get(f"{running.url}/api/incidents").status_code == 200
    finally:
        stderr = running.stop()
    assert "no token" in stderr


def test_the_report_is_generated_and_served(serve: Serve) -> None:
    client = serve.client()
    client.post("/api/webhooks/alertmanager", json=alertmanager_payload())  # the period holds records
    response = client.post("/api/report", params={"from": "now-1d", "to": "now"}, timeout=600)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["summary"]["verified"] is True
    assert {"index.html", "manifest.json", "report.json"} <= set(body["files"])
    index = client.get(body["url"])
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert client.get(f"{body['url']}report.json").status_code == 200
    assert httpx.get(f"{serve.url}{body['url']}report.json").status_code == 401
