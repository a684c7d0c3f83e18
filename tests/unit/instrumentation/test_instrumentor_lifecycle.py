"""Instrument/uninstrument, and failures inside our own code never reaching the application."""

from __future__ import annotations

import logging

import anthropic
import openai
import pytest
from anthropic.resources.messages import messages as anthropic_messages
from openai.resources.chat.completions import completions as chat_module
from openai.resources.responses import responses as responses_module

from llm_soc2 import semconv
from llm_soc2.instrumentation import _telemetry
from llm_soc2.instrumentation.anthropic import AnthropicInstrumentor
from llm_soc2.instrumentation.openai import OpenAIInstrumentor
from llm_soc2.testing import FakeProvider
from support.llm import Instrument, Recorder

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}

ORIGINALS = {
    "chat.create": chat_module.Completions.create,
    "chat.parse": chat_module.Completions.parse,
    "achat.create": chat_module.AsyncCompletions.create,
    "responses.create": responses_module.Responses.create,
    "messages.create": anthropic_messages.Messages.create,
    "messages.stream": anthropic_messages.Messages.stream,
    "amessages.stream": anthropic_messages.AsyncMessages.stream,
}


def _current() -> dict[str, object]:
    return {
        "chat.create": chat_module.Completions.create,
        "chat.parse": chat_module.Completions.parse,
        "achat.create": chat_module.AsyncCompletions.create,
        "responses.create": responses_module.Responses.create,
        "messages.create": anthropic_messages.Messages.create,
        "messages.stream": anthropic_messages.Messages.stream,
        "amessages.stream": anthropic_messages.AsyncMessages.stream,
    }


def test_instrumentation_dependencies() -> None:
    assert list(OpenAIInstrumentor().instrumentation_dependencies()) == ["openai >= 3.0, < 4"]
    assert list(AnthropicInstrumentor().instrumentation_dependencies()) == ["anthropic >= 2.0, < 3"]


def test_uninstrument_restores_the_original_methods(
    instrument: Instrument, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    assert _current() == ORIGINALS
    recorder = instrument()
    assert all(_current()[name] is not original for name, original in ORIGINALS.items())
    openai_client.chat.completions.create(**CHAT)
    assert len(recorder.genai_spans()) == 1

    OpenAIInstrumentor().uninstrument()
    AnthropicInstrumentor().uninstrument()

    assert _current() == ORIGINALS
    openai_client.chat.completions.create(**CHAT)
    assert len(recorder.genai_spans()) == 1  # no new span


def test_bound_wrappers_cached_by_the_client_pass_through_after_uninstrument(
    instrument: Instrument, openai_client: openai.OpenAI
) -> None:
    recorder = instrument()
    raw = openai_client.chat.completions.with_raw_response  # caches the wrapped bound method
    raw.create(**CHAT)
    assert len(recorder.genai_spans()) == 1
    OpenAIInstrumentor().uninstrument()

    response = raw.create(**CHAT)
    assert response.parse().choices[0].message.content
    assert len(recorder.genai_spans()) == 1


def test_a_failure_in_our_code_does_not_touch_the_call(
    instrumented: Recorder,
    openai_client: openai.OpenAI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom inside llm-soc2")

    # Our own response reader fails (not the client): the call must return its normal result.
    monkeypatch.setattr("llm_soc2.instrumentation._openai.ChatCompletions.response", broken)
    with caplog.at_level(logging.WARNING, logger="llm_soc2.instrumentation"):
        first = openai_client.chat.completions.create(**CHAT)
        second = openai_client.chat.completions.create(**CHAT)

    assert first.choices[0].message.content == second.choices[0].message.content
    spans = instrumented.genai_spans()
    assert len(spans) == 2  # the spans still end, without the response attributes
    assert all(semconv.GEN_AI_RESPONSE_ID not in (s.attributes or {}) for s in spans)
    (errors,) = instrumented.metric_points(semconv.METRIC_INSTRUMENTATION_ERRORS)
    assert errors.value == 2
    assert errors.attributes[semconv.ATTR_ERROR_KIND] == _telemetry.ERROR_RESPONSE
    logged = [r for r in caplog.records if "instrumentation failed (response)" in r.getMessage()]
    assert len(logged) == 1  # once per kind


def test_a_failure_reading_the_request_skips_the_span_not_the_call(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("unexpected request shape")

    monkeypatch.setattr("llm_soc2.instrumentation._anthropic.Messages.request", broken)
    message = anthropic_client.messages.create(
        model="claude-sonnet-4-6", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )

    assert message.content[0].text
    assert instrumented.genai_spans() == []
    (errors,) = instrumented.metric_points(semconv.METRIC_INSTRUMENTATION_ERRORS)
    assert errors.attributes[semconv.ATTR_ERROR_KIND] == _telemetry.ERROR_REQUEST


def test_a_failing_stream_reader_leaves_the_stream_intact(
    instrumented: Recorder,
    openai_client: openai.OpenAI,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("chunk shape")

    monkeypatch.setattr("llm_soc2.instrumentation._openai.ChatStreamAccumulator.on_item", broken)
    fake_provider.openai.script("abcdefghij", chunk_size=2)
    pieces = [
        c.choices[0].delta.content or ""
        for c in openai_client.chat.completions.create(**CHAT, stream=True)
        if c.choices
    ]

    assert "".join(pieces) == "abcdefghij"
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED


def test_a_bad_deployment_key_means_no_fingerprint_never_a_plain_hash(
    instrument: Instrument, openai_client: openai.OpenAI
) -> None:
    recorder = instrument(secret_key_hex="too-short")
    openai_client.chat.completions.create(**CHAT)

    span = recorder.only_span()
    assert semconv.API_KEY_FINGERPRINT not in (span.attributes or {})
    kinds = {
        p.attributes[semconv.ATTR_ERROR_KIND]
        for p in recorder.metric_points(semconv.METRIC_INSTRUMENTATION_ERRORS)
    }
    assert kinds == {_telemetry.ERROR_KEY}
