"""Helpers for the governance tests: settings, and a real span pipeline (SDK TracerProvider + the LLM span
processor + the governance enrichers) whose submitted audit records are collected."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llm_soc2 import handoff
from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditRecord
from llm_soc2.config import Settings
from llm_soc2.governance import Governance
from llm_soc2.processor import LLMSpanProcessor

SECRET_KEY_HEX = "5a" * 32
SERVICE = "support-bot"
ENVIRONMENT = "production"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "service_name": SERVICE,
        "environment": ENVIRONMENT,
        "data_dir": tmp_path / "data",
        "secret_key_hex": SECRET_KEY_HEX,
        "prompt_registry": str(tmp_path / "llm-soc2.prompts.yaml"),
        "drift_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Pipeline:
    """Real spans through the real processor; records the enrichers submit are collected in ``records``
    and can be appended to an audit log with ``flush_to``."""

    settings: Settings
    governance: Governance
    tracer_provider: TracerProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    records: list[AuditRecord] = field(default_factory=list)

    def span(self, attributes: dict[str, Any] | None = None) -> ReadableSpan:
        """End one GenAI span with these attributes (over a chat/openai/gpt-4o base; ``None`` removes)."""
        base: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: "chat",
            sc.GEN_AI_PROVIDER_NAME: "openai",
            sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        }
        base.update(attributes or {})
        base = {k: v for k, v in base.items() if v is not None}
        with self.tracer_provider.get_tracer("test").start_as_current_span("chat gpt-4o", attributes=base):
            pass
        self.tracer_provider.force_flush()  # the processor works on a background thread
        return self.exporter.get_finished_spans()[-1]

    def metric(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        handoff.flush_all(10)  # histograms are recorded in the background
        data = self.reader.get_metrics_data()
        points: list[tuple[dict[str, Any], Any]] = []
        if data is None:
            return points
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        points.extend((dict(p.attributes), p.value) for p in metric.data.data_points)
        return points

    def kinds(self, kind: str) -> list[AuditRecord]:
        return [r for r in self.records if r.kind == kind]


def build_pipeline(settings: Settings, **governance_options: Any) -> Pipeline:
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    records: list[AuditRecord] = []
    governance_options.setdefault("audit_url", "")
    governance = Governance(
        settings, submit=records.append, meter_provider=meter_provider, **governance_options
    )
    exporter = InMemorySpanExporter()
    processor = LLMSpanProcessor(
        SimpleSpanProcessor(exporter), settings=settings, meter_provider=meter_provider
    )
    for enricher in governance.enrichers:
        processor.add_enricher(enricher)
    provider = TracerProvider(
        resource=Resource.create(
            {sc.SERVICE_NAME: settings.service_name, sc.DEPLOYMENT_ENVIRONMENT: settings.environment}
        )
    )
    provider.add_span_processor(processor)
    return Pipeline(settings, governance, provider, exporter, reader, records)


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def alertmanager_payload(status: str = "firing", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "version": "4",
        "groupKey": '{}:{alertname="LLMHighRisk"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "llm-soc2",
        "groupLabels": {"alertname": "LLMHighRisk"},
        "commonLabels": {
            "alertname": "LLMHighRisk",
            "severity": "critical",
            "llm_soc2_risk_category": "prompt_injection",
        },
        "commonAnnotations": {"summary": "High-risk interactions"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "LLMHighRisk", "severity": "critical"},
                "annotations": {"summary": "High-risk interactions"},
                "startsAt": "2025-06-15T15:00:00.123456789Z",
                "endsAt": "2025-06-15T15:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
                "fingerprint": "c6eadffa33fcdf37",
            }
        ],
    }
    payload.update(overrides)
    return payload
