"""``llm_soc2.configure()`` exporting real OTLP/HTTP protobuf to a local receiver, with the real clients
against the fake provider: what reaches the wire is one GenAI span per call, with the SOC 2 context,
and never the API key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

import llm_soc2
from llm_soc2 import semconv
from llm_soc2.config import Settings
from llm_soc2.fingerprint import fingerprint
from llm_soc2.pipeline import Pipeline
from llm_soc2.testing import FakeProvider
from support.llm import SECRET_KEY_HEX
from support.otlp import OTLPHttpReceiver, ReceivedSpan

OPENAI_KEY = "sk-proj-otlpTEST0123456789abcdefghijklmnop"
ANTHROPIC_KEY = "sk-ant-api03-otlpTEST0123456789abcdefghij"


@pytest.fixture
def receiver() -> Iterator[OTLPHttpReceiver]:
    with OTLPHttpReceiver() as running:
        yield running


@pytest.fixture
def pipeline(
    receiver: OTLPHttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Pipeline, TracerProvider]]:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    settings = Settings(
        service_name="otlp-http-test",
        data_dir=tmp_path / "data",
        secret_key_hex=SECRET_KEY_HEX,
        audit_enabled=False,
        drift_enabled=False,
    )
    tracer_provider = TracerProvider()
    configured = llm_soc2.configure(
        settings,
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        logger_provider=LoggerProvider(),
        log_exporters=[],
    )
    yield configured, tracer_provider
    llm_soc2.shutdown()


def _genai(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [s for s in spans if semconv.GEN_AI_OPERATION_NAME in s.attributes]


def test_one_genai_span_per_call_reaches_the_collector(
    pipeline: tuple[Pipeline, TracerProvider], receiver: OTLPHttpReceiver, fake_provider: FakeProvider
) -> None:
    configured, tracer_provider = pipeline
    assert [type(i).__name__ for i in configured.instrumentors] == [
        "OpenAIInstrumentor",
        "AnthropicInstrumentor",
    ]
    fake_provider.openai.script("The capital of France is Paris.")
    fake_provider.anthropic.script("Hamlet is a tragedy.", times=2)
    oai = openai.OpenAI(base_url=fake_provider.openai.base_url, api_key=OPENAI_KEY, max_retries=0)
    # The Anthropic SDK's own tracing is on, into the same provider.
    claude = anthropic.Anthropic(
        base_url=fake_provider.anthropic.base_url,
        api_key=ANTHROPIC_KEY,
        max_retries=0,
        open_telemetry={"tracer_provider": tracer_provider},
    )

    oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You answer geography questions."},
            # The key pasted into a prompt must not leave the process either.
            {"role": "user", "content": f"What is the capital of France? My key is {OPENAI_KEY}"},
        ],
    )
    claude.messages.create(
        model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "Hamlet?"}]
    )
    with claude.messages.stream(
        model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "Again?"}]
    ) as stream:
        stream.get_final_text()
    assert configured.force_flush()

    assert receiver.wait_for(lambda: len(_genai(receiver.spans())) >= 3)
    spans = _genai(receiver.spans())
    assert sorted(s.name for s in spans) == [
        "chat claude-sonnet-4-6",
        "chat claude-sonnet-4-6",
        "chat gpt-4o-mini",
    ]
    assert {s.scope for s in spans} == {semconv.INSTRUMENTATION_SCOPE}
    key = bytes.fromhex(SECRET_KEY_HEX)
    by_model = {s.attributes[semconv.GEN_AI_REQUEST_MODEL]: s for s in spans}
    openai_span = by_model["gpt-4o-mini"]
    assert openai_span.kind == 3  # SPAN_KIND_CLIENT
    assert openai_span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert openai_span.attributes[semconv.API_KEY_FINGERPRINT] == fingerprint(
        OPENAI_KEY, key, purpose="api_key"
    )
    assert openai_span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert semconv.PROMPT_TEMPLATE_HASH in openai_span.attributes
    claude_span = by_model["claude-sonnet-4-6"]
    assert claude_span.attributes[semconv.API_KEY_FINGERPRINT] == fingerprint(
        ANTHROPIC_KEY, key, purpose="api_key"
    )
    for raw in receiver.raw:
        assert OPENAI_KEY.encode() not in raw
        assert ANTHROPIC_KEY.encode() not in raw


def test_content_reaches_the_collector_scrubbed(
    pipeline: tuple[Pipeline, TracerProvider], receiver: OTLPHttpReceiver, fake_provider: FakeProvider
) -> None:
    configured, _ = pipeline
    fake_provider.openai.script("Glad to help with your trip.")
    client = openai.OpenAI(base_url=fake_provider.openai.base_url, api_key=OPENAI_KEY, max_retries=0)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Plan a weekend trip to Lisbon"}]
    )
    configured.force_flush()

    assert receiver.wait_for(lambda: len(_genai(receiver.spans())) >= 1)
    (span,) = _genai(receiver.spans())
    assert "Plan a weekend trip to Lisbon" in str(span.attributes.get(semconv.GEN_AI_INPUT_MESSAGES))
    assert "Glad to help with your trip." in str(span.attributes.get(semconv.GEN_AI_OUTPUT_MESSAGES))
