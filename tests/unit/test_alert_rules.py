"""The alert rules: Grafana provisioning, Prometheus rules and the Alertmanager example stay in sync with
one source of truth (llm_soc2.provisioning.alerts), and each file has the shape its loader expects.

promtool / amtool / a real Prometheus + Alertmanager + PagerDuty fake: tests/integration/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_soc2.provisioning import alerting, grafana, stale
from llm_soc2.provisioning.alerts import ALERTS
from llm_soc2.provisioning.criteria import CRITERIA, cited

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "alert_rules"


def load(relative: str) -> Any:
    return yaml.safe_load((RULES / relative).read_text())


PROMETHEUS = {r["alert"]: r for g in load("prometheus/llm-soc2.rules.yml")["groups"] for r in g["rules"]}
GRAFANA_FILE = load("grafana/rules.yaml")
GRAFANA = {r["title"]: r for g in GRAFANA_FILE["groups"] for r in g["rules"]}
CONTACT_POINTS = load("grafana/contact-points.yaml")
POLICIES = load("grafana/policies.yaml")
TEMPLATES = load("grafana/templates.yaml")
ALERTMANAGER = load("alertmanager/alertmanager.yml")
AM_TEMPLATE = (RULES / "alertmanager" / "llm-soc2.tmpl").read_text()
NAMES = [alert.name for alert in ALERTS]

# Field names of Grafana's file-provisioning structs (pkg/services/provisioning/alerting/*_types.go).
FILE_KEYS = {"apiVersion", "groups", "deleteRules", "contactPoints", "deleteContactPoints", "policies",
             "resetPolicies", "muteTimes", "deleteMuteTimes", "templates", "deleteTemplates"}  # fmt: skip
GROUP_KEYS = {"orgId", "name", "folder", "interval", "rules"}
RULE_KEYS = {"uid", "title", "condition", "data", "dashboardUid", "panelId", "noDataState", "execErrState", "for",
             "keepFiringFor", "missing_series_evals_to_resolve", "labels", "annotations", "isPaused",
             "notification_settings", "record"}  # fmt: skip
QUERY_KEYS = {"refId", "queryType", "relativeTimeRange", "datasourceUid", "model"}
RECEIVER_KEYS = {"uid", "type", "settings", "disableResolveMessage"}
ROUTE_KEYS = {"orgId", "receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "routes",
              "matchers", "object_matchers", "mute_time_intervals", "active_time_intervals", "continue"}  # fmt: skip
# grafana/alerting receivers/pagerduty/v1/config.go
PAGERDUTY_SETTINGS = {"integrationKey", "severity", "details", "class", "component", "group", "summary", "source",
                      "client", "client_url", "url"}  # fmt: skip
# Grafana expands $VAR, ${VAR}, $__env{}, $__file{} here; a literal "$" must be written "$$".
EXPANDED = re.compile(r"\$(?!\$|__env\{|__file\{)")


def test_committed_alert_files_are_what_the_generator_produces() -> None:
    outdated = [path for path in stale(REPO) if path.startswith("alert_rules/")]
    assert not outdated, f"regenerate with `python -m llm_soc2.provisioning`: {outdated}"


def test_the_required_alerts_exist() -> None:
    required = {
        "LLMHighRiskInteractionRate", "LLMPromptInjectionBurst", "LLMSensitiveDataInOutput", "LLMScrubFailures",
        "LLMDriftDetected", "LLMErrorBudgetFastBurn", "LLMErrorBudgetSlowBurn", "LLMLatencyBudgetFastBurn",
        "LLMLatencyBudgetSlowBurn", "LLMProviderOutage", "LLMAuditRecordsLost", "LLMAuditWriterBacklog",
        "LLMAuditCheckpointStale", "LLMAuditVerificationFailed", "LLMApiKeyRotationOverdue", "LLMUnknownApiKey",
        "LLMUnapprovedChangeInProduction", "LLMTelemetryMissing", "LLMTelemetryAbsent",
    }  # fmt: skip
    assert required <= set(NAMES)
    assert len(NAMES) == len(set(NAMES))


def test_prometheus_and_grafana_hold_the_same_alerts() -> None:
    assert set(PROMETHEUS) == set(GRAFANA) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_prometheus_and_grafana_rules_agree(name: str) -> None:
    prometheus, rule = PROMETHEUS[name], GRAFANA[name]
    query = next(q for q in rule["data"] if q["refId"] == "A")["model"]["expr"]
    threshold = next(q for q in rule["data"] if q["refId"] == rule["condition"])["model"]
    evaluator = threshold["conditions"][0]["evaluator"]
    op = {"gt": ">", "lt": "<"}[evaluator["type"]]
    assert threshold["expression"] == "B"
    value = evaluator["params"][0]
    number = str(int(value)) if float(value).is_integer() else repr(value)
    assert prometheus["expr"] == f"({query}) {op} {number}", "same query and threshold"
    assert prometheus["for"] == rule["for"]
    assert prometheus["labels"] == rule["labels"]
    assert prometheus["annotations"]["runbook_url"] == rule["annotations"]["runbook_url"]
    assert prometheus["annotations"]["description"] == rule["annotations"]["description"]
    # The summaries differ only in how the value is written ($value vs $values.B.Value).
    prom_summary = re.sub(r"\{\{ \$value \| \w+ \}\}", "VALUE", prometheus["annotations"]["summary"])
    grafana_summary = re.sub(r"\{\{ \w+ \$values\.B\.Value \}\}", "VALUE", rule["annotations"]["summary"])
    assert prom_summary == grafana_summary
    # Both link the same dashboard panel.
    assert (
        prometheus["annotations"]["dashboard_path"]
        == f"/d/{rule['dashboardUid']}?viewPanel={rule['panelId']}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_alert_has_severity_criterion_and_annotations(name: str) -> None:
    rule = PROMETHEUS[name]
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert rule["labels"]["soc2_criterion"] in CRITERIA
    for key in ("summary", "description", "runbook_url", "dashboard_path"):
        assert rule["annotations"][key], f"{name}: empty {key}"
    assert rule["labels"]["soc2_criterion"] in cited(rule["annotations"]["description"])
    assert rule["annotations"]["runbook_url"].endswith(f"/alert_rules/runbooks/{name}.md")


@pytest.mark.parametrize("name", NAMES)
def test_every_alert_has_a_runbook(name: str) -> None:
    path = RULES / "runbooks" / f"{name}.md"
    assert path.is_file(), f"write {path.relative_to(REPO)}"
    text = path.read_text()
    assert text.startswith(f"# {name}\n"), f"{path.name}: the title must be the alert name"
    criterion = PROMETHEUS[name]["labels"]["soc2_criterion"]
    assert criterion in text, f"{path.name}: say which criterion ({criterion}) the alert evidences"
    for section in ("## Meaning", "## Triage", "## Resolution", "## Evidence"):
        assert section in text, f"{path.name}: missing section {section!r}"


def test_no_runbook_without_an_alert() -> None:
    runbooks = {path.stem for path in (RULES / "runbooks").glob("*.md")}
    assert runbooks == set(NAMES)


def test_grafana_file_has_the_provisioning_shape() -> None:
    for relative in ("rules.yaml", "contact-points.yaml", "policies.yaml", "templates.yaml"):
        data = load(f"grafana/{relative}")
        assert data["apiVersion"] == 1
        assert set(data) <= FILE_KEYS, relative
    for group in GRAFANA_FILE["groups"]:
        assert set(group) <= GROUP_KEYS
        assert group["name"]
        assert group["folder"] == grafana.FOLDER
        assert re.fullmatch(r"\d+[smh]", group["interval"])


@pytest.mark.parametrize("name", NAMES)
def test_grafana_rule_shape(name: str) -> None:
    rule = GRAFANA[name]
    assert set(rule) <= RULE_KEYS
    assert len(rule["uid"]) <= 40
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", rule["uid"])
    refs = [q["refId"] for q in rule["data"]]
    assert rule["condition"] in refs
    assert len(refs) == len(set(refs))
    assert rule["noDataState"] in ("NoData", "Alerting", "OK")
    assert rule["execErrState"] in ("Error", "Alerting", "OK")
    for query in rule["data"]:
        assert set(query) <= QUERY_KEYS
        assert query["model"]["refId"] == query["refId"]
        if query["datasourceUid"] == grafana.EXPRESSION_UID:
            assert query["model"]["type"] in ("reduce", "threshold", "math")
            assert query["model"]["expression"] in refs
        else:
            assert query["datasourceUid"] == grafana.PROMETHEUS_UID
            span = query["relativeTimeRange"]
            assert span["from"] > span["to"] >= 0, "from must be greater than to for a datasource query"
            assert query["model"]["instant"] is True


def test_grafana_rule_uids_are_unique() -> None:
    uids = [rule["uid"] for rule in GRAFANA.values()]
    assert len(uids) == len(set(uids))


def test_grafana_rules_link_existing_dashboard_panels() -> None:
    panels: dict[str, set[int]] = {}
    for path in (REPO / "dashboards" / "llm-soc2").glob("*.json"):
        dashboard = json.loads(path.read_text())
        panels[dashboard["uid"]] = {p["id"] for p in dashboard["panels"] if p["type"] != "row"}
    for rule in GRAFANA.values():
        assert rule["panelId"] in panels[rule["dashboardUid"]], rule["title"]


def test_labels_contact_point_and_policies_need_no_dollar_escaping() -> None:
    """Grafana expands $ in labels, contact-point settings and policies (not in annotations)."""
    for rule in GRAFANA.values():
        for value in rule["labels"].values():
            assert not EXPANDED.search(value), f"{rule['title']}: label {value!r} would be expanded"
    for point in CONTACT_POINTS["contactPoints"]:
        for receiver in point["receivers"]:
            text = json.dumps(receiver["settings"])
            assert not EXPANDED.search(text), f"unescaped $ in contact point settings: {text}"
    assert not EXPANDED.search(json.dumps(POLICIES))


def test_annotations_keep_their_go_templates() -> None:
    for rule in GRAFANA.values():
        summary = rule["annotations"]["summary"]
        assert "$$" not in summary, "annotations are not expanded: a $$ would stay $$"
        for label in re.findall(r"\$labels\.(\w+)", summary):
            assert label in {"service_name", "job"} or label.startswith(
                ("gen_ai_", "llm_soc2_", "deployment_")
            )


def test_pagerduty_contact_point() -> None:
    (point,) = CONTACT_POINTS["contactPoints"]
    (receiver,) = point["receivers"]
    assert set(receiver) <= RECEIVER_KEYS
    assert receiver["type"] == "pagerduty"
    settings = receiver["settings"]
    assert set(settings) <= PAGERDUTY_SETTINGS
    assert settings["integrationKey"] == "$__env{PAGERDUTY_INTEGRATION_KEY}"
    assert settings["severity"] == "{{ .CommonLabels.severity }}"
    assert {"runbook_url", "dashboard_url", "description"} <= set(settings["details"])


def test_notification_policy_routes_every_severity_to_pagerduty() -> None:
    (policy,) = POLICIES["policies"]
    assert set(policy) <= ROUTE_KEYS
    receivers = {point["name"] for point in CONTACT_POINTS["contactPoints"]}
    assert policy["receiver"] in receivers
    routed = set()
    for route in policy["routes"]:
        assert set(route) <= ROUTE_KEYS
        assert route["receiver"] in receivers
        matchers = {(label, op): value for label, op, value in route["object_matchers"]}
        routed.add(matchers[("severity", "=")])
        assert matchers[("soc2_criterion", "=~")] == ".+", "routes only llm-soc2 alerts"
    assert routed == {alert.severity for alert in ALERTS}


def _used_templates(text: str) -> set[str]:
    return set(re.findall(r'template "([\w.]+)"', text))


def _defined_templates(text: str) -> set[str]:
    return set(re.findall(r'define "([\w.]+)"', text))


def test_grafana_templates_define_what_the_contact_point_uses() -> None:
    (template,) = TEMPLATES["templates"]
    defined = _defined_templates(template["template"])
    used = _used_templates(json.dumps(CONTACT_POINTS)) | _used_templates(template["template"])
    assert used <= defined


def test_alertmanager_templates_define_what_the_config_uses() -> None:
    defined = _defined_templates(AM_TEMPLATE)
    used = _used_templates(json.dumps(ALERTMANAGER)) | _used_templates(AM_TEMPLATE)
    assert used <= defined


def test_alertmanager_example_matches_the_grafana_routing() -> None:
    route = ALERTMANAGER["route"]
    (receiver,) = ALERTMANAGER["receivers"]
    (pagerduty,) = receiver["pagerduty_configs"]
    assert route["receiver"] == receiver["name"] == CONTACT_POINTS["contactPoints"][0]["name"]
    grafana_routes = {
        next(v for label, op, v in r["object_matchers"] if label == "severity"): r
        for r in POLICIES["policies"][0]["routes"]
    }
    for am_route in route["routes"]:
        (severity,) = [
            m.removeprefix('severity="').rstrip('"')
            for m in am_route["matchers"]
            if m.startswith("severity=")
        ]
        for timing in ("group_wait", "group_interval", "repeat_interval"):
            assert am_route[timing] == grafana_routes[severity][timing]
    assert pagerduty["routing_key_file"]
    assert pagerduty["severity"] == "{{ .CommonLabels.severity }}"
    assert {link["text"] for link in pagerduty["links"]} == {"Runbook", "Dashboard"}
    assert set(pagerduty["details"]) == set(
        CONTACT_POINTS["contactPoints"][0]["receivers"][0]["settings"]["details"]
    )


def test_promtool_tests_cover_every_alert_both_ways() -> None:
    tests = load("prometheus/llm-soc2.rules.test.yml")["tests"]
    fires: dict[str, int] = {}
    silent: dict[str, int] = {}
    for test in tests:
        for case in test["alert_rule_test"]:
            bucket = fires if case["exp_alerts"] else silent
            bucket[case["alertname"]] = bucket.get(case["alertname"], 0) + 1
    assert set(fires) == set(silent) == set(NAMES)


def test_expected_annotation_rendering_matches_prometheus_templates() -> None:
    rendered = alerting.render_expected(
        "{value} for {{ $labels.service_name }} and {{ $labels.missing }}!", {"service_name": "a"}, "5%"
    )
    assert rendered == "5% for a and !"
