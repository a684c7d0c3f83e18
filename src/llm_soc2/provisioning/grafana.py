"""Grafana building blocks: datasource uids, the provisioning files, and panel/variable constructors.

Dashboards refer to datasources through datasource variables (``${datasource}``, ``${audit_datasource}``)
whose default is the uid provisioned here, so a user with an existing Prometheus can switch to it without
editing JSON. Alert rules need a concrete uid and use the provisioned ones.
"""

from __future__ import annotations

from typing import Any, Final

from llm_soc2.provisioning.criteria import cited

SCHEMA_VERSION: Final = 39  # Grafana 10.4 / 11.0; later versions migrate on load

PROMETHEUS_UID: Final = "llm-soc2-prometheus"
AUDIT_UID: Final = "llm-soc2-audit"
TEMPO_UID: Final = "llm-soc2-tempo"
LOKI_UID: Final = "llm-soc2-loki"
EXPRESSION_UID: Final = "__expr__"
GRAFANA_UID: Final = "-- Grafana --"

PROMETHEUS_TYPE: Final = "prometheus"
POSTGRES_TYPE: Final = "grafana-postgresql-datasource"

PROM: Final = {"type": PROMETHEUS_TYPE, "uid": "${datasource}"}
AUDIT: Final = {"type": POSTGRES_TYPE, "uid": "${audit_datasource}"}

FOLDER: Final = "LLM SOC 2 evidence"
DASHBOARD_PATH: Final = "/var/lib/grafana/dashboards/llm-soc2"
TAGS: Final = ["llm-soc2", "soc2"]

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Provisioning files
# --------------------------------------------------------------------------------------------------
def datasources() -> Json:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus (llm-soc2)",
                "type": PROMETHEUS_TYPE,
                "uid": PROMETHEUS_UID,
                "access": "proxy",
                "url": "$__env{LLM_SOC2_PROMETHEUS_URL}",
                "isDefault": False,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": "15s", "prometheusType": "Prometheus"},
            },
            {
                "name": "Audit log (llm-soc2)",
                "type": POSTGRES_TYPE,
                "uid": AUDIT_UID,
                "access": "proxy",
                "url": "$__env{LLM_SOC2_AUDIT_PG_HOST}",
                "user": "$__env{LLM_SOC2_AUDIT_PG_USER}",
                "editable": False,
                "jsonData": {
                    "database": "$__env{LLM_SOC2_AUDIT_PG_DATABASE}",
                    "sslmode": "$__env{LLM_SOC2_AUDIT_PG_SSLMODE}",
                    "postgresVersion": 1500,
                    "timescaledb": False,
                    "maxOpenConns": 5,
                },
                "secureJsonData": {"password": "$__env{LLM_SOC2_AUDIT_PG_PASSWORD}"},
            },
            {
                "name": "Tempo (llm-soc2)",
                "type": "tempo",
                "uid": TEMPO_UID,
                "access": "proxy",
                "url": "$__env{LLM_SOC2_TEMPO_URL}",
                "editable": False,
                "jsonData": {
                    "tracesToLogsV2": {"datasourceUid": LOKI_UID, "filterByTraceID": True},
                    "tracesToMetrics": {"datasourceUid": PROMETHEUS_UID},
                    "serviceMap": {"datasourceUid": PROMETHEUS_UID},
                    "nodeGraph": {"enabled": True},
                },
            },
            {
                "name": "Loki (llm-soc2)",
                "type": "loki",
                "uid": LOKI_UID,
                "access": "proxy",
                "url": "$__env{LLM_SOC2_LOKI_URL}",
                "editable": False,
                "jsonData": {
                    "derivedFields": [
                        {
                            "name": "trace_id",
                            "matcherType": "label",
                            "matcherRegex": "trace_id",
                            "datasourceUid": TEMPO_UID,
                            "url": "$${__value.raw}",
                        }
                    ]
                },
            },
        ],
    }


def dashboard_provider() -> Json:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "llm-soc2",
                "orgId": 1,
                "type": "file",
                "folder": FOLDER,
                "folderUid": "llm-soc2",
                "disableDeletion": True,
                "allowUiUpdates": False,  # provisioned dashboards stay as reviewed (evidence integrity)
                "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARD_PATH, "foldersFromFilesStructure": False},
            }
        ],
    }


# --------------------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------------------
def datasource_variable(name: str, label: str, plugin: str, default_uid: str, default_text: str) -> Json:
    return {
        "name": name,
        "label": label,
        "type": "datasource",
        "query": plugin,
        "current": {"selected": False, "text": default_text, "value": default_uid},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def query_variable(
    name: str, label: str, query: str, datasource: Json, *, all_value: str | None = ".*"
) -> Json:
    variable: Json = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": datasource,
        "query": query,
        "definition": query,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "includeAll": True,
        "multi": True,
        "options": [],
        "refresh": 2,  # on time-range change
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
    }
    if all_value is not None:
        variable["allValue"] = all_value
    return variable


# --------------------------------------------------------------------------------------------------
# Targets and panels
# --------------------------------------------------------------------------------------------------
def prom_target(
    expr: str, legend: str = "", *, ref: str = "A", instant: bool = False, table: bool = False
) -> Json:
    target: Json = {
        "refId": ref,
        "datasource": PROM,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
    }
    if table:
        target["format"] = "table"
    return target


def sql_target(sql: str, *, ref: str = "A", fmt: str = "table") -> Json:
    return {
        "refId": ref,
        "datasource": AUDIT,
        "editorMode": "code",
        "format": fmt,
        "rawQuery": True,
        "rawSql": sql,
    }


def _thresholds(red_at: float | None, amber_at: float | None = None, *, invert: bool = False) -> Json:
    if red_at is None:
        return {"mode": "absolute", "steps": [{"color": "text", "value": None}]}
    if invert:  # low is bad (ratios): red below red_at, amber below amber_at (> red_at), else green
        steps: list[Json] = [{"color": "red", "value": None}]
        if amber_at is not None:
            steps += [{"color": "orange", "value": red_at}, {"color": "green", "value": amber_at}]
        else:
            steps.append({"color": "green", "value": red_at})
        return {"mode": "absolute", "steps": steps}
    steps = [{"color": "green", "value": None}]
    if amber_at is not None:
        steps.append({"color": "orange", "value": amber_at})
    steps.append({"color": "red", "value": red_at})
    return {"mode": "absolute", "steps": steps}


def _check_description(title: str, description: str) -> str:
    if not cited(description):
        raise ValueError(
            f"panel {title!r}: the description must name the Trust Services Criterion it evidences"
        )
    return description


def stat(
    title: str,
    description: str,
    targets: list[Json],
    *,
    unit: str = "short",
    red_at: float | None = 1,
    amber_at: float | None = None,
    invert: bool = False,
    mappings: list[Json] | None = None,
    decimals: int | None = None,
    datasource: Json = PROM,
) -> Json:
    defaults: Json = {
        "unit": unit,
        "thresholds": _thresholds(red_at, amber_at, invert=invert),
        "mappings": mappings or [],
        "color": {"mode": "thresholds"},
    }
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat",
        "title": title,
        "description": _check_description(title, description),
        "datasource": datasource,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background" if red_at is not None else "none",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
        },
    }


def timeseries(
    title: str,
    description: str,
    targets: list[Json],
    *,
    unit: str = "short",
    stacked: bool = False,
    bars: bool = False,
    datasource: Json = PROM,
) -> Json:
    return {
        "type": "timeseries",
        "title": title,
        "description": _check_description(title, description),
        "datasource": datasource,
        "targets": targets,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "color": {"mode": "palette-classic"},
                "custom": {
                    "drawStyle": "bars" if bars else "line",
                    "fillOpacity": 60 if bars else 10,
                    "lineWidth": 1,
                    "showPoints": "never",
                    "spanNulls": False,
                    "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
                },
                "thresholds": _thresholds(None),
            },
            "overrides": [],
        },
        "options": {
            "legend": {
                "displayMode": "table",
                "placement": "bottom",
                "showLegend": True,
                "calcs": ["max", "lastNotNull"],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def table(
    title: str,
    description: str,
    targets: list[Json],
    *,
    unit: str = "short",
    datasource: Json = PROM,
    hide: tuple[str, ...] = ("Time",),
    links: list[Json] | None = None,
) -> Json:
    overrides: list[Json] = []
    if links:
        overrides = links
    return {
        "type": "table",
        "title": title,
        "description": _check_description(title, description),
        "datasource": datasource,
        "targets": targets,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": _thresholds(None), "custom": {"align": "auto"}},
            "overrides": overrides,
        },
        "options": {"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"]}},
        "transformations": [
            {"id": "organize", "options": {"excludeByName": dict.fromkeys(hide, True), "renameByName": {}}}
        ],
    }


def bargauge(title: str, description: str, targets: list[Json], *, unit: str = "short") -> Json:
    return {
        "type": "bargauge",
        "title": title,
        "description": _check_description(title, description),
        "datasource": PROM,
        "targets": targets,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": _thresholds(None), "color": {"mode": "palette-classic"}},
            "overrides": [],
        },
        "options": {
            "displayMode": "basic",
            "orientation": "horizontal",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showUnfilled": True,
        },
    }


def piechart(title: str, description: str, targets: list[Json]) -> Json:
    return {
        "type": "piechart",
        "title": title,
        "description": _check_description(title, description),
        "datasource": PROM,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": "short", "color": {"mode": "palette-classic"}}, "overrides": []},
        "options": {
            "pieType": "donut",
            "legend": {"displayMode": "table", "placement": "right", "showLegend": True, "values": ["value"]},
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "tooltip": {"mode": "single"},
        },
    }


def alertlist(title: str, description: str, label_filter: str) -> Json:
    return {
        "type": "alertlist",
        "title": title,
        "description": _check_description(title, description),
        "options": {
            "viewMode": "list",
            "groupMode": "default",
            "groupBy": [],
            "maxItems": 20,
            "sortOrder": 1,
            "dashboardAlerts": False,
            "alertName": "",
            "alertInstanceLabelFilter": label_filter,
            "datasource": "grafana",
            "stateFilter": {"firing": True, "pending": True, "noData": False, "normal": False, "error": True},
        },
    }


def value_mappings(mapping: dict[str, tuple[str, str]]) -> list[Json]:
    """``{"0": ("No drift", "green")}`` -> Grafana value mappings."""
    options = {
        value: {"text": text, "color": color, "index": i}
        for i, (value, (text, color)) in enumerate(mapping.items())
    }
    return [{"type": "value", "options": options}]


class Board:
    """A dashboard under construction: panels are placed left to right in rows of 24 columns."""

    def __init__(
        self, uid: str, title: str, description: str, variables: list[Json], *, time_from: str = "now-24h"
    ) -> None:
        self.uid = uid
        self.title = title
        self.description = description
        self.variables = variables
        self.time_from = time_from
        self.panels: list[Json] = []
        self.ids: dict[str, int] = {}
        self._next_id = 1
        self._x = 0
        self._y = 0
        self._row_height = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "type": "row",
                "title": title,
                "id": self._take_id(),
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self._y},
                "panels": [],
            }
        )
        self._y += 1

    def add(self, key: str, panel: Json, *, w: int = 12, h: int = 8) -> None:
        if key in self.ids:
            raise ValueError(f"{self.uid}: duplicate panel key {key}")
        if self._x + w > 24:
            self._newline()
        panel = {"id": self._take_id(), **panel, "gridPos": {"h": h, "w": w, "x": self._x, "y": self._y}}
        self.ids[key] = panel["id"]
        self.panels.append(panel)
        self._x += w
        self._row_height = max(self._row_height, h)

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_height
        self._x = 0
        self._row_height = 0

    def _take_id(self) -> int:
        panel_id = self._next_id
        self._next_id += 1
        return panel_id

    def build(self) -> Json:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": TAGS,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "editable": False,
            "graphTooltip": 1,
            "timezone": "utc",
            "refresh": "1m",
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "links": [
                {
                    "title": "SOC 2 dashboards",
                    "type": "dashboards",
                    "tags": ["llm-soc2"],
                    "asDropdown": True,
                    "includeVars": True,
                    "keepTime": True,
                    "icon": "external link",
                    "targetBlank": False,
                    "tooltip": "",
                    "url": "",
                }
            ],
            "annotations": {
                "list": [
                    {
                        "builtIn": 1,
                        "datasource": {"type": "grafana", "uid": GRAFANA_UID},
                        "enable": True,
                        "hide": True,
                        "iconColor": "rgba(0, 211, 255, 1)",
                        "name": "Annotations & Alerts",
                        "type": "dashboard",
                    },
                    {
                        "datasource": {"type": "grafana", "uid": GRAFANA_UID},
                        "enable": True,
                        "hide": False,
                        "iconColor": "purple",
                        "name": "llm-soc2 events (checkpoints, changes, drift)",
                        "target": {"limit": 100, "matchAny": True, "tags": ["llm-soc2"], "type": "tags"},
                    },
                ]
            },
            "templating": {"list": self.variables},
            "panels": self.panels,
        }
