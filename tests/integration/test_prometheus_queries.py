"""Every dashboard panel query and every alert rule, run against a real Prometheus scraping real data.

The data: the whole metric contract recorded through the OpenTelemetry SDK and its Prometheus exporter
(the exporter the application uses, so names, suffixes and labels are the exporter's own), shaped as an
unhealthy service so every alert condition holds. Prometheus scrapes it every second and evaluates the
committed rule file (its group interval shortened to 1 s; expressions, labels and annotations unchanged).

Checked: each panel query returns series (and, for "or vector(0)" stats, the real query underneath
does); each alert's query returns series and its expression fires; Prometheus loads every rule and
reports every alert pending or firing. Whether the llm-soc2 code itself emits the contract is
tests/integration/test_prometheus_pipeline.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_soc2.provisioning import promql
from llm_soc2.provisioning.contract import METRICS
from support.prometheus import (
    NOT_TRIPPED_BY_WORKLOAD,
    ContractWorkload,
    MetricsEndpoint,
    Prometheus,
    start_prometheus,
    wait_until,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "alert_rules" / "prometheus" / "llm-soc2.rules.yml"
VARIABLES = {"service": ".*", "environment": ".*", "model": ".*"}
OR_ZERO = " or vector(0)"


@dataclass(frozen=True)
class PanelQuery:
    where: str
    expr: str
    range: bool


def panel_queries() -> list[PanelQuery]:
    queries = []
    for path in sorted((REPO / "dashboards" / "llm-soc2").glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    where = f"{dashboard['uid']}/{panel['title']}/{target['refId']}"
                    queries.append(PanelQuery(where, target["expr"], bool(target.get("range"))))
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query" and variable["datasource"]["type"] == "prometheus":
                selector, label = promql.label_values_query(variable["query"])
                queries.append(
                    PanelQuery(
                        f"{dashboard['uid']}/${variable['name']}", f"group by ({label}) ({selector})", False
                    )
                )
    return queries


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    directory = tmp_path_factory.mktemp("prometheus-queries")
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    rule_file = directory / "llm-soc2.rules.yml"
    rule_file.write_text(yaml.safe_dump(rules, sort_keys=False))
    endpoint = MetricsEndpoint()
    server = None
    try:
        workload = ContractWorkload(endpoint.meter_provider)
        workload.record_round()
        server = start_prometheus(directory / "server", [endpoint.target], rule_files=[rule_file])
        wanted = {name for spec in METRICS for name in spec.series_names}
        wait_until(lambda: wanted <= server.metric_names(), 30, "every contract series to be scraped")
        time.sleep(2)
        workload.record_round()  # counters move between scrapes: rate() and increase() see growth
        first = time.time()
        wait_until(lambda: time.time() - first > 3, 10, "a few more scrapes")
        yield server
    finally:
        if server is not None:
            server.stop()
        endpoint.close()


PANELS = panel_queries()


@pytest.mark.parametrize("query", PANELS, ids=[q.where for q in PANELS])
def test_panel_query_returns_series(prometheus: Prometheus, query: PanelQuery) -> None:
    expr = promql.expand_grafana(query.expr, VARIABLES)
    now = time.time()
    result = prometheus.query_range(expr, now - 30, now, "5s") if query.range else prometheus.query(expr)
    assert result, f"{query.where}: no series for {expr}"
    if expr.endswith(OR_ZERO) and expr.startswith("("):
        inner = expr[1 : -len(OR_ZERO) - 1]
        assert prometheus.query(inner), f"{query.where}: only the vector(0) fallback answered: {inner}"


RULE_LIST = alert_rules()


@pytest.mark.parametrize("rule", RULE_LIST, ids=[r["alert"] for r in RULE_LIST])
def test_alert_expression_runs_and_fires_on_an_unhealthy_service(
    prometheus: Prometheus, rule: dict[str, Any]
) -> None:
    firing = prometheus.query(rule["expr"])
    if rule["alert"] in NOT_TRIPPED_BY_WORKLOAD:
        assert firing == [], f"{rule['alert']} fires although its metrics are present"
        return
    assert firing, f"{rule['alert']}: expression returned no series: {rule['expr']}"
    labels = firing[0]["metric"]
    if "service_name" in rule["expr"]:
        assert labels.get("service_name") == "support-bot"


def test_prometheus_loads_every_rule_and_raises_the_alerts(prometheus: Prometheus) -> None:
    groups = prometheus.rule_groups()
    loaded = {rule["name"]: rule for group in groups for rule in group["rules"]}
    assert set(loaded) == {rule["alert"] for rule in RULE_LIST}
    for name, rule in loaded.items():
        assert rule["health"] == "ok", f"{name}: {rule.get('lastError')}"
    expected = {rule["alert"] for rule in RULE_LIST} - NOT_TRIPPED_BY_WORKLOAD

    def raised() -> set[str]:
        return {alert["labels"]["alertname"] for alert in prometheus.alerts()}

    active = wait_until(lambda: expected <= raised() and raised(), 20, f"alerts {sorted(expected)}")
    assert not active & NOT_TRIPPED_BY_WORKLOAD
    firing = {
        alert["labels"]["alertname"]: alert for alert in prometheus.alerts() if alert["state"] == "firing"
    }
    # Alerts with `for: 0m` fire at once, carrying the labels and rendered annotations routing relies on.
    unknown_key = firing["LLMUnknownApiKey"]
    assert unknown_key["labels"]["severity"] == "critical"
    assert unknown_key["labels"]["soc2_criterion"] == "CC6.1"
    assert unknown_key["labels"]["llm_soc2_api_key_fingerprint"] == "9d1e44a0c2b7f318"
    assert "support-bot made" in unknown_key["annotations"]["summary"]
    assert unknown_key["annotations"]["runbook_url"].endswith("/runbooks/LLMUnknownApiKey.md")
