"""OpenTelemetry instrumentation of the ``anthropic`` client (2.x), with SOC 2 context.

Usage::

    import anthropic
    from llm_soc2.instrumentation.anthropic import AnthropicInstrumentor

    AnthropicInstrumentor().instrument()  # tracer_provider=, meter_provider=, logger_provider=, settings=
    client = anthropic.Anthropic()
    client.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=[{"role": "user", "content": "Hi"}])

Instrumented, sync and async: ``messages.create`` (plain and ``stream=True``), ``messages.parse`` and
the ``messages.stream(...)`` context manager, on ``client.messages`` and ``client.beta.messages``. One
CLIENT span ``chat {model}`` per call.

The Anthropic SDK traces its API calls itself (scope ``com.anthropic.sdk.python``). Its span for a call
we instrument is a child of ours; the llm-soc2 pipeline drops it (``coexistence``), so each call has
one GenAI span. To switch the SDK's spans off at the source: ``ANTHROPIC_OPEN_TELEMETRY=false`` (read
when a client is built) or ``anthropic.Anthropic(open_telemetry=False)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Iterator
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from llm_soc2.instrumentation._anthropic import HelperStreamAccumulator, Messages
from llm_soc2.instrumentation._telemetry import ERROR_RESPONSE, Invocation, Telemetry
from llm_soc2.instrumentation._wrappers import Wrapper, async_wrapper, begin, sync_wrapper
from llm_soc2.instrumentation.package import _instruments_anthropic
from llm_soc2.instrumentation.streams import (
    AsyncHelperStreamProxy,
    AsyncStreamManagerProxy,
    SyncHelperStreamProxy,
    SyncStreamManagerProxy,
)

# The stable and the beta Messages resources take the same requests and return the same shapes.
_MODULES: Final = ("anthropic.resources.messages.messages", "anthropic.resources.beta.messages.messages")
_CALLS: Final = (
    ("Messages.create", False),
    ("Messages.parse", False),
    ("AsyncMessages.create", True),
    ("AsyncMessages.parse", True),
)
_STREAMS: Final = (("Messages.stream", False), ("AsyncMessages.stream", True))


def _stream_wrapper(telemetry: Telemetry, is_async: bool) -> Wrapper:
    """``messages.stream(...)`` makes no request; its manager does on ``__enter__``."""
    operation = Messages(streaming=True)
    helper: type[SyncHelperStreamProxy] | type[AsyncHelperStreamProxy] = (
        AsyncHelperStreamProxy if is_async else SyncHelperStreamProxy
    )
    manager: type[SyncStreamManagerProxy] | type[AsyncStreamManagerProxy] = (
        AsyncStreamManagerProxy if is_async else SyncStreamManagerProxy
    )

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        result = wrapped(*args, **kwargs)
        if not telemetry.active:
            return result

        def start() -> Invocation | None:
            invocation, _ = begin(telemetry, operation, instance, kwargs)
            return invocation

        def make_proxy(stream: Any, invocation: Invocation) -> Any:
            try:
                accumulator = HelperStreamAccumulator(stream, telemetry.capture, telemetry.max_content_bytes)
                return helper(stream, invocation, accumulator)
            except Exception as exc:
                telemetry.report(ERROR_RESPONSE, exc)
                invocation.finish(None)
                return None

        try:
            return manager(result, start, make_proxy)
        except Exception as exc:
            telemetry.report(ERROR_RESPONSE, exc)
            return result

    return wrapper


class AnthropicInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments the ``anthropic`` client library."""

    _telemetry: Telemetry | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments_anthropic

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = Telemetry(
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
            settings=kwargs.get("settings"),
        )
        self._telemetry = telemetry
        operation = Messages()
        for module, method, is_async in _present(_CALLS):
            wrapper = async_wrapper(telemetry, operation) if is_async else sync_wrapper(telemetry, operation)
            wrap_function_wrapper(module, method, wrapper)
        for module, method, is_async in _present(_STREAMS):
            wrap_function_wrapper(module, method, _stream_wrapper(telemetry, is_async))

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._telemetry is not None:
            self._telemetry.close()
            self._telemetry = None
        for module, method, _ in _present((*_CALLS, *_STREAMS)):
            owner, name = method.split(".")
            unwrap(f"{module}.{owner}", name)


def _present(methods: tuple[tuple[str, bool], ...]) -> Iterator[tuple[str, str, bool]]:
    """``(module, "Class.method", is_async)`` for each method this version of ``anthropic`` has (the beta
    resource gained ``parse`` later than the stable one)."""
    for module in _MODULES:
        try:
            loaded = importlib.import_module(module)
        except ImportError:
            continue
        for method, is_async in methods:
            owner, name = method.split(".")
            if hasattr(getattr(loaded, owner, None), name):
                yield module, method, is_async
