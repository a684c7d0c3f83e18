"""Every metric and label a dashboard panel, template variable or alert rule queries is one the code emits.

"Emits" means: listed in the metric contract (llm_soc2.provisioning.contract), whose Prometheus names are
derived from semconv constants. That the running code really exposes the contract is proven against a
real Prometheus in tests/integration/test_prometheus_pipeline.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from llm_soc2 import semconv
from llm_soc2.provisioning import contract, promql
from llm_soc2.provisioning.contract import METRICS, SCOPE_LABELS, SCRAPE_LABELS, TARGET_INFO, known_series

REPO = Path(__file__).resolve().parents[2]
VARIABLES = {"service": ".*", "environment": ".*", "model": ".*", "log_id": "'x'"}


def dashboard_queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every Prometheus target and label_values variable of every dashboard."""
    queries = []
    for path in sorted((REPO / "dashboards" / "llm-soc2").glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    queries.append((f"{path.name}: {panel['title']}", target["expr"]))
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query" and variable["datasource"]["type"] == "prometheus":
                selector, label = promql.label_values_query(variable["query"])
                assert selector is not None
                queries.append((f"{path.name}: ${variable['name']}", f"group by ({label}) ({selector})"))
    return queries


def rule_queries() -> list[tuple[str, str]]:
    queries = []
    prometheus = yaml.safe_load((REPO / "alert_rules" / "prometheus" / "llm-soc2.rules.yml").read_text())
    for group in prometheus["groups"]:
        for rule in group["rules"]:
            queries.append((f"prometheus rule {rule['alert']}", rule["expr"]))
    grafana = yaml.safe_load((REPO / "alert_rules" / "grafana" / "rules.yaml").read_text())
    for group in grafana["groups"]:
        for rule in group["rules"]:
            for query in rule["data"]:
                if query["datasourceUid"] != "__expr__":
                    queries.append((f"grafana rule {rule['title']}", query["model"]["expr"]))
    return queries


QUERIES = dashboard_queries() + rule_queries()
SERIES = known_series()


def test_there_are_queries_to_check() -> None:
    assert len(dashboard_queries()) > 80
    assert len(rule_queries()) == 2 * len(
        yaml.safe_load((REPO / "alert_rules" / "prometheus" / "llm-soc2.rules.yml").read_text())["groups"][0][
            "rules"
        ]
    )


def problems(expr: str) -> list[str]:
    """What in ``expr`` is not emitted: unknown series, labels a series lacks, groupings on absent labels."""
    analysis = promql.analyse(promql.expand_grafana(expr, VARIABLES))
    if not analysis.selectors:
        return [f"no series selector in {expr}"]
    found = []
    available: set[str] = set()
    for selector in analysis.selectors:
        if selector.metric not in SERIES:
            found.append(f"{selector.metric} is not emitted (not in the contract)")
            continue
        labels = SERIES[selector.metric]
        unknown = selector.labels - labels
        if unknown:
            found.append(f"{selector.metric} has no label(s) {sorted(unknown)}")
        available |= labels
    # by/on/group_left labels must exist on some series the expression reads.
    missing = analysis.grouping - available
    if missing:
        found.append(f"groups or joins on {sorted(missing)}, which none of its series carries")
    return found


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_query_uses_only_emitted_metrics_and_labels(where: str, expr: str) -> None:
    assert not problems(expr), f"{where}: {problems(expr)}"


def test_a_misnamed_metric_or_label_is_caught() -> None:
    assert problems("sum(rate(llm_soc2_interactions[5m]))")  # the exporter adds _total
    assert problems('sum(rate(llm_soc2_interactions_total{model="x"}[5m]))')  # label is gen_ai_request_model
    assert problems("sum by (service_name) (rate(llm_soc2_interactions_total[5m]))")  # not joined
    assert problems("gen_ai_client_operation_duration_bucket")  # unit suffix _seconds missing
    assert not problems(
        'sum by (le) (rate(gen_ai_client_operation_duration_seconds_bucket{error_type=""}[5m]))'
    )


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_resource_labels_are_joined_from_target_info(where: str, expr: str) -> None:
    """service_name / deployment_environment_name live on target_info only: a query using them must join."""
    analysis = promql.analyse(promql.expand_grafana(expr, VARIABLES))
    resource = {contract.SERVICE_LABEL, contract.ENVIRONMENT_LABEL}
    uses = analysis.grouping & resource or any(
        s.labels & resource for s in analysis.selectors if s.metric != TARGET_INFO
    )
    if uses and TARGET_INFO not in analysis.metrics:
        pytest.fail(f"{where}: uses {sorted(resource)} without joining target_info")


def test_every_contract_metric_is_used_by_a_dashboard_or_rule() -> None:
    used: set[str] = set()
    for _, expr in QUERIES:
        used |= promql.analyse(promql.expand_grafana(expr, VARIABLES)).metrics
    unused = [spec.name for spec in METRICS if not set(spec.series_names) & used]
    assert not unused, f"contract metrics no dashboard or rule reads: {unused}"


def test_contract_names_come_from_semconv() -> None:
    constants = {value for name, value in vars(semconv).items() if name.isupper() and isinstance(value, str)}
    for spec in METRICS:
        assert spec.name in constants, spec.name
        for attribute in spec.attributes:
            assert attribute in constants, f"{spec.name}: {attribute} is not a semconv constant"
        assert spec.prometheus_name == semconv.prometheus_name(spec.name, spec.unit, spec.kind)


def test_prometheus_names_follow_the_python_exporter() -> None:
    """Spot checks of the exporter's translation (unit suffixes, _total, no suffix for {annotations})."""
    assert (
        contract.prom(semconv.METRIC_OPERATION_DURATION, "bucket")
        == "gen_ai_client_operation_duration_seconds_bucket"
    )
    assert contract.prom(semconv.METRIC_TOKEN_USAGE, "sum") == "gen_ai_client_token_usage_sum"
    assert contract.prom(semconv.METRIC_INTERACTIONS) == "llm_soc2_interactions_total"
    assert contract.prom(semconv.METRIC_AUDIT_CHECKPOINT_TIME) == "llm_soc2_audit_checkpoint_time_seconds"
    assert contract.prom(semconv.METRIC_AUDIT_BACKLOG) == "llm_soc2_audit_backlog"
    assert contract.prom(semconv.METRIC_DRIFT_SCORE) == "llm_soc2_drift_score"
    assert contract.label(semconv.GEN_AI_REQUEST_MODEL) == "gen_ai_request_model"


def test_drift_gauges_have_no_unit_so_both_exporters_name_them_alike() -> None:
    """The OTel Collector appends _ratio to gauges with unit "1"; the Python exporter does not."""
    for spec in METRICS:
        if spec.kind == "gauge":
            assert spec.unit != "1", f"{spec.name}: use no unit, not '1'"


def test_label_sets_are_bounded() -> None:
    """No end-user ids, trace ids or content on metrics: only bounded, low-cardinality attributes."""
    forbidden = {
        semconv.ENDUSER_ID,
        semconv.END_USER_HASH,
        semconv.GEN_AI_RESPONSE_ID,
        semconv.GEN_AI_CONVERSATION_ID,
        *semconv.GEN_AI_CONTENT_ATTRIBUTES,
        semconv.URL_FULL,
        semconv.EXCEPTION_MESSAGE,
    }
    for spec in METRICS:
        assert not forbidden & set(spec.attributes), spec.name
        assert len(spec.attributes) <= 8, spec.name


def test_analyser_reads_selectors_and_grouping() -> None:
    analysis = promql.analyse(
        'sum by (le) (rate(a_bucket{x="1", y=~"a|b"}[5m]) * on (job, instance) group_left (s) target_info{s=~".*"})'
        " / ignoring (le) group_left () sum(b offset 1h) or vector(0) and absent(c)"
    )
    assert analysis.metrics == {"a_bucket", "target_info", "b", "c"}
    assert analysis.grouping == {"le", "job", "instance", "s"}
    assert {"sum", "rate", "vector", "absent"} <= analysis.functions
    selector = next(s for s in analysis.selectors if s.metric == "a_bucket")
    assert selector.labels == {"x", "y"}


def test_known_series_include_scrape_and_scope_labels() -> None:
    interactions = SERIES[contract.prom(semconv.METRIC_INTERACTIONS)]
    assert interactions >= SCRAPE_LABELS
    assert interactions >= SCOPE_LABELS
    assert "le" in SERIES[contract.prom(semconv.METRIC_OPERATION_DURATION, "bucket")]
    assert "le" not in SERIES[contract.prom(semconv.METRIC_OPERATION_DURATION, "count")]
