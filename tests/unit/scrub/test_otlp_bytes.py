"""Property: any generated PII or secret value, placed anywhere in any content attribute of any
convention (or in an event, the status description, a URL, or an attribute nobody declared), never
appears in the OTLP bytes the span processor hands to an exporter.

The bytes are those the OTLP exporters send: the span encoded with the exporters' own protobuf encoder.
A value inside JSON content is looked for both raw and JSON-escaped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import Status, StatusCode

from llm_soc2 import semconv as sc
from llm_soc2.config import Settings
from llm_soc2.processor import LLMSpanProcessor

from .conftest import make_scrubber
from .test_properties import embedded


class _Capture(SpanProcessor):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


def _messages(role: str, *parts: dict[str, Any]) -> str:
    return json.dumps([{"role": role, "parts": list(parts)}])


Place = Callable[[Any, str], None]

# Where a value can sit, each applied to a live span.
PLACES: Sequence[tuple[str, Place]] = (
    ("input text", lambda s, t: s.set_attribute(sc.GEN_AI_INPUT_MESSAGES, _messages("user", {"type": "text", "content": t}))),
    ("output text", lambda s, t: s.set_attribute(sc.GEN_AI_OUTPUT_MESSAGES, _messages("assistant", {"type": "text", "content": t}))),
    ("system instructions", lambda s, t: s.set_attribute(sc.GEN_AI_SYSTEM_INSTRUCTIONS, json.dumps([{"type": "text", "content": t}]))),
    (
        "tool call arguments",
        lambda s, t: s.set_attribute(
            sc.GEN_AI_OUTPUT_MESSAGES,
            _messages("assistant", {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": t}}),
        ),
    ),
    (
        "tool call arguments as a JSON string",
        lambda s, t: s.set_attribute(
            sc.GEN_AI_OUTPUT_MESSAGES,
            _messages("assistant", {"type": "tool_call", "id": "c1", "name": "f", "arguments": json.dumps({"q": t})}),
        ),
    ),
    (
        "tool result",
        lambda s, t: s.set_attribute(
            sc.GEN_AI_INPUT_MESSAGES, _messages("tool", {"type": "tool_call_response", "id": "c1", "response": t})
        ),
    ),
    ("tool definitions", lambda s, t: s.set_attribute(sc.GEN_AI_TOOL_DEFINITIONS, json.dumps([{"name": "f", "description": t}]))),
    ("OpenLLMetry prompt", lambda s, t: s.set_attribute("gen_ai.prompt.0.content", t)),
    ("OpenLLMetry completion", lambda s, t: s.set_attribute("gen_ai.completion.1.content", t)),
    ("OpenInference input", lambda s, t: s.set_attribute(sc.OPENINFERENCE_INPUT_VALUE, t)),
    ("OpenInference output", lambda s, t: s.set_attribute(sc.OPENINFERENCE_OUTPUT_VALUE, t)),
    ("OpenInference message", lambda s, t: s.set_attribute("llm.input_messages.0.message.content", t)),
    ("OpenInference parameters", lambda s, t: s.set_attribute(sc.OPENINFERENCE_INVOCATION_PARAMETERS, json.dumps({"prompt": t}))),
    ("undeclared attribute", lambda s, t: s.set_attribute("app.note", t)),
    ("string list attribute", lambda s, t: s.set_attribute("gen_ai.request.stop_sequences", ["END", t])),
    ("exception event", lambda s, t: s.add_event("exception", {sc.EXCEPTION_MESSAGE: t, sc.EXCEPTION_STACKTRACE: t})),
    ("status description", lambda s, t: s.set_status(Status(StatusCode.ERROR, t))),
    ("URL", lambda s, t: s.set_attribute(sc.URL_FULL, "https://api.example.com/v1/x?q=" + t)),
)  # fmt: skip

_PROCESSOR_SETTINGS = Settings(scrub_timeout_ms=30_000.0, audit_enabled=False, drift_enabled=False)
_CAPTURE = _Capture()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(
    LLMSpanProcessor(_CAPTURE, settings=_PROCESSOR_SETTINGS, scrubber=make_scrubber())
)
_TRACER = _PROVIDER.get_tracer("property")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(embedded(), st.sampled_from(PLACES))
def test_no_value_reaches_the_otlp_bytes(case: tuple[str, str, str, bool], place: tuple[str, Place]) -> None:
    _entity, value, text, _secret = case
    assume(text.count(value) == 1)
    _where, put = place
    with _TRACER.start_as_current_span("chat model") as span:
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, "chat")
        put(span, text)
    _PROVIDER.force_flush()
    exported = _CAPTURE.spans.pop()
    wire = encode_spans([exported]).SerializeToString()
    assert value.encode() not in wire
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    assert escaped.encode() not in wire
    assert json.dumps(value)[1:-1].encode() not in wire


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    embedded(),
    st.sampled_from(PLACES),
    st.sampled_from([base64.b64encode, base64.urlsafe_b64encode]),
    st.booleans(),
)
def test_no_encoded_value_reaches_the_otlp_bytes(
    case: tuple[str, str, str, bool], place: tuple[str, Place], encode: Callable[[bytes], bytes], padded: bool
) -> None:
    _entity, value, text, _secret = case
    # An encoded payload as applications make them: a JSON document (ASCII, non-ASCII escaped).
    run = encode(json.dumps({"record": text}).encode()).decode()
    run = run if padded else run.rstrip("=")
    _where, put = place
    with _TRACER.start_as_current_span("chat model") as span:
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, "chat")
        put(span, f"attached: {run} (as sent)")
    _PROVIDER.force_flush()
    wire = encode_spans([_CAPTURE.spans.pop()]).SerializeToString()
    assert run.rstrip("=").encode() not in wire
    assert value.encode() not in wire
