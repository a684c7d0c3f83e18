"""Failed calls: the application gets exactly the exception it gets without instrumentation, and the
span records the failure (``error.type``, ERROR status, the HTTP status when there is one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.trace import StatusCode

from llm_soc2 import semconv
from llm_soc2.testing import FakeProvider
from support.llm import Instrument

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGE = {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def _outcome(call: Callable[[], Any]) -> tuple[type[BaseException], str, int | None]:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - any exception: we compare them
        call()
    error = raised.value
    return type(error), str(error), getattr(error, "status_code", None)


SCRIPTS = {
    "rate_limited": {"status": 429, "retry_after": 0},
    "server_error": {"status": 500},
    "unauthorized": {"status": 401},
    "forbidden": {"status": 403},
    "malformed_body": {"malformed": True},
}


@pytest.mark.parametrize("case", sorted(SCRIPTS))
def test_openai_failures_are_unchanged_and_recorded(
    case: str, instrument: Instrument, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(**SCRIPTS[case], times=2)
    plain = _outcome(lambda: openai_client.chat.completions.create(**CHAT))
    recorder = instrument()
    traced = _outcome(lambda: openai_client.chat.completions.create(**CHAT))

    assert traced == plain
    span = recorder.only_span()
    attributes = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.ERROR
    assert attributes[semconv.ERROR_TYPE] == plain[0].__qualname__
    if plain[2] is not None:
        assert attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == plain[2]
    (duration,) = recorder.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == plain[0].__qualname__


@pytest.mark.parametrize("case", ["rate_limited", "server_error", "unauthorized", "malformed_body"])
def test_anthropic_failures_are_unchanged_and_recorded(
    case: str, instrument: Instrument, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(**SCRIPTS[case], times=2)
    plain = _outcome(lambda: anthropic_client.messages.create(**MESSAGE))
    recorder = instrument()
    traced = _outcome(lambda: anthropic_client.messages.create(**MESSAGE))

    assert traced == plain
    span = recorder.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == plain[0].__qualname__


def test_timeout_is_the_clients_timeout_error(
    instrument: Instrument, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(hang=True, times=2)
    client = openai_client.with_options(timeout=0.3)
    plain = _outcome(lambda: client.chat.completions.create(**CHAT))
    recorder = instrument()
    traced = _outcome(lambda: client.chat.completions.create(**CHAT))

    assert plain[0] is openai.APITimeoutError
    assert traced == plain
    span = recorder.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == "APITimeoutError"


async def test_async_timeout(instrument: Instrument, fake_provider: FakeProvider) -> None:
    fake_provider.anthropic.script(hang=True)
    recorder = instrument()
    client = anthropic.AsyncAnthropic(
        base_url=fake_provider.anthropic.base_url,
        api_key="k" * 20,
        max_retries=0,
        timeout=0.3,
        open_telemetry=False,
    )
    with pytest.raises(anthropic.APITimeoutError):
        await client.messages.create(**MESSAGE)
    await client.close()

    span = recorder.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == "APITimeoutError"


def test_retries_inside_one_call_give_one_span(instrumented: Any, fake_provider: FakeProvider) -> None:
    fake_provider.openai.script(status=429, retry_after=0.01, times=2)
    fake_provider.openai.script("finally")
    client = openai.OpenAI(
        base_url=fake_provider.openai.base_url, api_key="sk-retry-0123456789", max_retries=2
    )
    result = client.chat.completions.create(**CHAT)

    assert result.choices[0].message.content == "finally"
    assert len(fake_provider.openai.requests) == 3
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in (span.attributes or {})


def test_argument_errors_raised_by_the_client_are_unchanged(
    instrumented: Any, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(TypeError) as raised:
        openai_client.chat.completions.create(model="gpt-4o-mini")  # type: ignore[call-overload]
    assert "messages" in str(raised.value)
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == "TypeError"
