"""Anthropic on Amazon Bedrock through the real ``anthropic`` client (``AnthropicBedrock``) against the fake
provider: bearer API keys and SigV4-signed requests (botocore), plain and streamed replies (AWS's binary
event stream, decoded by botocore as from Bedrock itself)."""

from __future__ import annotations

import json

import anthropic
import pytest
from opentelemetry.trace import StatusCode

from llm_soc2 import semconv
from llm_soc2.fingerprint import KNOWN_SECRETS, fingerprint
from llm_soc2.testing import FakeProvider
from support.llm import SECRET_KEY_HEX, Recorder, assert_completed_anthropic_stream, content

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
MESSAGES = [{"role": "user", "content": "Summarise the plot of Hamlet."}]
TEXT = "A prince avenges his father, at great cost."
BEDROCK_API_KEY = "bedrock-api-key-0123456789abcdef"
# Well-formed credentials that grant nothing, used by no other test: the keys a client uses are
# registered with the scrubber for the life of the process.
AWS_ACCESS_KEY = "AKIALLMSOC2BEDROCK01"
AWS_SECRET_KEY = "bEdr0ckSigV4/TestSecretKey+0123456789abc"
AWS_SESSION_TOKEN = "FwoGZXIvYXdzLLMSOC2sessionTOKEN0123456789abcdefABCDEF"


def _bedrock(fake_provider: FakeProvider, **credentials: str) -> anthropic.AnthropicBedrock:
    return anthropic.AnthropicBedrock(
        aws_region="us-east-1", base_url=fake_provider.url, max_retries=0, **credentials
    )


def _exported(span: object) -> str:
    attributes = dict(getattr(span, "attributes", None) or {})
    return json.dumps(attributes, default=str)


def test_anthropic_on_amazon_bedrock_is_recorded_as_bedrock(
    instrumented: Recorder, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, input_tokens=20, output_tokens=9)
    client = _bedrock(fake_provider, api_key=BEDROCK_API_KEY)  # a Bedrock API key: bearer auth
    text = client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES).content[0].text

    assert text == TEXT
    assert fake_provider.anthropic.last_request.path == f"/model/{MODEL}/invoke"
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert span.name == f"chat {MODEL}"
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AWS_BEDROCK
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == MODEL
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 20
    assert attributes[semconv.API_KEY_FINGERPRINT]
    assert BEDROCK_API_KEY not in _exported(span)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


@pytest.mark.parametrize("helper", [False, True], ids=["stream=True", "messages.stream"])
def test_bedrock_stream_in_aws_event_stream(
    helper: bool, instrumented: Recorder, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, input_tokens=20, output_tokens=9, chunk_size=8)
    client = _bedrock(fake_provider, api_key=BEDROCK_API_KEY)
    if helper:
        with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
            text = stream.get_final_text()
    else:
        events = client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, stream=True)
        text = "".join(
            event.delta.text
            for event in events
            if event.type == "content_block_delta" and event.delta.type == "text_delta"
        )

    assert text == TEXT
    assert fake_provider.anthropic.last_request.path == f"/model/{MODEL}/invoke-with-response-stream"
    span = instrumented.only_span()
    assert (span.attributes or {})[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AWS_BEDROCK
    assert_completed_anthropic_stream(span, TEXT, output_tokens=9)


async def test_async_bedrock_stream(instrumented: Recorder, fake_provider: FakeProvider) -> None:
    fake_provider.anthropic.script(TEXT, chunk_size=8)
    client = anthropic.AsyncAnthropicBedrock(
        api_key=BEDROCK_API_KEY, aws_region="us-east-1", base_url=fake_provider.url, max_retries=0
    )
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        text = "".join([piece async for piece in stream.text_stream])
    await client.close()

    assert text == TEXT
    span = instrumented.only_span()
    assert (span.attributes or {})[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


def test_bedrock_stream_failure_ends_the_span_in_error(
    instrumented: Recorder, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, chunk_size=4, drop_after=4, stream_error=True)
    client = _bedrock(fake_provider, api_key=BEDROCK_API_KEY)
    received: list[str] = []

    def consume() -> None:
        for event in client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, stream=True):
            received.append(event.type)

    with pytest.raises(anthropic.APIError) as raised:
        consume()

    assert received[0] == "message_start"  # the failure came mid-stream, in an exception frame
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[semconv.ERROR_TYPE] == type(raised.value).__qualname__


def test_sigv4_signed_call_fingerprints_the_access_key_and_never_exports_the_secret(
    instrumented: Recorder, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, times=2)
    client = _bedrock(
        fake_provider,
        aws_access_key=AWS_ACCESS_KEY,
        aws_secret_key=AWS_SECRET_KEY,
        aws_session_token=AWS_SESSION_TOKEN,
    )
    client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES)
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        assert stream.get_final_text() == TEXT

    signed = fake_provider.anthropic.last_request.headers
    assert signed["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY}/")
    assert signed["x-amz-security-token"] == AWS_SESSION_TOKEN
    key = bytes.fromhex(SECRET_KEY_HEX)
    known = KNOWN_SECRETS.snapshot()
    assert AWS_SECRET_KEY in known
    assert AWS_SESSION_TOKEN in known
    spans = instrumented.genai_spans()
    assert len(spans) == 2
    for span in spans:
        attributes = dict(span.attributes or {})
        assert attributes[semconv.API_KEY_FINGERPRINT] == fingerprint(AWS_ACCESS_KEY, key, purpose="api_key")
        for secret in (AWS_ACCESS_KEY, AWS_SECRET_KEY, AWS_SESSION_TOKEN):
            assert secret not in _exported(span)
