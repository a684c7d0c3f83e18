"""OpenTelemetry instrumentation of the ``openai`` client (3.x), with SOC 2 context.

Usage::

    import openai
    from llm_soc2.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()  # tracer_provider=, meter_provider=, logger_provider=, settings=
    client = openai.OpenAI()
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])

Instrumented, sync and async: ``chat.completions.create`` (plain and ``stream=True``), ``.parse`` and
``.stream``; ``responses.create`` (plain and streamed), ``.parse`` and ``.stream``; ``embeddings.create``.
Each call gives one CLIENT span ``{gen_ai.operation.name} {gen_ai.request.model}`` with the GenAI
attributes, the content per ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, the key's keyed
fingerprint (never the key), the prompt-template hash and the hashed end-user id, plus the
``gen_ai.client.*`` metrics. ``llm_soc2.configure()`` and ``opentelemetry-instrument`` do this for you.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from llm_soc2.instrumentation._openai import ChatCompletions, Embeddings, Responses
from llm_soc2.instrumentation._telemetry import Telemetry
from llm_soc2.instrumentation._wrappers import (
    Operation,
    async_close_notifier,
    async_wrapper,
    close_notifier,
    sync_wrapper,
)
from llm_soc2.instrumentation.package import _instruments_openai

_CHAT: Final = "openai.resources.chat.completions.completions"
_RESPONSES: Final = "openai.resources.responses.responses"
_EMBEDDINGS: Final = "openai.resources.embeddings"

# (module, "Class.method", async?, operation)
_METHODS: Final[tuple[tuple[str, str, bool, Operation], ...]] = (
    (_CHAT, "Completions.create", False, ChatCompletions()),
    (_CHAT, "Completions.parse", False, ChatCompletions()),
    (_CHAT, "AsyncCompletions.create", True, ChatCompletions()),
    (_CHAT, "AsyncCompletions.parse", True, ChatCompletions()),
    (_RESPONSES, "Responses.create", False, Responses()),
    (_RESPONSES, "Responses.parse", False, Responses()),
    (_RESPONSES, "AsyncResponses.create", True, Responses()),
    (_RESPONSES, "AsyncResponses.parse", True, Responses()),
    (_EMBEDDINGS, "Embeddings.create", False, Embeddings()),
    (_EMBEDDINGS, "AsyncEmbeddings.create", True, Embeddings()),
)
# The stream helpers (`.stream()`) close the HTTP response directly; their close() tells our proxy.
_CLOSERS: Final = (
    ("openai.lib.streaming.chat._completions", "ChatCompletionStream.close", False),
    ("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream.close", True),
    ("openai.lib.streaming.responses._responses", "ResponseStream.close", False),
    ("openai.lib.streaming.responses._responses", "AsyncResponseStream.close", True),
)


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments the ``openai`` client library."""

    _telemetry: Telemetry | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments_openai

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = Telemetry(
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
            settings=kwargs.get("settings"),
        )
        self._telemetry = telemetry
        for module, method, is_async, operation in _METHODS:
            wrapper = async_wrapper(telemetry, operation) if is_async else sync_wrapper(telemetry, operation)
            wrap_function_wrapper(module, method, wrapper)
        for module, method, is_async in _CLOSERS:
            wrap_function_wrapper(module, method, async_close_notifier() if is_async else close_notifier())

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._telemetry is not None:
            self._telemetry.close()
            self._telemetry = None
        for module, method, _, _ in _METHODS:
            owner, name = method.split(".")
            unwrap(f"{module}.{owner}", name)
        for module, method, _ in _CLOSERS:
            owner, name = method.split(".")
            unwrap(f"{module}.{owner}", name)
