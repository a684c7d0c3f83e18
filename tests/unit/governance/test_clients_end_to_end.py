"""Governance end to end with real clients: ``openai``/``anthropic`` over HTTP to the fake provider,
our instrumentation, the real span processor with the governance enrichers, the real audit writer and a
SQLite audit log. A key is rotated (the old one overdue, retired, then rejected with 401), a prompt
changes without approval and is approved while the application runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from governance_support import SERVICE, make_settings, wait_for
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llm_soc2 import handoff
from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord, AuditWriter
from llm_soc2.config import Settings
from llm_soc2.fingerprint import fingerprint, template_hash
from llm_soc2.governance import Governance, approve, inventory, population, read_registry
from llm_soc2.governance.access import REGISTER, RETIRE, key_record
from llm_soc2.governance.changes import APPROVED, APPROVED_LATE
from llm_soc2.governance.period import NS_PER_S, Period
from llm_soc2.instrumentation.anthropic import AnthropicInstrumentor
from llm_soc2.instrumentation.openai import OpenAIInstrumentor
from llm_soc2.processor import LLMSpanProcessor, ProcessedInteraction
from llm_soc2.testing import FakeProvider

OLD_KEY = "sk-test-old-0123456789abcdefghijkl"
NEW_KEY = "sk-test-new-0123456789abcdefghijkl"
ANTHROPIC_KEY = "sk-ant-test-0123456789abcdefghij"
PROMPT_V1 = "You are the support assistant. Answer briefly."
PROMPT_V2 = "You are the support assistant. Answer briefly and cite the knowledge base."
DAY = 86400 * NS_PER_S


def interaction_sink(submit: Any) -> Any:
    """Interaction records as the audit sink writes them (the span's scrubbed attributes)."""

    def sink(interaction: ProcessedInteraction) -> None:
        span = interaction.span
        submit(
            AuditRecord(
                kind="interaction",
                time_unix_nano=span.end_time or time.time_ns(),
                service=SERVICE,
                trace_id=format(span.context.trace_id, "032x"),
                span_id=format(span.context.span_id, "016x"),
                attributes=dict(interaction.attributes),
            )
        )

    return sink


@dataclass
class App:
    settings: Settings
    log: AuditLog
    writer: AuditWriter
    governance: Governance
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    fake: FakeProvider
    provider: TracerProvider

    def fp(self, key: str) -> str:
        return fingerprint(key, self.settings.deployment_key(), purpose="api_key")

    def chat(self, key: str, system: str, **script: Any) -> ReadableSpan:
        if script:
            self.fake.openai.script(**script)
        client = openai.OpenAI(base_url=self.fake.openai.base_url, api_key=key, max_retries=0)
        try:
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": "Where is my order?"},
                ],
                user="customer-42",
            )
        except openai.APIStatusError:
            pass
        finally:
            client.close()
        self.provider.force_flush()  # the processor works on a background thread
        return self.exporter.get_finished_spans()[-1]

    def metric(self, name: str) -> dict[str, Any]:
        handoff.flush_all(10)  # histograms are recorded in the background
        data = self.reader.get_metrics_data()
        points: dict[str, Any] = {}
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            points[str(point.attributes.get(sc.API_KEY_FINGERPRINT, ""))] = point.value
        return points


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = make_settings(tmp_path, key_max_age_days=30)
    log = AuditLog.open(settings.resolved_audit_url, settings=settings)
    writer = AuditWriter(log, settings, witnesses=[])
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    governance = Governance(
        settings, submit=writer.submit, meter_provider=meter_provider, registry_reload_interval=0.1
    )
    exporter = InMemorySpanExporter()
    processor = LLMSpanProcessor(
        SimpleSpanProcessor(exporter), settings=settings, meter_provider=meter_provider
    )
    for enricher in governance.enrichers:
        processor.add_enricher(enricher)
    processor.add_sink(interaction_sink(writer.submit))
    provider = TracerProvider(resource=Resource.create({sc.SERVICE_NAME: SERVICE}))
    provider.add_span_processor(processor)
    instrumentors = [OpenAIInstrumentor(), AnthropicInstrumentor()]
    for instrumentor in instrumentors:
        instrumentor.instrument(tracer_provider=provider, meter_provider=meter_provider, settings=settings)
    with FakeProvider() as fake:
        yield App(settings, log, writer, governance, exporter, reader, fake, provider)
    for instrumentor in instrumentors:
        instrumentor.uninstrument()
    writer.shutdown()
    provider.shutdown()
    log.close()


def test_key_rotation_and_prompt_approval_with_real_clients(app: App) -> None:
    started = time.time_ns()
    old_fp, new_fp = app.fp(OLD_KEY), app.fp(NEW_KEY)
    registry = app.settings.prompt_registry
    approve(
        registry, template_hash(PROMPT_V1), ticket="CHG-1", approver="alice", on="2025-01-01", log=app.log
    )
    approve(registry, "gpt-4o-mini", ticket="CHG-2", approver="alice", on="2025-01-01", log=app.log)
    # the old key was issued 45 days ago; the rotation policy is 30 days
    app.log.append([key_record(REGISTER, old_fp, registered_at=started - 45 * DAY, service=SERVICE)])
    app.governance.refresh()
    app.governance.changes.watcher.reload()

    first_old = app.chat(OLD_KEY, PROMPT_V1)
    last_good_old = app.chat(OLD_KEY, PROMPT_V1)
    for span in (first_old, last_good_old):
        attrs = span.attributes or {}
        assert attrs[sc.API_KEY_FINGERPRINT] == old_fp
        assert attrs[sc.API_KEY_KNOWN] is True
        assert attrs[sc.CHANGE_APPROVED] is True
    assert OLD_KEY not in str(dict(first_old.attributes or {}))
    ages = app.metric(sc.METRIC_API_KEY_AGE)
    assert ages[old_fp] > 30 * 86400  # the dashboards' overdue alert compares this with max_age

    # rotation: the new key is registered as replacing the old one, which is retired
    app.log.append(
        [
            key_record(REGISTER, new_fp, replaces=old_fp, service=SERVICE),
            key_record(RETIRE, old_fp, note="rotated", service=SERVICE),
        ]
    )
    app.governance.refresh()
    first_new = app.chat(NEW_KEY, PROMPT_V1)
    assert (first_new.attributes or {})[sc.API_KEY_KNOWN] is True

    # a prompt change shipped without approval
    changed = app.chat(NEW_KEY, PROMPT_V2)
    changed_attrs = changed.attributes or {}
    assert changed_attrs[sc.CHANGE_APPROVED] is False
    assert changed_attrs[sc.CHANGE_UNAPPROVED_VERSIONS] == (f"prompt:{template_hash(PROMPT_V2)}",)

    # a straggler still holds the revoked key: the provider answers 401
    rejected = app.chat(OLD_KEY, PROMPT_V1, status=401, error_type="invalid_api_key", message="revoked")
    rejected_attrs = rejected.attributes or {}
    assert rejected_attrs[sc.ERROR_TYPE] == "AuthenticationError"
    assert rejected_attrs[sc.API_KEY_KNOWN] is False  # retired

    # the change is approved while the application runs; later spans are clean
    approve(registry, template_hash(PROMPT_V2), ticket="CHG-3", approver="bob", log=app.log)
    deadline = time.monotonic() + 5
    while not ((last_new := app.chat(NEW_KEY, PROMPT_V2)).attributes or {}).get(sc.CHANGE_APPROVED):
        assert time.monotonic() < deadline, "the approval never reached the processor"
        time.sleep(0.1)

    client = anthropic.Anthropic(
        base_url=app.fake.anthropic.base_url, api_key=ANTHROPIC_KEY, max_retries=0, open_telemetry=False
    )
    client.messages.create(
        model="claude-sonnet-4", max_tokens=50, system=PROMPT_V1, messages=[{"role": "user", "content": "Hi"}]
    )
    client.close()

    app.provider.force_flush()  # the Anthropic span is processed (and handed to the audit writer) in the background
    assert app.writer.flush(10)
    period = Period(started - NS_PER_S, time.time_ns() + NS_PER_S)
    keys = {k.fingerprint: k for k in inventory(app.log, period, max_age_days=30).keys}
    old, new = keys[old_fp], keys[new_fp]
    assert old.first_use == first_old.end_time
    assert old.last_use == rejected.end_time
    assert old.interactions == 3
    assert old.auth_errors == {401: 1}
    assert old.overdue
    assert old.status == "retired"
    assert old.replaced_by == new_fp
    assert new.first_use == first_new.end_time
    assert new.last_use == last_new.end_time
    assert not new.overdue
    assert new.known is True
    assert new.models == {"gpt-4o-mini"}
    anthropic_fp = app.fp(ANTHROPIC_KEY)
    assert keys[anthropic_fp].providers == {"anthropic"}
    assert keys[anthropic_fp].known is False  # neither registered nor allow-listed

    changes = {c.id: c for c in population(app.log, period, read_registry(registry)).changes}
    assert changes[template_hash(PROMPT_V1)].status == APPROVED
    assert changes["gpt-4o-mini"].status == APPROVED
    assert changes[template_hash(PROMPT_V2)].status == APPROVED_LATE
    assert changes[template_hash(PROMPT_V2)].unapproved_interactions >= 1
    assert changes[template_hash(PROMPT_V2)].trace_id == format(changed.context.trace_id, "032x")
    assert "claude-sonnet-4" in changes  # a model version never approved
    wait_for(lambda: app.metric(sc.METRIC_API_KEY_UNKNOWN).get(old_fp) == 1)
