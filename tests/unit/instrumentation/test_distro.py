"""The distro loads our instrumentors with the pipeline's providers and skips duplicate ones."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import openai
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llm_soc2
from llm_soc2.config import Settings
from llm_soc2.distro import LLMSoc2Distro
from llm_soc2.instrumentation.openai import OpenAIInstrumentor
from llm_soc2.testing import FakeProvider
from support.llm import SECRET_KEY_HEX

GROUP = "opentelemetry_instrumentor"


def test_official_genai_instrumentors_are_not_loaded() -> None:
    # Loading these would import modules that are not installed here: skipping means no error at all.
    for name, value in (
        ("openai", "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor"),
        ("anthropic", "opentelemetry.instrumentation.genai.anthropic:AnthropicInstrumentor"),
        ("openai_v2", "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor"),
    ):
        LLMSoc2Distro().load_instrumentor(EntryPoint(name=name, value=value, group=GROUP))


def test_our_instrumentor_gets_the_pipelines_providers(tmp_path: Path, fake_provider: FakeProvider) -> None:
    exporter = InMemorySpanExporter()
    pipeline = llm_soc2.configure(
        Settings(data_dir=tmp_path, secret_key_hex=SECRET_KEY_HEX, audit_enabled=False, drift_enabled=False),
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(),
        logger_provider=LoggerProvider(),
        span_exporters=[exporter],
        log_exporters=[],
        instrument=False,
    )
    try:
        assert not OpenAIInstrumentor().is_instrumented_by_opentelemetry
        LLMSoc2Distro().load_instrumentor(
            EntryPoint(
                name="llm_soc2_openai",
                value="llm_soc2.instrumentation.openai:OpenAIInstrumentor",
                group=GROUP,
            )
        )
        assert [type(i) for i in pipeline.instrumentors] == [OpenAIInstrumentor]
        client = openai.OpenAI(
            base_url=fake_provider.openai.base_url, api_key="sk-distro-0123456789", max_retries=0
        )
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        pipeline.force_flush()
        assert [s.name for s in exporter.get_finished_spans()] == ["chat gpt-4o-mini"]
    finally:
        llm_soc2.shutdown()
    assert not OpenAIInstrumentor().is_instrumented_by_opentelemetry
