"""Render :data:`alerts.ALERTS` as Prometheus rules + promtool tests + an Alertmanager example, and as
Grafana alerting provisioning (rule group, PagerDuty contact point, notification policy, templates).

Both paths page PagerDuty through the Events API v2 with the same alert names, labels (``severity``,
``soc2_criterion``), summary, description, runbook and dashboard links.

Escaping: Grafana expands ``$VAR``, ``${VAR}`` and ``$__env{VAR}`` in rule *labels*, contact-point
settings and policies (``$$`` is a literal ``$``), but not in annotations or message templates. So the
Go templates that need ``$labels`` / ``$values`` live only in annotations, and labels, settings and
policies contain no ``$`` other than the ``$__env{PAGERDUTY_INTEGRATION_KEY}`` lookup.
"""

from __future__ import annotations

import re
from typing import Any, Final

from llm_soc2.provisioning import dashboards, grafana
from llm_soc2.provisioning.alerts import (
    ALERTS,
    Alert,
    Case,
    target_info,
)
from llm_soc2.provisioning.criteria import describe

Json = dict[str, Any]

GROUP: Final = "llm-soc2"
EVALUATION_INTERVAL: Final = "1m"
RULES_FILE: Final = "llm-soc2.rules.yml"
RECEIVER: Final = "llm-soc2-pagerduty"
GRAFANA_URL: Final = "http://localhost:3000"  # the Grafana the Alertmanager example links to
PAGERDUTY_KEY_FILE: Final = "/etc/alertmanager/secrets/pagerduty_integration_key"
TEMPLATE_FILE: Final = "/etc/alertmanager/templates/llm-soc2.tmpl"
ROUTING_LABELS: Final = ("alertname", "service_name")

PROMETHEUS_VALUE: Final = {
    "number": "{{ $value | humanize }}",
    "percent": "{{ $value | humanizePercentage }}",
    "duration": "{{ $value | humanizeDuration }}",
}
GRAFANA_VALUE: Final = {
    "number": "{{ humanize $values.B.Value }}",
    "percent": "{{ humanizePercentage $values.B.Value }}",
    "duration": "{{ humanizeDuration $values.B.Value }}",
}


def dashboard_path(alert: Alert) -> str:
    return f"/d/{alert.dashboard}?viewPanel={dashboards.panel_id(alert.dashboard, alert.panel)}"


def _description(alert: Alert) -> str:
    criteria = ", ".join(describe(c) for c in (alert.criterion, *alert.also))
    return f"{alert.description}\nTrust Services Criteria: {criteria}."


def _labels(alert: Alert) -> dict[str, str]:
    return {"severity": alert.severity, "soc2_criterion": alert.criterion}


# --------------------------------------------------------------------------------------------------
# Prometheus
# --------------------------------------------------------------------------------------------------
def prometheus_annotations(alert: Alert) -> dict[str, str]:
    return {
        "summary": alert.summary.replace("{value}", PROMETHEUS_VALUE[alert.value_format]),
        "description": _description(alert),
        "runbook_url": alert.runbook_url,
        "dashboard_path": dashboard_path(alert),
    }


def prometheus_rules() -> Json:
    rules = []
    for alert in ALERTS:
        rules.append(
            {
                "alert": alert.name,
                "expr": alert.expr,
                "for": alert.for_,
                "labels": _labels(alert),
                "annotations": prometheus_annotations(alert),
            }
        )
    return {"groups": [{"name": GROUP, "interval": EVALUATION_INTERVAL, "rules": rules}]}


_LABEL_REF = re.compile(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}")


def render_expected(template: str, labels: dict[str, str], value: str) -> str:
    """What Prometheus renders for our restricted annotation templates (``$labels.x`` and the value)."""
    text = _LABEL_REF.sub(lambda m: labels.get(m.group(1), ""), template)
    return text.replace("{value}", value)


def _case_test(alert: Alert, case: Case) -> Json:
    series = [{"series": target_info(case.environment), "values": "1x500"}]
    series += [{"series": selector, "values": values} for selector, values in case.series]
    expected = []
    for item in case.expect:
        labels = {k: v for k, v in item.items() if k != "value"}
        value = item.get("value", "")
        annotations = {
            "summary": render_expected(alert.summary, labels, value),
            "description": render_expected(_description(alert), labels, value),
            "runbook_url": alert.runbook_url,
            "dashboard_path": dashboard_path(alert),
        }
        expected.append({"exp_labels": {**labels, **_labels(alert)}, "exp_annotations": annotations})
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": case.eval_time, "alertname": alert.name, "exp_alerts": expected}],
    }


def promtool_tests() -> Json:
    """``promtool test rules`` input: for every alert, its bad case fires and its good case is silent."""
    tests = []
    for alert in ALERTS:
        if not alert.bad.expect:
            raise ValueError(f"{alert.name}: the bad case must expect at least one alert")
        if alert.good.expect:
            raise ValueError(f"{alert.name}: the good case must expect no alert")
        tests.append(_case_test(alert, alert.bad))
        tests.append(_case_test(alert, alert.good))
    return {"rule_files": [RULES_FILE], "evaluation_interval": EVALUATION_INTERVAL, "tests": tests}


# --------------------------------------------------------------------------------------------------
# Notification templates (shared text; the dashboard link differs)
# --------------------------------------------------------------------------------------------------
_COMMON_TEMPLATES: Final = """\
{{ define "llm_soc2.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.soc2_criterion }}){{ end }}
{{ define "llm_soc2.summary" }}{{ template "llm_soc2.title" . }}: {{ with index .Alerts 0 }}{{ .Annotations.summary }}{{ end }}{{ if gt (len .Alerts) 1 }} ({{ len .Alerts }} alerts){{ end }}{{ end }}
{{ define "llm_soc2.runbook_url" }}{{ with index .Alerts 0 }}{{ .Annotations.runbook_url }}{{ end }}{{ end }}
{{ define "llm_soc2.description" }}{{ range .Alerts }}- {{ .Annotations.summary }}
{{ end }}{{ with index .Alerts 0 }}{{ .Annotations.description }}{{ end }}{{ end }}
"""

_ALERTMANAGER_LINKS: Final = f"""\
{{{{ define "llm_soc2.grafana_url" }}}}{GRAFANA_URL}{{{{ end }}}}
{{{{ define "llm_soc2.dashboard_url" }}}}{{{{ template "llm_soc2.grafana_url" . }}}}{{{{ with index .Alerts 0 }}}}{{{{ .Annotations.dashboard_path }}}}{{{{ end }}}}{{{{ end }}}}
"""

_GRAFANA_LINKS: Final = """\
{{ define "llm_soc2.dashboard_url" }}{{ with index .Alerts 0 }}{{ if .PanelURL }}{{ .PanelURL }}{{ else }}{{ .DashboardURL }}{{ end }}{{ end }}{{ end }}
"""


def alertmanager_template() -> str:
    header = (
        "{{/* llm-soc2 notification templates. Generated by `python -m llm_soc2.provisioning`.\n"
        "     Set llm_soc2.grafana_url to your Grafana's address. */}}\n"
    )
    return header + _COMMON_TEMPLATES + _ALERTMANAGER_LINKS


def grafana_template_text() -> str:
    return _COMMON_TEMPLATES + _GRAFANA_LINKS


# --------------------------------------------------------------------------------------------------
# Alertmanager example
# --------------------------------------------------------------------------------------------------
def _details() -> dict[str, str]:
    return {
        "soc2_criterion": "{{ .CommonLabels.soc2_criterion }}",
        "service": "{{ .CommonLabels.service_name }}",
        "description": '{{ template "llm_soc2.description" . }}',
        "runbook_url": '{{ template "llm_soc2.runbook_url" . }}',
        "dashboard_url": '{{ template "llm_soc2.dashboard_url" . }}',
    }


def _routes() -> list[tuple[str, dict[str, str]]]:
    """(severity, timing) of the severity routes, shared by Alertmanager and Grafana."""
    return [
        ("critical", {"group_wait": "10s", "group_interval": "5m", "repeat_interval": "1h"}),
        ("warning", {"group_wait": "1m", "group_interval": "10m", "repeat_interval": "12h"}),
    ]


def alertmanager_config() -> Json:
    return {
        "global": {"resolve_timeout": "5m", "pagerduty_url": "https://events.pagerduty.com/v2/enqueue"},
        "templates": [TEMPLATE_FILE],
        "route": {
            "receiver": RECEIVER,
            "group_by": list(ROUTING_LABELS),
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {
                    "receiver": RECEIVER,
                    "matchers": ['soc2_criterion=~".+"', f'severity="{severity}"'],
                    **timing,
                }
                for severity, timing in _routes()
            ],
        },
        "receivers": [
            {
                "name": RECEIVER,
                "pagerduty_configs": [
                    {
                        "routing_key_file": PAGERDUTY_KEY_FILE,
                        "url": "https://events.pagerduty.com/v2/enqueue",
                        "send_resolved": True,
                        "severity": "{{ .CommonLabels.severity }}",
                        "class": "{{ .CommonLabels.soc2_criterion }}",
                        "component": "{{ .CommonLabels.service_name }}",
                        "group": "llm-soc2",
                        "description": '{{ template "llm_soc2.summary" . }}',
                        "client": "Alertmanager (llm-soc2)",
                        "client_url": '{{ template "llm_soc2.dashboard_url" . }}',
                        "links": [
                            {"href": '{{ template "llm_soc2.runbook_url" . }}', "text": "Runbook"},
                            {"href": '{{ template "llm_soc2.dashboard_url" . }}', "text": "Dashboard"},
                        ],
                        "details": _details(),
                    }
                ],
            }
        ],
    }


# --------------------------------------------------------------------------------------------------
# Grafana alerting provisioning
# --------------------------------------------------------------------------------------------------
_DURATION = re.compile(r"(\d+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def lookback_seconds(query: str) -> int:
    """The data a query reads: its longest range or offset (``[6h]``, ``offset 15m``), at least 10 minutes."""
    longest = 600
    for match in re.finditer(r"\[(\d+[smhd])\]|offset (\d+[smhd])", query):
        text = match.group(1) or match.group(2)
        number = _DURATION.fullmatch(text)
        if number:
            longest = max(longest, int(number.group(1)) * _SECONDS[number.group(2)])
    return longest


def grafana_rule(alert: Alert) -> Json:
    evaluator = {">": "gt", "<": "lt"}[alert.op]
    expr_ds = {"type": "__expr__", "uid": grafana.EXPRESSION_UID}
    return {
        "uid": alert.uid,
        "title": alert.name,
        "condition": "C",
        "data": [
            {
                "refId": "A",
                "relativeTimeRange": {"from": lookback_seconds(alert.query), "to": 0},
                "datasourceUid": grafana.PROMETHEUS_UID,
                "model": {
                    "refId": "A",
                    "datasource": {"type": grafana.PROMETHEUS_TYPE, "uid": grafana.PROMETHEUS_UID},
                    "expr": alert.query,
                    "instant": True,
                    "range": False,
                    "intervalMs": 1000,
                    "maxDataPoints": 43200,
                },
            },
            {
                "refId": "B",
                "datasourceUid": grafana.EXPRESSION_UID,
                "model": {
                    "refId": "B",
                    "datasource": expr_ds,
                    "type": "reduce",
                    "expression": "A",
                    "reducer": "last",
                    "settings": {"mode": "dropNN"},
                },
            },
            {
                "refId": "C",
                "datasourceUid": grafana.EXPRESSION_UID,
                "model": {
                    "refId": "C",
                    "datasource": expr_ds,
                    "type": "threshold",
                    "expression": "B",
                    "conditions": [{"evaluator": {"type": evaluator, "params": [alert.threshold]}}],
                },
            },
        ],
        "noDataState": "OK",  # no series: nothing is in violation (absent-data alerts query absent())
        "execErrState": "Error",
        "for": alert.for_,
        "labels": _labels(alert),
        "annotations": {
            "summary": alert.summary.replace("{value}", GRAFANA_VALUE[alert.value_format]),
            "description": _description(alert),
            "runbook_url": alert.runbook_url,
        },
        "dashboardUid": alert.dashboard,
        "panelId": dashboards.panel_id(alert.dashboard, alert.panel),
        "isPaused": False,
    }


def grafana_rules() -> Json:
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": GROUP,
                "folder": grafana.FOLDER,
                "interval": EVALUATION_INTERVAL,
                "rules": [grafana_rule(alert) for alert in ALERTS],
            }
        ],
    }


def grafana_contact_points() -> Json:
    return {
        "apiVersion": 1,
        "contactPoints": [
            {
                "orgId": 1,
                "name": RECEIVER,
                "receivers": [
                    {
                        "uid": RECEIVER,
                        "type": "pagerduty",
                        "disableResolveMessage": False,
                        "settings": {
                            "integrationKey": "$__env{PAGERDUTY_INTEGRATION_KEY}",
                            "severity": "{{ .CommonLabels.severity }}",
                            "class": "{{ .CommonLabels.soc2_criterion }}",
                            "component": "{{ .CommonLabels.service_name }}",
                            "group": "llm-soc2",
                            "summary": '{{ template "llm_soc2.summary" . }}',
                            "source": "llm-soc2",
                            "client": "Grafana (llm-soc2)",
                            "client_url": '{{ template "llm_soc2.dashboard_url" . }}',
                            "details": _details(),
                        },
                    }
                ],
            }
        ],
    }


def grafana_policies() -> Json:
    return {
        "apiVersion": 1,
        "policies": [
            {
                "orgId": 1,
                "receiver": RECEIVER,
                "group_by": ["grafana_folder", *ROUTING_LABELS],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
                "routes": [
                    {
                        "receiver": RECEIVER,
                        "object_matchers": [["soc2_criterion", "=~", ".+"], ["severity", "=", severity]],
                        **timing,
                    }
                    for severity, timing in _routes()
                ],
            }
        ],
    }


def grafana_templates() -> Json:
    return {
        "apiVersion": 1,
        "templates": [{"orgId": 1, "name": "llm-soc2", "template": grafana_template_text()}],
    }
