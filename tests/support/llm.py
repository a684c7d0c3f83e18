"""Fixtures for the instrumentation tests: the fake provider, in-memory OpenTelemetry providers, and
real ``openai``/``anthropic`` clients pointed at the fake provider.

* ``fake_provider``: a running ``llm_soc2.testing.FakeProvider`` (one per test);
* ``recorder``: TracerProvider / MeterProvider / LoggerProvider with in-memory exporters and readers;
* ``instrument``: a function that instruments both client libraries into ``recorder`` with the given
  settings (content capture mode, content limit ...) and uninstruments them after the test;
* ``instrumented``: ``instrument()`` with the defaults (SPAN_ONLY content), returning the recorder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llm_soc2 import handoff, semconv
from llm_soc2.config import ContentCapture, Settings
from llm_soc2.instrumentation.anthropic import AnthropicInstrumentor
from llm_soc2.instrumentation.openai import OpenAIInstrumentor
from llm_soc2.testing import FakeProvider

# A fixed deployment key, so fingerprints are reproducible within a test run.
SECRET_KEY_HEX = "5a" * 32
OPENAI_KEY = "sk-test-openai-0123456789abcdefghij"
ANTHROPIC_KEY = "sk-ant-test-0123456789abcdefghij"


@dataclass
class Recorder:
    """In-memory providers, and helpers to read what they recorded."""

    tracer_provider: TracerProvider = field(default_factory=TracerProvider)
    span_exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    metric_reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    log_exporter: InMemoryLogRecordExporter = field(default_factory=InMemoryLogRecordExporter)
    meter_provider: MeterProvider = field(init=False)
    logger_provider: LoggerProvider = field(default_factory=LoggerProvider)

    def __post_init__(self) -> None:
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    def spans(self) -> list[ReadableSpan]:
        return list(self.span_exporter.get_finished_spans())

    def genai_spans(self) -> list[ReadableSpan]:
        """Spans carrying gen_ai.operation.name, from any instrumentation scope."""
        return [s for s in self.spans() if semconv.GEN_AI_OPERATION_NAME in (s.attributes or {})]

    def only_span(self) -> ReadableSpan:
        spans = self.genai_spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def metric_points(self, name: str) -> list[Any]:
        handoff.flush_all(10)  # the instrumentation records its histograms in the background
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        if data is None:
            return points
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def logs(self) -> list[Any]:
        return [record.log_record for record in self.log_exporter.get_finished_logs()]


def content(span: ReadableSpan, key: str) -> Any:
    """A content attribute decoded from its JSON string."""
    value = (span.attributes or {}).get(key)
    assert isinstance(value, str), f"{key} missing on {span.name}: {dict(span.attributes or {})}"
    return json.loads(value)


def assert_completed_anthropic_stream(span: ReadableSpan, text: str, output_tokens: int) -> None:
    """The span of an Anthropic message stream read to its end."""
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == output_tokens
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert isinstance(attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK], float)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": text}]


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "secret_key_hex": SECRET_KEY_HEX,
        "content_capture": ContentCapture.SPAN_ONLY,
        "audit_enabled": False,
        "drift_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    recording.tracer_provider.shutdown()
    recording.meter_provider.shutdown()
    recording.logger_provider.shutdown()


Instrument = Callable[..., Recorder]


@pytest.fixture
def instrument(recorder: Recorder, tmp_path: Path) -> Iterator[Instrument]:
    instrumentors: list[Any] = []

    def _instrument(**overrides: Any) -> Recorder:
        settings = settings_for(tmp_path, **overrides)
        for instrumentor in (OpenAIInstrumentor(), AnthropicInstrumentor()):
            if instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.uninstrument()
            instrumentor.instrument(
                tracer_provider=recorder.tracer_provider,
                meter_provider=recorder.meter_provider,
                logger_provider=recorder.logger_provider,
                settings=settings,
            )
            instrumentors.append(instrumentor)
        return recorder

    yield _instrument
    for instrumentor in instrumentors:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


@pytest.fixture
def instrumented(instrument: Instrument) -> Recorder:
    return instrument()


@pytest.fixture
def openai_client(fake_provider: FakeProvider) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=fake_provider.openai.base_url, api_key=OPENAI_KEY, max_retries=0)
    yield client
    client.close()


@pytest.fixture
async def async_openai_client(fake_provider: FakeProvider) -> Any:
    client = openai.AsyncOpenAI(base_url=fake_provider.openai.base_url, api_key=OPENAI_KEY, max_retries=0)
    yield client
    await client.close()


@pytest.fixture
def anthropic_client(fake_provider: FakeProvider) -> Iterator[anthropic.Anthropic]:
    # The SDK's own spans are off here; tests/unit/instrumentation/test_coexistence.py turns them on.
    client = anthropic.Anthropic(
        base_url=fake_provider.anthropic.base_url, api_key=ANTHROPIC_KEY, max_retries=0, open_telemetry=False
    )
    yield client
    client.close()


@pytest.fixture
async def async_anthropic_client(fake_provider: FakeProvider) -> Any:
    client = anthropic.AsyncAnthropic(
        base_url=fake_provider.anthropic.base_url, api_key=ANTHROPIC_KEY, max_retries=0, open_telemetry=False
    )
    yield client
    await client.close()
