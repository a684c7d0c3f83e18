"""``opentelemetry-instrument python examples/<app>.py``: zero-code set-up through our distro and
configurator, real clients against the fake provider, real OTLP/HTTP to a local receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_soc2 import semconv
from llm_soc2.fingerprint import fingerprint
from llm_soc2.testing import FakeProvider, ToolCall
from support.llm import SECRET_KEY_HEX
from support.otlp import OTLPHttpReceiver, ReceivedSpan

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OPENAI_KEY = "sk-proj-e2eKEY0123456789abcdefghijklmnop"
ANTHROPIC_KEY = "sk-ant-api03-e2eKEY0123456789abcdefghij"


@pytest.fixture
def receiver() -> Iterator[OTLPHttpReceiver]:
    with OTLPHttpReceiver() as running:
        yield running


def _run(app: str, receiver: OTLPHttpReceiver, tmp_path: Path, extra: dict[str, str]) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "LLM_SOC2_", "OPENAI_", "ANTHROPIC_"))
    }
    env.update(
        {
            "OTEL_PYTHON_DISTRO": "llm_soc2",
            "OTEL_PYTHON_CONFIGURATOR": "llm_soc2",
            "OTEL_SERVICE_NAME": f"e2e-{app}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "none",
            "LLM_SOC2_DATA_DIR": str(tmp_path / "data"),
            "LLM_SOC2_SECRET_KEY": SECRET_KEY_HEX,
            "LLM_SOC2_AUDIT": "false",
            "LLM_SOC2_DRIFT": "false",
            **extra,
        }
    )
    result = subprocess.run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, str(ROOT / "examples" / f"{app}.py")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def _genai(receiver: OTLPHttpReceiver) -> list[ReceivedSpan]:
    return [s for s in receiver.spans() if semconv.GEN_AI_OPERATION_NAME in s.attributes]


def test_openai_app(receiver: OTLPHttpReceiver, fake_provider: FakeProvider, tmp_path: Path) -> None:
    fake_provider.openai.script("Lisbon is sunny and walkable.")
    fake_provider.openai.script("Start at Belém.")
    fake_provider.openai.script(text="", tool_calls=[ToolCall("get_weather", {"city": "Lisbon"})])
    fake_provider.openai.script("It is 24°C and sunny.")
    output = _run(
        "openai_app",
        receiver,
        tmp_path,
        {"OPENAI_BASE_URL": fake_provider.openai.base_url, "OPENAI_API_KEY": OPENAI_KEY},
    )

    assert "chat: Lisbon is sunny and walkable." in output
    assert len(fake_provider.openai.requests) == 5
    spans = _genai(receiver)
    assert [s.name for s in spans] == [
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "embeddings text-embedding-3-small",
    ]
    expected_key = fingerprint(OPENAI_KEY, bytes.fromhex(SECRET_KEY_HEX), purpose="api_key")
    for span in spans:
        assert span.scope == semconv.INSTRUMENTATION_SCOPE
        assert span.resource[semconv.SERVICE_NAME] == "e2e-openai_app"
        assert span.attributes[semconv.API_KEY_FINGERPRINT] == expected_key
        assert span.attributes[semconv.PROVIDER_HOST] == f"127.0.0.1:{fake_provider.port}"
    chat, stream, tool_call, tool_answer, _ = spans
    assert "Why visit Lisbon?" in chat.attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert "Lisbon is sunny and walkable." in chat.attributes[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert semconv.END_USER_HASH in chat.attributes
    assert chat.attributes[semconv.PROMPT_TEMPLATE_HASH] == stream.attributes[semconv.PROMPT_TEMPLATE_HASH]
    assert stream.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert tool_call.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["tool_calls"]
    assert "tool_call_response" in tool_answer.attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert receiver.wait_for(lambda: semconv.METRIC_OPERATION_DURATION in receiver.metric_names())
    assert semconv.METRIC_TOKEN_USAGE in receiver.metric_names()
    for raw in receiver.raw:
        assert OPENAI_KEY.encode() not in raw


def test_anthropic_app_with_the_sdks_own_tracing_on(
    receiver: OTLPHttpReceiver, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.anthropic.script("Hamlet is a tragedy of revenge.")
    fake_provider.anthropic.script("Macbeth: ambition and ruin.")
    fake_provider.anthropic.script("King Lear loses everything.")
    fake_provider.anthropic.script(
        "Let me look.", tool_calls=[ToolCall("lookup_play", {"title": "The Tempest"})]
    )
    output = _run(
        "anthropic_app",
        receiver,
        tmp_path,
        {
            "ANTHROPIC_BASE_URL": fake_provider.anthropic.base_url,
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "ANTHROPIC_OPEN_TELEMETRY": "true",  # the SDK traces its calls too
        },
    )

    assert "stream helper: Macbeth: ambition and ruin." in output
    spans = _genai(receiver)
    # Four calls, four GenAI spans: the SDK's nested duplicates never reach the collector.
    assert len(spans) == 4
    assert {s.scope for s in spans} == {semconv.INSTRUMENTATION_SCOPE}
    message, helper, raw, tool_use = spans
    assert "What is Hamlet about?" in message.attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert "Be brief." in message.attributes[semconv.GEN_AI_SYSTEM_INSTRUCTIONS]
    assert semconv.END_USER_HASH in message.attributes
    assert helper.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert "Macbeth: ambition and ruin." in helper.attributes[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert raw.attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert tool_use.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["tool_use"]
    assert '"lookup_play"' in tool_use.attributes[semconv.GEN_AI_TOOL_DEFINITIONS]
    for raw_body in receiver.raw:
        assert ANTHROPIC_KEY.encode() not in raw_body


def test_sdk_disabled_runs_the_app_untouched(
    receiver: OTLPHttpReceiver, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    output = _run(
        "openai_app",
        receiver,
        tmp_path,
        {
            "OPENAI_BASE_URL": fake_provider.openai.base_url,
            "OPENAI_API_KEY": OPENAI_KEY,
            "OTEL_SDK_DISABLED": "true",
        },
    )
    assert "embeddings: 2 vectors" in output
    assert len(fake_provider.openai.requests) == 5
    assert receiver.raw == []


def test_acceptance_app_exports_no_personal_data_secret_or_key(
    receiver: OTLPHttpReceiver, tmp_path: Path
) -> None:
    """The acceptance scenario under ``opentelemetry-instrument`` with the SDK's own Anthropic tracing on:
    nothing sensitive in the OTLP bytes, and each span says what was found and how risky it was."""
    import runpy

    app = runpy.run_path(str(ROOT / "examples" / "acceptance_app.py"))  # its constants; main() is not run

    output = _run(
        "acceptance_app",
        receiver,
        tmp_path,
        {"ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE": "content", "OTEL_LOGS_EXPORTER": "otlp"},
    )
    assert "4111 1111 1111 1111" in output  # the application itself sees the provider's answer
    assert receiver.wait_for(lambda: len(_genai(receiver)) == 4)
    raw = b"".join(receiver.raw)
    for sensitive in (
        "jane.doe@example.com",
        "415 555 0134",
        "536-22-8913",
        "4111 1111 1111 1111",
        "AKIAIOSFODNN7EXAMPLE",
        app["OPENAI_KEY"],
        app["ANTHROPIC_KEY"],
        "customer-42",
    ):
        assert sensitive.encode() not in raw, sensitive
    personal, leak, injection, pasted_key = _genai(receiver)
    assert set(personal.attributes[semconv.PII_INPUT_TYPES]) == {"EMAIL", "PHONE", "US_SSN"}
    assert personal.attributes[semconv.PII_OUTPUT_DETECTED] is False
    assert set(leak.attributes[semconv.PII_OUTPUT_TYPES]) == {"CREDIT_CARD", "AWS_ACCESS_KEY"}
    assert "data_leakage" in leak.attributes[semconv.RISK_CATEGORIES]
    assert leak.attributes[semconv.RISK_LEVEL] in ("high", "critical")
    assert "prompt_injection" in injection.attributes[semconv.RISK_CATEGORIES]
    assert injection.attributes[semconv.RISK_LEVEL] in ("high", "critical")
    assert pasted_key.attributes[semconv.PII_INPUT_TYPES] == ["CLIENT_API_KEY"]
    assert "[CLIENT_API_KEY]" in pasted_key.attributes[semconv.GEN_AI_INPUT_MESSAGES]
