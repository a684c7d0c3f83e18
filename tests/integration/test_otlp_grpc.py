"""``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``: the pipeline picks the gRPC exporter and spans reach a real
gRPC TraceService."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

import llm_soc2
from llm_soc2 import semconv
from llm_soc2.config import Settings
from llm_soc2.testing import FakeProvider
from support.llm import SECRET_KEY_HEX
from support.otlp import OTLPGrpcReceiver


@pytest.fixture
def receiver() -> Iterator[OTLPGrpcReceiver]:
    with OTLPGrpcReceiver() as running:
        yield running


def test_spans_over_grpc(
    receiver: OTLPGrpcReceiver, fake_provider: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    settings = Settings(
        data_dir=tmp_path / "data", secret_key_hex=SECRET_KEY_HEX, audit_enabled=False, drift_enabled=False
    )
    pipeline = llm_soc2.configure(
        settings,
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(),
        logger_provider=LoggerProvider(),
        log_exporters=[],
    )
    try:
        client = openai.OpenAI(
            base_url=fake_provider.openai.base_url, api_key="sk-grpc-0123456789abcd", max_retries=0
        )
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], stream=True
        ):
            pass
        pipeline.force_flush()
        assert receiver.wait_for(lambda: len(receiver.spans()) >= 1)
    finally:
        llm_soc2.shutdown()

    # Only a gRPC exporter can talk to this receiver.
    (span,) = receiver.spans()
    assert span.name == "chat gpt-4o-mini"
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert span.attributes[semconv.GEN_AI_REQUEST_STREAM] is True
