"""Content capture modes, truncation to the byte budget, and binary parts."""

from __future__ import annotations

import base64
import json

import anthropic
import openai

from llm_soc2 import semconv
from llm_soc2.config import ContentCapture
from llm_soc2.testing import FakeProvider
from support.llm import Instrument, content

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Describe the Eiffel Tower."},
]
CONTENT_KEYS = set(semconv.GEN_AI_CONTENT_ATTRIBUTES)


def test_no_content_mode_records_no_content_but_keeps_the_context(
    instrument: Instrument, openai_client: openai.OpenAI
) -> None:
    recorder = instrument(content_capture=ContentCapture.NO_CONTENT)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    span = recorder.only_span()
    attributes = dict(span.attributes or {})
    assert not CONTENT_KEYS & set(attributes)
    assert semconv.PROMPT_TEMPLATE_HASH in attributes  # a hash, not content
    assert semconv.API_KEY_FINGERPRINT in attributes
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert recorder.logs() == []


def test_event_only_mode_emits_the_details_event_and_no_span_content(
    instrument: Instrument, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    recorder = instrument(content_capture=ContentCapture.EVENT_ONLY)
    fake_provider.openai.script("It is a wrought-iron tower.")
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    span = recorder.only_span()
    assert not CONTENT_KEYS & set(span.attributes or {})
    (record,) = recorder.logs()
    assert record.event_name == semconv.GEN_AI_INFERENCE_DETAILS_EVENT
    assert record.trace_id == span.context.trace_id
    assert record.span_id == span.context.span_id
    attributes = dict(record.attributes)
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    # Structured values on the event, not JSON strings.
    inputs = attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert inputs[1]["role"] == "user"
    assert inputs[1]["parts"][0]["content"] == "Describe the Eiffel Tower."
    outputs = attributes[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert outputs[0]["parts"][0]["content"] == "It is a wrought-iron tower."
    assert outputs[0]["finish_reason"] == "stop"


def test_span_and_event_mode_records_both(
    instrument: Instrument, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    recorder = instrument(content_capture=ContentCapture.SPAN_AND_EVENT)
    fake_provider.anthropic.script("Tall.")
    anthropic_client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=10,
        system="Be brief.",
        messages=[{"role": "user", "content": "Hi"}],
    )

    span = recorder.only_span()
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": "Tall."}]
    (record,) = recorder.logs()
    assert record.attributes[semconv.GEN_AI_SYSTEM_INSTRUCTIONS][0]["content"] == "Be brief."
    assert record.attributes[semconv.GEN_AI_OUTPUT_MESSAGES][0]["parts"][0]["content"] == "Tall."
    assert record.attributes[semconv.API_KEY_FINGERPRINT] == span.attributes[semconv.API_KEY_FINGERPRINT]


def test_long_content_is_truncated_to_valid_json(
    instrument: Instrument, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    recorder = instrument(max_content_bytes=1024)
    long_prompt = "The quick brown fox jumps over the lazy dog. " * 200  # ~9 KB
    fake_provider.openai.script("x" * 3000)
    openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": long_prompt}, {"role": "user", "content": "short"}],
    )

    span = recorder.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.CONTENT_TRUNCATED] is True
    for key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        text = str(attributes[key])
        assert len(text.encode()) <= 1024
        json.loads(text)  # still valid JSON
    inputs = content(span, semconv.GEN_AI_INPUT_MESSAGES)
    assert inputs[0]["parts"][0]["content"].startswith("The quick brown fox")
    assert "characters truncated]" in inputs[0]["parts"][0]["content"]
    assert inputs[1]["parts"][0]["content"] == "short"  # short strings are kept whole
    # The provider got the whole prompt: truncation only touches the record.
    assert fake_provider.openai.last_request.body["messages"][0]["content"] == long_prompt


def test_streamed_output_is_bounded_while_it_accumulates(
    instrument: Instrument, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    recorder = instrument(max_content_bytes=512)
    fake_provider.openai.script("y" * 5000, chunk_size=100)
    for _ in openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "go"}], stream=True
    ):
        pass

    span = recorder.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.CONTENT_TRUNCATED] is True
    assert len(str(span.attributes[semconv.GEN_AI_OUTPUT_MESSAGES]).encode()) <= 512


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8).decode()
WAV = base64.b64encode(b"RIFF" + bytes(1000)).decode()


def test_binary_parts_are_recorded_by_type_and_size_never_as_base64(
    instrumented: object, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/tower.jpg"}},
                    {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
                ],
            }
        ],
    )

    span = instrumented.only_span()  # type: ignore[attr-defined]
    raw = span.attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert PNG[:100] not in raw
    assert WAV[:100] not in raw
    parts = json.loads(raw)[0]["parts"]
    assert parts == [
        {"type": "text", "content": "What is in this picture?"},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "size": 8 + 256 * 8},
        {"type": "uri", "modality": "image", "uri": "https://example.com/tower.jpg"},
        {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "size": 1004},
    ]


def test_anthropic_images_and_documents(
    instrumented: object, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    pdf = base64.b64encode(b"%PDF-1.7" + bytes(500)).decode()
    anthropic_client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=10,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": PNG}},
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                    {"type": "text", "text": "Compare them."},
                ],
            }
        ],
    )

    span = instrumented.only_span()  # type: ignore[attr-defined]
    raw = span.attributes[semconv.GEN_AI_INPUT_MESSAGES]
    assert pdf[:60] not in raw
    assert PNG[:60] not in raw
    assert json.loads(raw)[0]["parts"] == [
        {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "size": 8 + 256 * 8},
        {"type": "blob", "modality": "document", "mime_type": "application/pdf", "size": 508},
        {"type": "uri", "modality": "image", "uri": "https://example.com/a.png"},
        {"type": "text", "content": "Compare them."},
    ]


def test_retrieval_context_is_recorded_for_calls_inside_the_block(
    instrument: Instrument, openai_client: openai.OpenAI
) -> None:
    from llm_soc2 import retrieval_context

    recorder = instrument()
    with retrieval_context(["Lisbon is the capital of Portugal.", "Porto is in the north."]):
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    inside, outside = recorder.genai_spans()
    assert inside.attributes is not None
    assert inside.attributes[semconv.RETRIEVAL_CONTEXT] == (
        "Lisbon is the capital of Portugal.",
        "Porto is in the north.",
    )
    assert semconv.RETRIEVAL_CONTEXT not in (outside.attributes or {})


def test_retrieval_context_is_content(instrument: Instrument, openai_client: openai.OpenAI) -> None:
    from llm_soc2 import retrieval_context

    recorder = instrument(content_capture=ContentCapture.NO_CONTENT)
    with retrieval_context("a private document"):
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert semconv.RETRIEVAL_CONTEXT not in (recorder.only_span().attributes or {})
