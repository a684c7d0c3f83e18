"""examples/stack: the Docker Compose backend, checked without Docker (none runs here): every file parses,
every mounted path exists in the repository, images are pinned, the collector's pipelines reference
only defined components, and the services are wired to the uids and ports the provisioning expects.
``promtool check config`` on its prometheus.yml is in tests/integration/test_prometheus_rules.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_soc2.provisioning import grafana

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "examples" / "stack"


def load(name: str) -> Any:
    return yaml.safe_load((STACK / name).read_text())


COMPOSE = load("docker-compose.yml")
COLLECTOR = load("otel-collector.yaml")


def test_every_stack_file_parses() -> None:
    for path in STACK.rglob("*.y*ml"):
        assert yaml.safe_load(path.read_text()) is not None, path


def test_compose_has_the_backend_services() -> None:
    assert set(COMPOSE["services"]) == {
        "otel-collector", "prometheus", "alertmanager", "tempo", "loki", "postgres", "grafana",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMPOSE["services"]))
def test_images_are_pinned(name: str) -> None:
    image = COMPOSE["services"][name]["image"]
    assert re.fullmatch(r"[\w./-]+:v?\d[\w.-]*", image), f"{name}: pin a version, not {image}"


@pytest.mark.parametrize("name", sorted(COMPOSE["services"]))
def test_bind_mounts_exist(name: str) -> None:
    for volume in COMPOSE["services"][name].get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("."):
            path = (STACK / source).resolve()
            if "secrets" in path.parts:
                continue  # the PagerDuty key is the user's to create
            assert path.exists(), f"{name}: {source} does not exist"
        else:
            assert source in COMPOSE["volumes"], f"{name}: undeclared volume {source}"


def test_grafana_mounts_the_repository_provisioning() -> None:
    volumes = {v.split(":")[1]: v.split(":")[0] for v in COMPOSE["services"]["grafana"]["volumes"]}
    assert volumes["/etc/grafana/provisioning/alerting"] == "../../alert_rules/grafana"
    assert (
        volumes["/etc/grafana/provisioning/datasources/llm-soc2.yaml"]
        == "../../dashboards/provisioning/datasources.yaml"
    )
    assert (
        volumes["/etc/grafana/provisioning/dashboards/llm-soc2.yaml"]
        == "../../dashboards/provisioning/dashboards.yaml"
    )
    provider = yaml.safe_load((REPO / "dashboards" / "provisioning" / "dashboards.yaml").read_text())[
        "providers"
    ][0]
    assert volumes[provider["options"]["path"]] == "../../dashboards/llm-soc2"


def test_grafana_gets_every_variable_the_provisioning_reads() -> None:
    environment = COMPOSE["services"]["grafana"]["environment"]
    text = "".join(
        (REPO / p).read_text()
        for p in ("dashboards/provisioning/datasources.yaml", "alert_rules/grafana/contact-points.yaml")
    )
    for variable in set(re.findall(r"\$__env\{(\w+)\}", text)):
        assert variable in environment, f"grafana service lacks {variable}"
    urls = {
        "LLM_SOC2_PROMETHEUS_URL": "prometheus",
        "LLM_SOC2_TEMPO_URL": "tempo",
        "LLM_SOC2_LOKI_URL": "loki",
        "LLM_SOC2_AUDIT_PG_HOST": "postgres",
    }
    for variable, service in urls.items():
        assert service in environment[variable]
        assert service in COMPOSE["services"]


def test_alertmanager_mounts_match_the_committed_config() -> None:
    config = yaml.safe_load((REPO / "alert_rules" / "alertmanager" / "alertmanager.yml").read_text())
    targets = {v.split(":")[1] for v in COMPOSE["services"]["alertmanager"]["volumes"]}
    assert set(config["templates"]) <= targets
    for receiver in config["receivers"]:
        for pagerduty in receiver["pagerduty_configs"]:
            assert pagerduty["routing_key_file"] in targets


def test_prometheus_loads_the_rules_and_scrapes_the_collector() -> None:
    prometheus = load("prometheus.yml")
    mounted = {v.split(":")[1] for v in COMPOSE["services"]["prometheus"]["volumes"]}
    assert set(prometheus["rule_files"]) <= mounted
    (job,) = prometheus["scrape_configs"]
    assert job["honor_labels"] is True, (
        "job/instance must come from the collector (service.name, instance id)"
    )
    exporter_port = COLLECTOR["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    assert job["static_configs"][0]["targets"] == [f"otel-collector:{exporter_port}"]


# Components of opentelemetry-collector-contrib 0.114 used here, and the settings each accepts.
KNOWN: dict[str, dict[str, set[str]]] = {
    "receivers": {"otlp": {"protocols"}},
    "processors": {
        "batch": {"timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"},
        "memory_limiter": {"check_interval", "limit_mib", "spike_limit_mib", "limit_percentage", "spike_limit_percentage"},
    },
    "exporters": {
        "prometheus": {"endpoint", "namespace", "const_labels", "send_timestamps", "metric_expiration",
                       "resource_to_telemetry_conversion", "enable_open_metrics", "add_metric_suffixes", "tls"},
        "otlp": {"endpoint", "tls", "headers", "compression", "timeout", "retry_on_failure", "sending_queue"},
        "otlphttp": {"endpoint", "tls", "headers", "compression", "timeout", "retry_on_failure", "sending_queue",
                     "traces_endpoint", "metrics_endpoint", "logs_endpoint", "encoding"},
    },
    "extensions": {"health_check": {"endpoint", "path"}},
}  # fmt: skip


def test_collector_components_and_settings_are_known() -> None:
    for section, known in KNOWN.items():
        for name, settings in (COLLECTOR.get(section) or {}).items():
            kind = name.split("/")[0]
            assert kind in known, f"{section}: unknown component {kind}"
            unknown = set(settings or {}) - known[kind]
            assert not unknown, f"{section}.{name}: unknown settings {unknown}"
    protocols = COLLECTOR["receivers"]["otlp"]["protocols"]
    assert set(protocols) == {"grpc", "http"}


def test_collector_pipelines_use_defined_components_only() -> None:
    service = COLLECTOR["service"]
    used: set[tuple[str, str]] = set()
    for pipeline, spec in service["pipelines"].items():
        assert pipeline.split("/")[0] in ("metrics", "traces", "logs")
        for section in ("receivers", "processors", "exporters"):
            for name in spec.get(section, []):
                assert name in COLLECTOR[section], f"{pipeline}: {section} {name} is not defined"
                used.add((section, name))
    for section in ("receivers", "processors", "exporters"):
        for name in COLLECTOR[section]:
            assert (section, name) in used, f"{section} {name} is defined but unused"
    for name in service.get("extensions", []):
        assert name in COLLECTOR["extensions"]


def test_collector_keeps_the_names_the_dashboards_query() -> None:
    """Same names as the Python exporter: suffixes on, resource attributes on target_info only."""
    prometheus = COLLECTOR["exporters"]["prometheus"]
    assert prometheus["add_metric_suffixes"] is True
    assert prometheus["resource_to_telemetry_conversion"]["enabled"] is False
    assert "namespace" not in prometheus


def test_collector_exports_to_the_stack_backends() -> None:
    exporters = COLLECTOR["exporters"]
    assert exporters["otlp/tempo"]["endpoint"].startswith("tempo:")
    assert exporters["otlphttp/loki"]["endpoint"] == "http://loki:3100/otlp"
    assert load("loki.yaml")["limits_config"]["allow_structured_metadata"] is True
    tempo = load("tempo.yaml")
    assert tempo["server"]["http_listen_port"] == 3200
    assert set(tempo["distributor"]["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}


def test_datasource_uids_are_the_provisioned_ones() -> None:
    data = yaml.safe_load((REPO / "dashboards" / "provisioning" / "datasources.yaml").read_text())
    assert {d["uid"] for d in data["datasources"]} == {
        grafana.PROMETHEUS_UID, grafana.AUDIT_UID, grafana.TEMPO_UID, grafana.LOKI_UID,
    }  # fmt: skip


def test_postgres_init_creates_the_roles_the_grants_expect() -> None:
    script = (STACK / "postgres" / "create-roles.sh").read_text()
    roles = (REPO / "src" / "llm_soc2" / "audit" / "roles_postgres.sql").read_text()
    for role in ("llm_soc2_owner", "llm_soc2_writer", "llm_soc2_reader"):
        assert f"CREATE ROLE {role}" in script
        assert role in roles
    environment = COMPOSE["services"]["grafana"]["environment"]
    assert environment["LLM_SOC2_AUDIT_PG_USER"] == "llm_soc2_reader"
