"""End to end: a metric from the OpenTelemetry Prometheus exporter trips a committed alert rule in a real
Prometheus, a real Alertmanager running the committed example config delivers it, and a local server
mimicking the PagerDuty Events API v2 receives the event with the routing key, severity, summary and the
runbook and dashboard links.

Changed for the test, and only these: the rule group's evaluation interval (1 s), the Alertmanager
template path, routing-key file and PagerDuty URL (the local fake). Missing binaries fail in CI and skip
locally.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llm_soc2 import semconv as sc
from llm_soc2.provisioning import alerting, dashboards
from llm_soc2.provisioning.alerts import alert
from llm_soc2.provisioning.contract import metric
from support.alertmanager import AlertmanagerFactory, alertmanager_factory  # noqa: F401 - fixture
from support.pagerduty import FakePagerDuty, fake_pagerduty  # noqa: F401 - fixture
from support.prometheus import MetricsEndpoint, PrometheusFactory, prometheus_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"


def alertmanager_config(tmp_path: Path, pagerduty: FakePagerDuty) -> Path:
    config = yaml.safe_load((REPO / "alert_rules" / "alertmanager" / "alertmanager.yml").read_text())
    template = tmp_path / "llm-soc2.tmpl"
    template.write_text((REPO / "alert_rules" / "alertmanager" / "llm-soc2.tmpl").read_text())
    key_file = tmp_path / "pagerduty_integration_key"
    key_file.write_text(ROUTING_KEY + "\n")
    config["templates"] = [str(template)]
    for receiver in config["receivers"]:
        for pd in receiver["pagerduty_configs"]:
            pd["routing_key_file"] = str(key_file)
            pd["url"] = pagerduty.enqueue_url
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def fast_rules(tmp_path: Path) -> Path:
    rules = yaml.safe_load((REPO / "alert_rules" / "prometheus" / "llm-soc2.rules.yml").read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    path = tmp_path / "llm-soc2.rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def test_secret_in_model_output_pages_pagerduty(
    tmp_path: Path,
    fake_pagerduty: FakePagerDuty,  # noqa: F811
    alertmanager_factory: AlertmanagerFactory,  # noqa: F811
    prometheus_factory: PrometheusFactory,  # noqa: F811
) -> None:
    spec = metric(sc.METRIC_PII_FINDINGS)
    endpoint = MetricsEndpoint(service="support-bot", environment="production")
    try:
        meter = endpoint.meter_provider.get_meter(sc.INSTRUMENTATION_SCOPE)
        findings = meter.create_counter(spec.name, spec.unit)
        findings.add(
            1,
            {
                sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
                sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OPENAI,
                sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                sc.ATTR_PII_TYPE: "AWS_ACCESS_KEY",
                sc.ATTR_DIRECTION: sc.DIRECTION_OUTPUT,
                sc.ATTR_SCRUB_ACTION: "mask",
            },
        )
        manager = alertmanager_factory(alertmanager_config(tmp_path, fake_pagerduty))
        prometheus_factory([endpoint.target], rule_files=[fast_rules(tmp_path)], alertmanager=manager.url)

        event = fake_pagerduty.wait_for(
            lambda e: "LLMSensitiveDataInOutput" in str(e.body.get("payload", {}).get("summary", "")),
            timeout=60,
        )
    finally:
        endpoint.close()

    assert event.accepted, event.errors
    body = event.body
    assert event.path == "/v2/enqueue"
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == "trigger"
    assert body["dedup_key"]
    payload = body["payload"]
    assert payload["severity"] == "critical"
    assert payload["summary"] == (
        "[FIRING:1] LLMSensitiveDataInOutput (C1.1): 1 AWS_ACCESS_KEY finding(s) in gpt-4o-mini output (support-bot)"
    )
    assert payload["class"] == "C1.1"
    assert payload["component"] == "support-bot"
    assert payload["group"] == "llm-soc2"

    rule = alert("LLMSensitiveDataInOutput")
    dashboard_url = f"{alerting.GRAFANA_URL}/d/{rule.dashboard}?viewPanel={dashboards.panel_id(rule.dashboard, rule.panel)}"
    links = {link["text"]: link["href"] for link in body["links"]}
    assert links == {"Runbook": rule.runbook_url, "Dashboard": dashboard_url}
    assert body["client_url"] == dashboard_url
    details = payload["custom_details"]
    assert details["runbook_url"] == rule.runbook_url
    assert details["dashboard_url"] == dashboard_url
    assert details["soc2_criterion"] == "C1.1"
    assert details["service"] == "support-bot"
    assert "Trust Services Criteria: C1.1" in details["description"]
