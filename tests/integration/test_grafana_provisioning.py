"""Provision the committed datasources, dashboards and alerting resources into a real Grafana through its
HTTP API, then read each one back. Runs only when ``GRAFANA_URL`` is set (with ``GRAFANA_TOKEN``, a
service-account token with admin rights, or ``GRAFANA_USER``/``GRAFANA_PASSWORD``); no Grafana server can
be started by the test setup.

The notification-policy tree is org-wide: the test saves the current tree, installs ours, reads it back
and restores the saved one. Everything else is upserted under llm-soc2's own uids and left in place.
``$__env{...}`` lookups only happen in file provisioning, so the test substitutes them itself
(``LLM_SOC2_*`` / ``PAGERDUTY_INTEGRATION_KEY`` from the environment, or placeholders).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("GRAFANA_URL"), reason="set GRAFANA_URL (and GRAFANA_TOKEN) to run"
    ),
]

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDERS = {
    "LLM_SOC2_PROMETHEUS_URL": "http://prometheus:9090",
    "LLM_SOC2_AUDIT_PG_HOST": "postgres:5432",
    "LLM_SOC2_AUDIT_PG_USER": "llm_soc2_reader",
    "LLM_SOC2_AUDIT_PG_DATABASE": "llm_soc2_audit",
    "LLM_SOC2_AUDIT_PG_SSLMODE": "disable",
    "LLM_SOC2_AUDIT_PG_PASSWORD": "unused-by-this-test",
    "LLM_SOC2_TEMPO_URL": "http://tempo:3200",
    "LLM_SOC2_LOKI_URL": "http://loki:3100",
    "PAGERDUTY_INTEGRATION_KEY": "00000000000000000000000000000000",
}


def expand(value: Any) -> Any:
    """What Grafana's file provisioning does to ``$__env{X}`` and ``$$``."""
    text = json.dumps(value)
    text = re.sub(r"\$__env\{(\w+)\}", lambda m: os.environ.get(m.group(1), PLACEHOLDERS[m.group(1)]), text)
    return json.loads(text.replace("$$", "$"))


def load(relative: str) -> Any:
    return yaml.safe_load((REPO / relative).read_text())


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    url = os.environ["GRAFANA_URL"].rstrip("/")
    headers = {"X-Disable-Provenance": "true"}
    auth: tuple[str, str] | None = None
    if os.environ.get("GRAFANA_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['GRAFANA_TOKEN']}"
    else:
        auth = (os.environ.get("GRAFANA_USER", "admin"), os.environ.get("GRAFANA_PASSWORD", "admin"))
    with httpx.Client(base_url=url, headers=headers, auth=auth, timeout=30) as client:
        health = client.get("/api/health")
        health.raise_for_status()
        yield client


def upsert(client: httpx.Client, create: str, update: str, body: Any, method: str = "PUT") -> httpx.Response:
    response = client.post(create, json=body)
    if response.status_code in (409, 412):  # exists: update it
        response = client.request(method, update, json=body)
    assert response.status_code < 300, f"{create}: {response.status_code} {response.text}"
    return response


def test_datasources_provision_and_read_back(api: httpx.Client) -> None:
    for datasource in expand(load("dashboards/provisioning/datasources.yaml"))["datasources"]:
        upsert(api, "/api/datasources", f"/api/datasources/uid/{datasource['uid']}", datasource)
        got = api.get(f"/api/datasources/uid/{datasource['uid']}").json()
        assert got["type"] == datasource["type"]
        assert got["name"] == datasource["name"]


def test_dashboards_provision_and_read_back(api: httpx.Client) -> None:
    folder = load("dashboards/provisioning/dashboards.yaml")["providers"][0]
    upsert(api, "/api/folders", f"/api/folders/{folder['folderUid']}",
           {"uid": folder["folderUid"], "title": folder["folder"], "overwrite": True})  # fmt: skip
    for path in sorted((REPO / "dashboards" / "llm-soc2").glob("*.json")):
        dashboard = json.loads(path.read_text())
        response = api.post(
            "/api/dashboards/db",
            json={
                "dashboard": dashboard,
                "folderUid": folder["folderUid"],
                "overwrite": True,
                "message": "llm-soc2",
            },
        )
        assert response.status_code == 200, f"{path.name}: {response.text}"
        got = api.get(f"/api/dashboards/uid/{dashboard['uid']}").json()["dashboard"]
        assert got["title"] == dashboard["title"]
        assert [p["id"] for p in got["panels"]] == [p["id"] for p in dashboard["panels"]]
        assert [v["name"] for v in got["templating"]["list"]] == [
            v["name"] for v in dashboard["templating"]["list"]
        ]


def test_alert_rules_provision_and_read_back(api: httpx.Client) -> None:
    folder_uid = load("dashboards/provisioning/dashboards.yaml")["providers"][0]["folderUid"]
    (group,) = load("alert_rules/grafana/rules.yaml")["groups"]
    for rule in group["rules"]:
        body = {key: value for key, value in rule.items() if key not in ("dashboardUid", "panelId")}
        body["annotations"] = {
            **rule["annotations"],
            "__dashboardUid__": rule["dashboardUid"],
            "__panelId__": str(rule["panelId"]),
        }
        body.update({"folderUID": folder_uid, "ruleGroup": group["name"], "orgID": 1})
        upsert(
            api, "/api/v1/provisioning/alert-rules", f"/api/v1/provisioning/alert-rules/{rule['uid']}", body
        )
        got = api.get(f"/api/v1/provisioning/alert-rules/{rule['uid']}").json()
        assert got["title"] == rule["title"]
        assert got["labels"] == rule["labels"]
        assert got["condition"] == rule["condition"]
        assert [q["refId"] for q in got["data"]] == [q["refId"] for q in rule["data"]]
        assert got["annotations"]["summary"] == rule["annotations"]["summary"]
    interval = int(group["interval"].rstrip("m")) * 60
    response = api.get(f"/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group['name']}")
    assert response.status_code == 200, response.text
    body = {**response.json(), "interval": interval}
    response = api.put(f"/api/v1/provisioning/folder/{folder_uid}/rule-groups/{group['name']}", json=body)
    assert response.status_code < 300, response.text


def test_contact_point_and_templates_provision_and_read_back(api: httpx.Client) -> None:
    for template in load("alert_rules/grafana/templates.yaml")["templates"]:
        response = api.put(
            f"/api/v1/provisioning/templates/{template['name']}", json={"template": template["template"]}
        )
        assert response.status_code < 300, response.text
        assert (
            api.get(f"/api/v1/provisioning/templates/{template['name']}").json()["template"]
            == template["template"]
        )
    for point in expand(load("alert_rules/grafana/contact-points.yaml"))["contactPoints"]:
        for receiver in point["receivers"]:
            body = {**receiver, "name": point["name"]}
            upsert(
                api,
                "/api/v1/provisioning/contact-points",
                f"/api/v1/provisioning/contact-points/{receiver['uid']}",
                body,
            )
        got = api.get("/api/v1/provisioning/contact-points", params={"name": point["name"]}).json()
        assert {r["uid"] for r in got} == {r["uid"] for r in point["receivers"]}
        assert got[0]["type"] == "pagerduty"
        assert got[0]["settings"]["severity"] == point["receivers"][0]["settings"]["severity"]


def test_notification_policy_provisions_and_reads_back(api: httpx.Client) -> None:
    saved = api.get("/api/v1/provisioning/policies")
    assert saved.status_code == 200, saved.text
    (policy,) = load("alert_rules/grafana/policies.yaml")["policies"]
    tree = {key: value for key, value in expand(policy).items() if key != "orgId"}
    try:
        response = api.put("/api/v1/provisioning/policies", json=tree)
        assert response.status_code < 300, response.text
        got = api.get("/api/v1/provisioning/policies").json()
        assert got["receiver"] == tree["receiver"]
        assert [r["object_matchers"] for r in got["routes"]] == [r["object_matchers"] for r in tree["routes"]]
    finally:
        restored = api.put("/api/v1/provisioning/policies", json=saved.json())
        assert restored.status_code < 300, restored.text
