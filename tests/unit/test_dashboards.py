"""The Grafana dashboards and their provisioning files, checked structurally (no Grafana server needed).

A real Grafana is exercised by tests/integration/test_grafana_provisioning.py when GRAFANA_URL is set;
the panels' queries run against a real Prometheus and PostgreSQL in tests/integration.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_soc2.provisioning import dashboards, grafana, render_all, stale
from llm_soc2.provisioning.criteria import AREAS, CRITERIA, cited

REPO = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = REPO / "dashboards" / "llm-soc2"
PROVISIONING_DIR = REPO / "dashboards" / "provisioning"

PANEL_TYPES_WITHOUT_QUERIES = {"row", "alertlist", "text"}
DATASOURCE_VARIABLES = {"datasource": grafana.PROMETHEUS_TYPE, "audit_datasource": grafana.POSTGRES_TYPE}


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))}


def provisioned_datasources() -> dict[str, str]:
    data = yaml.safe_load((PROVISIONING_DIR / "datasources.yaml").read_text())
    return {ds["uid"]: ds["type"] for ds in data["datasources"]}


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # collapsed rows keep their panels inside
    return panels


DASHBOARDS = load_dashboards()


def test_committed_dashboards_are_what_the_generator_produces() -> None:
    outdated = [path for path in stale(REPO) if path.startswith("dashboards/")]
    assert not outdated, f"regenerate with `python -m llm_soc2.provisioning`: {outdated}"


def test_no_stray_dashboard_files() -> None:
    generated = {Path(p).name for p in render_all() if p.startswith("dashboards/llm-soc2/")}
    assert set(DASHBOARDS) == generated


def test_the_seven_dashboards_exist() -> None:
    uids = {d["uid"] for d in DASHBOARDS.values()}
    assert uids == {
        "llm-soc2-overview",
        "llm-soc2-security",
        "llm-soc2-operations",
        "llm-soc2-change",
        "llm-soc2-risk",
        "llm-soc2-privacy",
        "llm-soc2-audit",
    }


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_has_the_fields_grafana_needs(name: str) -> None:
    dashboard = DASHBOARDS[name]
    for key in (
        "uid",
        "title",
        "schemaVersion",
        "version",
        "tags",
        "time",
        "templating",
        "annotations",
        "panels",
    ):
        assert key in dashboard, f"{name}: missing {key}"
    assert 39 <= dashboard["schemaVersion"] <= 41
    assert dashboard.get("id") is None, "provisioned dashboards carry no numeric id"
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard["uid"])
    assert name == f"{dashboard['uid']}.json"
    assert "llm-soc2" in dashboard["tags"]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_time_range_is_relative_and_from_is_before_to(name: str) -> None:
    def seconds_ago(value: str) -> int:
        if value == "now":
            return 0
        match = re.fullmatch(r"now-(\d+)([smhdwy])", value)
        assert match, f"{name}: not a relative time: {value}"
        factor = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[match.group(2)]
        return int(match.group(1)) * factor

    time_range = DASHBOARDS[name]["time"]
    assert seconds_ago(time_range["from"]) > seconds_ago(time_range["to"])


def test_no_import_placeholders_anywhere() -> None:
    for name, dashboard in DASHBOARDS.items():
        text = json.dumps(dashboard)
        assert "${DS_" not in text, f"{name}: ${{DS_...}} placeholders only work in the import UI"
        assert "__inputs" not in dashboard
        assert "__requires" not in dashboard


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_ids_are_unique_and_the_grid_is_valid(name: str) -> None:
    panels = all_panels(DASHBOARDS[name])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
    occupied: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] < grid["x"] + grid["w"] <= 24, (name, panel["title"])
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{name}: panel {panel['title']!r} overlaps another"
        occupied |= cells


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_names_the_criterion_it_evidences(name: str) -> None:
    for panel in all_panels(DASHBOARDS[name]):
        if panel["type"] == "row":
            continue
        ids = cited(panel.get("description", ""))
        assert ids, f"{name}: panel {panel['title']!r} has no Trust Services Criterion in its description"
        unknown = [i for i in ids if i not in CRITERIA]
        assert not unknown, f"{name}: panel {panel['title']!r} cites unknown criteria {unknown}"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_datasource_reference_resolves_to_a_provisioned_datasource(name: str) -> None:
    dashboard = DASHBOARDS[name]
    provisioned = provisioned_datasources()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for variable_name, plugin in DATASOURCE_VARIABLES.items():
        if variable_name in variables:
            variable = variables[variable_name]
            assert variable["type"] == "datasource"
            assert variable["query"] == plugin
            assert provisioned.get(variable["current"]["value"]) == plugin, (
                f"{name}: ${variable_name} default"
            )

    def check(ref: dict[str, Any], where: str) -> None:
        uid = ref["uid"]
        if uid == grafana.GRAFANA_UID:
            assert ref["type"] == "grafana"
            return
        match = re.fullmatch(r"\$\{(\w+)\}", uid)
        if match:
            assert match.group(1) in variables, f"{name}: {where} uses undefined ${{{match.group(1)}}}"
            assert DATASOURCE_VARIABLES.get(match.group(1)) == ref["type"], f"{name}: {where}: wrong type"
        else:
            assert provisioned.get(uid) == ref["type"], f"{name}: {where}: {uid} is not provisioned"

    for panel in all_panels(dashboard):
        if panel["type"] in PANEL_TYPES_WITHOUT_QUERIES:
            assert not panel.get("targets"), f"{name}: {panel['title']}"
            continue
        check(panel["datasource"], panel["title"])
        assert panel["targets"], f"{name}: panel {panel['title']!r} has no query"
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), f"{name}: {panel['title']}: duplicate refIds"
        for target in panel["targets"]:
            check(target["datasource"], f"{panel['title']}/{target['refId']}")
            if target["datasource"]["type"] == grafana.PROMETHEUS_TYPE:
                assert target["expr"].strip()
            else:
                assert target["rawSql"].strip()
                assert target["rawQuery"] is True
    for annotation in dashboard["annotations"]["list"]:
        check(annotation["datasource"], f"annotation {annotation['name']}")
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            check(variable["datasource"], f"variable {variable['name']}")


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_variables_filter_service_environment_and_model(name: str) -> None:
    dashboard = DASHBOARDS[name]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    if dashboard["uid"] == dashboards.AUDIT_LOG:
        assert {"audit_datasource", "log_id"} <= set(variables)
        return
    assert {"datasource", "service", "environment", "model"} <= set(variables)
    for variable_name in ("service", "environment", "model"):
        variable = variables[variable_name]
        assert variable["query"].startswith("label_values(")
        assert variable["multi"]
        assert variable["includeAll"]
        assert variable["allValue"] == ".*"
    prometheus_exprs = [
        t["expr"]
        for p in all_panels(dashboard)
        for t in p.get("targets", [])
        if t["datasource"]["type"] == grafana.PROMETHEUS_TYPE and "target_info" in t["expr"]
    ]
    assert prometheus_exprs
    for expr in prometheus_exprs:
        assert "$service" in expr, expr
        assert "$environment" in expr, expr


def test_overview_has_one_status_row_per_area() -> None:
    overview = next(d for d in DASHBOARDS.values() if d["uid"] == dashboards.OVERVIEW)
    rows = [p["title"] for p in overview["panels"] if p["type"] == "row"]
    for area, title in AREAS.items():
        assert f"{area} · {title}" in rows, f"no status row for {area}"


def test_overview_shows_audit_log_integrity() -> None:
    board = dashboards.boards()[dashboards.OVERVIEW]
    for key in (
        "interactions",
        "high_risk_rate",
        "pii_findings",
        "drift_status",
        "firing_alerts",
        "checkpoint_age",
        "writer_backlog",
        "lost_records",
    ):
        assert key in board.ids


def test_audit_dashboard_reads_only_tables_the_reader_role_may_read() -> None:
    audit = next(d for d in DASHBOARDS.values() if d["uid"] == dashboards.AUDIT_LOG)
    readable = {"records", "checkpoints", "keys"}
    for panel in all_panels(audit):
        for target in panel.get("targets", []):
            tables = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b(?!\s*\()", target["rawSql"]))
            tables -= {"r", "s", "c"}  # aliases of sub-queries
            assert tables <= readable, f"{panel['title']}: reads {tables - readable}"
    for variable in audit["templating"]["list"]:
        if variable["type"] == "query":
            assert set(re.findall(r"\bFROM\s+([a-z_]+)", variable["query"])) <= readable


def test_datasources_provisioning() -> None:
    data = yaml.safe_load((PROVISIONING_DIR / "datasources.yaml").read_text())
    assert data["apiVersion"] == 1
    by_uid = {ds["uid"]: ds for ds in data["datasources"]}
    assert set(by_uid) == {grafana.PROMETHEUS_UID, grafana.AUDIT_UID, grafana.TEMPO_UID, grafana.LOKI_UID}
    assert by_uid[grafana.PROMETHEUS_UID]["type"] == "prometheus"
    postgres = by_uid[grafana.AUDIT_UID]
    assert postgres["type"] == "grafana-postgresql-datasource"
    assert "database" in postgres["jsonData"]
    assert "password" in postgres["secureJsonData"]
    assert "database" not in postgres
    assert "password" not in postgres
    assert by_uid[grafana.TEMPO_UID]["type"] == "tempo"
    assert by_uid[grafana.LOKI_UID]["type"] == "loki"
    for ds in data["datasources"]:
        for key in ds:
            assert key in {
                "name",
                "type",
                "uid",
                "access",
                "url",
                "user",
                "isDefault",
                "jsonData",
                "secureJsonData",
                "editable",
                "version",
                "orgId",
                "basicAuth",
            }, key
    # Every cross-link points at a provisioned uid; Grafana's own ${__value.raw} is escaped as $${...}.
    text = (PROVISIONING_DIR / "datasources.yaml").read_text()
    for uid in re.findall(r"datasourceUid: (\S+)", text):
        assert uid in by_uid, uid
    assert "$${__value.raw}" in text
    assert not re.search(r"(?<!\$)\$\{__value", text)


def test_dashboard_provider() -> None:
    data = yaml.safe_load((PROVISIONING_DIR / "dashboards.yaml").read_text())
    provider = data["providers"][0]
    assert data["apiVersion"] == 1
    assert provider["type"] == "file"
    assert provider["options"]["path"]
    assert provider["allowUiUpdates"] is False
    assert provider["disableDeletion"] is True
    assert provider["folder"]
    assert not provider["options"]["foldersFromFilesStructure"]


def test_a_panel_without_a_criterion_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="Trust Services Criterion"):
        grafana.stat("Throughput", "operations per second", [])
