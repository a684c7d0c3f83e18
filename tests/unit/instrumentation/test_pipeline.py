"""``llm_soc2.configure()``: idempotent, honours OTEL_SDK_DISABLED and the OTEL_* exporter variables,
never raises for bad configuration, and puts every exporter behind the one LLM span processor."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai.resources.chat.completions import completions as chat_module
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llm_soc2
from llm_soc2 import semconv
from llm_soc2.config import Settings
from llm_soc2.pipeline import Pipeline, exporter_names
from llm_soc2.processor import LLMSpanProcessor
from llm_soc2.testing import FakeProvider
from support.llm import SECRET_KEY_HEX

ORIGINAL_CREATE = chat_module.Completions.create


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", secret_key_hex=SECRET_KEY_HEX, audit_enabled=False, drift_enabled=False
    )


@pytest.fixture
def providers() -> Iterator[dict[str, object]]:
    yield {
        "tracer_provider": TracerProvider(),
        "meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]),
        "logger_provider": LoggerProvider(),
    }
    llm_soc2.shutdown()


def test_configure_is_idempotent(
    settings: Settings, providers: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    first = llm_soc2.configure(settings, span_exporters=[], log_exporters=[], **providers)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        second = llm_soc2.configure(settings)
    assert second is first
    assert any("already called" in r.getMessage() for r in caplog.records)


def test_spans_go_through_the_llm_processor_to_the_exporters(
    settings: Settings, providers: dict[str, object], fake_provider: FakeProvider
) -> None:
    exporter = InMemorySpanExporter()
    pipeline = llm_soc2.configure(settings, span_exporters=[exporter], log_exporters=[], **providers)  # type: ignore[arg-type]
    assert isinstance(pipeline.span_processor, LLMSpanProcessor)
    client = openai.OpenAI(
        base_url=fake_provider.openai.base_url, api_key="sk-pipe-0123456789abcdef", max_retries=0
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    assert pipeline.force_flush()

    (span,) = exporter.get_finished_spans()
    assert span.name == "chat gpt-4o-mini"
    assert span.attributes is not None
    assert semconv.API_KEY_FINGERPRINT in span.attributes


def test_processors_already_on_the_provider_receive_scrubbed_spans(
    settings: Settings, providers: dict[str, object], fake_provider: FakeProvider
) -> None:
    early = InMemorySpanExporter()
    tracer_provider = providers["tracer_provider"]
    assert isinstance(tracer_provider, TracerProvider)
    tracer_provider.add_span_processor(SimpleSpanProcessor(early))
    pipeline = llm_soc2.configure(settings, span_exporters=[], log_exporters=[], **providers)  # type: ignore[arg-type]
    key = "sk-live-scrubme0123456789abcdefghij"
    client = openai.OpenAI(base_url=fake_provider.openai.base_url, api_key=key, max_retries=0)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"my key: {key}"}]
    )
    pipeline.force_flush()

    (span,) = early.get_finished_spans()
    assert key not in str(dict(span.attributes or {}))
    assert span.attributes is not None
    assert semconv.API_KEY_FINGERPRINT in span.attributes


def test_sdk_disabled_means_nothing_is_instrumented(
    settings: Settings, providers: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    pipeline = llm_soc2.configure(Settings.from_env(data_dir=settings.data_dir), **providers)  # type: ignore[arg-type]
    assert pipeline.disabled
    assert pipeline.instrumentors == []
    assert chat_module.Completions.create is ORIGINAL_CREATE
    assert pipeline.force_flush()


def test_bad_exporter_configuration_is_logged_not_raised(
    settings: Settings,
    providers: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "no_such_exporter")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    with caplog.at_level(logging.WARNING):
        pipeline = llm_soc2.configure(settings, **providers)  # type: ignore[arg-type]
    assert isinstance(pipeline, Pipeline)
    assert not pipeline.disabled
    assert any("no_such_exporter" in r.getMessage() for r in caplog.records)
    assert len(pipeline.instrumentors) == 2


def test_shutdown_uninstruments_and_allows_a_new_pipeline(
    settings: Settings, providers: dict[str, object]
) -> None:
    first = llm_soc2.configure(settings, span_exporters=[], log_exporters=[], **providers)  # type: ignore[arg-type]
    assert chat_module.Completions.create is not ORIGINAL_CREATE
    llm_soc2.shutdown()
    assert chat_module.Completions.create is ORIGINAL_CREATE
    second = llm_soc2.configure(
        settings,
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(),
        logger_provider=LoggerProvider(),
        span_exporters=[],
        log_exporters=[],
    )
    assert second is not first


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ["otlp_proto_http"]),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ["otlp_proto_grpc"]),
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"},
            ["otlp_proto_http"],
        ),
        ({"OTEL_TRACES_EXPORTER": "console,otlp"}, ["console", "otlp_proto_http"]),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, ["otlp_proto_http"]),
    ],
)
def test_exporter_names_follow_the_otel_variables(environ: dict[str, str], expected: list[str]) -> None:
    assert exporter_names("traces", environ) == expected
