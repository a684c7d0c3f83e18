"""The whole in-process pipeline: real clients over HTTP against the fake provider, ``configure()``,
scrubbed export, and the audit log written by the background writer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llm_soc2
from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog
from llm_soc2.config import Settings
from llm_soc2.fingerprint import KNOWN_SECRETS
from llm_soc2.pipeline import Pipeline
from llm_soc2.testing import FakeProvider
from support.llm import ANTHROPIC_KEY, OPENAI_KEY, settings_for

EMAIL = "maria.garcia@example.org"
CARD = "5555 5555 5555 4444"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, audit_enabled=True, service_name="support-bot", checkpoint_every=1)


@pytest.fixture
def pipeline(settings: Settings) -> Iterator[tuple[Pipeline, InMemorySpanExporter]]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    exporter = InMemorySpanExporter()
    # Fresh providers: configure() attaches to them instead of the process-wide globals.
    pipe = llm_soc2.configure(
        settings,
        tracer_provider=TracerProvider(resource=Resource.create({sc.SERVICE_NAME: "support-bot"})),
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        span_exporters=[exporter],
        log_exporters=[],
    )
    yield pipe, exporter
    pipe.shutdown()
    KNOWN_SECRETS.clear()


def test_interactions_are_exported_scrubbed_and_audited(
    pipeline: tuple[Pipeline, InMemorySpanExporter], settings: Settings
) -> None:
    pipe, exporter = pipeline
    with FakeProvider() as fake:
        fake.openai.script(f"Sure. The card on file is {CARD}.")
        client = openai.OpenAI(base_url=fake.openai.base_url, api_key=OPENAI_KEY, max_retries=0)
        answer = client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {"role": "system", "content": "You are a billing assistant."},
                {"role": "user", "content": f"I am {EMAIL}, what card do you have for me?"},
            ],
        )
        # The application sees the provider's answer untouched.
        assert answer.choices[0].message.content == f"Sure. The card on file is {CARD}."
        fake.anthropic.script("Hello!")
        claude = anthropic.Anthropic(
            base_url=fake.anthropic.base_url, api_key=ANTHROPIC_KEY, max_retries=0, open_telemetry=False
        )
        claude.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=64,
            messages=[{"role": "user", "content": f"my key is {OPENAI_KEY}"}],
        )
    assert pipe.force_flush()

    spans = exporter.get_finished_spans()
    assert [s.attributes[sc.GEN_AI_PROVIDER_NAME] for s in spans] == ["openai", "anthropic"]
    exported = "\n".join(json.dumps(dict(s.attributes or {}), default=str) for s in spans)
    for secret in (EMAIL, CARD, OPENAI_KEY, ANTHROPIC_KEY):
        assert secret not in exported
    openai_span, anthropic_span = spans
    assert openai_span.attributes[sc.PII_OUTPUT_TYPES] == ("CREDIT_CARD",)
    assert openai_span.attributes[sc.PII_INPUT_TYPES] == ("EMAIL",)
    assert "data_leakage" in openai_span.attributes[sc.RISK_CATEGORIES]
    assert anthropic_span.attributes[sc.PII_INPUT_TYPES] == ("CLIENT_API_KEY",)

    log = AuditLog.open(settings=settings)
    try:
        records = list(log.records(kinds=["interaction"]))
        assert [r.attributes[sc.GEN_AI_PROVIDER_NAME] for r in records] == ["openai", "anthropic"]
        first = records[0]
        assert first.service == "support-bot"
        assert first.trace_id == format(openai_span.context.trace_id, "032x")
        assert first.attributes[sc.RISK_LEVEL] == openai_span.attributes[sc.RISK_LEVEL]
        assert first.attributes[sc.DURATION] > 0
        stored = json.dumps(first.content, default=str)
        assert "[CREDIT_CARD]" in stored
        assert CARD not in stored
        assert EMAIL not in stored
        report = log.verify()
        assert report.ok, report.summary()
    finally:
        log.close()
