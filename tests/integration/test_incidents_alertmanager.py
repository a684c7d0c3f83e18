"""A real Alertmanager (Debian ``prometheus-alertmanager``) posts its webhook to a real ``llm-soc2 serve``:
the firing alert opens an incident linked to the audit records that triggered it, a person acknowledges it
with the CLI, the resolved notification resolves the same incident, and ``incident list`` shows the
durations. Without the Alertmanager binary the test fails in CI (``CI=true``) and is skipped locally."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from test_serve import LLM_SOC2, TOKEN, Serve, free_port

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings

pytestmark = pytest.mark.integration


def _alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found:
        return found
    message = "Alertmanager is not installed: run `bash tests/setup/system-deps.sh` (Debian prometheus-alertmanager)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class Alertmanager:
    """A private Alertmanager on a free loopback port, clustering off, state in a temporary directory."""

    def __init__(self, base: Path, webhook_url: str, token: str) -> None:
        binary = _alertmanager_binary()
        base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "route": {
                "receiver": "llm-soc2",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "llm-soc2",
                    "webhook_configs": [
                        {
                            "url": webhook_url,
                            "send_resolved": True,
                            "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
                        }
                    ],
                }
            ],
        }
        config_file = base / "alertmanager.yml"
        config_file.write_text(yaml.safe_dump(config))
        check = subprocess.run(
            [shutil.which("amtool") or "amtool", "check-config", str(config_file)],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        self.log = (base / "alertmanager.log").open("w")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.path={base / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = base
        _wait(
            lambda: httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200,
            30,
            "Alertmanager ready",
            self,
        )

    def post(self, alerts: list[dict[str, Any]]) -> None:
        response = httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=5)
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def output(self) -> str:
        return (self.base / "alertmanager.log").read_text()


def _wait(check: Callable[[], bool], timeout: float, what: str, server: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    detail = server.output()[-3000:] if server is not None else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Serve, Alertmanager]]:
    serve = Serve(tmp_path / "data")
    try:
        alertmanager = Alertmanager(tmp_path / "am", f"{serve.url}/api/webhooks/alertmanager", TOKEN)
    except BaseException:
        serve.stop()
        raise
    yield serve, alertmanager
    alertmanager.stop()
    serve.stop()


def _cli(serve: Serve, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LLM_SOC2, *args], env=serve.env, capture_output=True, text=True, timeout=60)


def _incidents(serve: Serve) -> list[dict[str, Any]]:
    """The register through the CLI (a separate process reading the same audit store)."""
    result = _cli(serve, "incident", "list", "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["incidents"])


def _api_incidents(serve: Serve) -> list[dict[str, Any]]:
    with serve.client() as client:
        return list(client.get("/api/incidents").json()["incidents"])


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_alertmanager_webhook_opens_and_resolves_a_linked_incident(stack: tuple[Serve, Alertmanager]) -> None:
    serve, alertmanager = stack
    started = time.time()
    now = datetime.now(tz=UTC)
    # What the processor recorded just before the alert fired: two prompt-injection interactions, one other.
    settings = Settings.from_env(serve.env)
    log = AuditLog.open(settings=settings)
    seqs = log.append(
        [
            AuditRecord(
                kind="interaction",
                time_unix_nano=int((now - timedelta(seconds=40 - i)).timestamp() * 1e9),
                service="support-bot",
                trace_id=f"{i + 1:032x}",
                span_id=f"{i + 1:016x}",
                attributes={
                    sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
                    sc.RISK_CATEGORIES: [category],
                    sc.RISK_LEVEL: "high" if category == "prompt_injection" else "low",
                },
            )
            for i, category in enumerate(("prompt_injection", "refusal", "prompt_injection"))
        ]
    )
    log.close()

    labels = {
        "alertname": "LLMPromptInjection",
        "severity": "critical",
        "llm_soc2_risk_category": "prompt_injection",
    }
    alert = {
        "labels": labels,
        "annotations": {"summary": "Prompt-injection attempts above threshold"},
        "startsAt": _iso(now - timedelta(seconds=10)),
        "generatorURL": "http://prometheus.example/graph",
    }
    alertmanager.post([alert])
    _wait(lambda: len(_api_incidents(serve)) == 1, 30, "the firing notification", alertmanager)
    [incident] = _incidents(serve)
    assert incident["source"] == "alertmanager"
    assert incident["state"] == "open"
    assert incident["title"] == "Prompt-injection attempts above threshold"
    assert incident["severity"] == "critical"
    assert incident["alert_names"] == ["LLMPromptInjection"]
    assert incident["labels"]["llm_soc2_risk_category"] == "prompt_injection"
    assert incident["linked"]["count"] == 2
    assert incident["linked"]["seqs"] == [seqs[0], seqs[2]]
    assert incident["linked"]["trace_ids"] == [f"{1:032x}", f"{3:032x}"]

    time.sleep(1.0)
    ack = _cli(serve, "incident", "ack", incident["id"], "--by", "oncall", "--note", "looking")
    assert ack.returncode == 0, ack.stderr
    time.sleep(1.0)
    alertmanager.post([{**alert, "endsAt": _iso(datetime.now(tz=UTC))}])
    _wait(
        lambda: _api_incidents(serve)[0]["state"] == "resolved", 30, "the resolved notification", alertmanager
    )
    elapsed = time.time() - started

    [incident] = _incidents(serve)
    history = incident["history"]
    assert [(h["event"], h["actor"]) for h in history] == [
        ("opened", "alertmanager"),
        ("acknowledged", "oncall"),
        ("resolved", "alertmanager"),
    ]
    opened, acknowledged, resolved = (h["at_unix_nano"] for h in history)
    assert incident["time_to_acknowledge_seconds"] == pytest.approx((acknowledged - opened) / 1e9)
    assert incident["time_to_resolve_seconds"] == pytest.approx((resolved - opened) / 1e9)
    assert 1.0 <= incident["time_to_acknowledge_seconds"] < incident["time_to_resolve_seconds"] < elapsed

    table = _cli(serve, "incident", "list")
    assert table.returncode == 0
    row = next(line for line in table.stdout.splitlines() if incident["id"] in line)
    assert "resolved" in row
    assert "alertmanager" in row

    # the HTTP API serves the same register
    with serve.client() as client:
        listed = client.get("/api/incidents").json()["incidents"]
    assert [i["id"] for i in listed] == [incident["id"]]
    assert listed[0]["time_to_resolve_seconds"] == incident["time_to_resolve_seconds"]


def test_a_wrong_token_in_alertmanager_is_rejected(tmp_path: Path) -> None:
    serve = Serve(tmp_path / "data")
    alertmanager = Alertmanager(
        tmp_path / "am", f"{serve.url}/api/webhooks/alertmanager", "not-the-token-000000"
    )
    try:
        alertmanager.post([{"labels": {"alertname": "X"}, "startsAt": _iso(datetime.now(tz=UTC))}])
        _wait(lambda: "401" in alertmanager.output(), 30, "Alertmanager to report the 401", alertmanager)
        assert _api_incidents(serve) == []
    finally:
        alertmanager.stop()
        serve.stop()
