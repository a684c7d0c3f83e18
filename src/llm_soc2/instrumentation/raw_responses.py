"""Raw responses that the application reads after the call has returned (``with_streaming_response``).

The client returns before the body is read, so the span cannot end there with the response. It ends
once, when the application parses the body (``parse()``: the span records what was parsed), reads it
whole (``read()``, ``text()``, ``json()``) and closes the response (the context manager does), or drops it
unclosed; the response is recorded whenever the body was read. A streamed body (``stream=True``) that
is parsed into the client's stream is handed to the stream proxies, which end the span as a stream.
The proxies are ``wrapt.ObjectProxy`` objects: the application sees the client's response.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Final

import wrapt

from llm_soc2.instrumentation._telemetry import ERROR_RESPONSE, Invocation, Request, Telemetry
from llm_soc2.instrumentation.streams import AsyncStreamProxy, SyncStreamProxy

if TYPE_CHECKING:
    from llm_soc2.instrumentation._wrappers import Operation


def is_unread(result: Any) -> bool:
    """A raw response whose body the client has not read yet (it is read later by the application)."""
    kind = type(result)
    parses = _parsing_types.get(kind)
    if parses is None:  # asked of every call's result: a parsed model is told apart by its class, once
        parses = callable(getattr(kind, "parse", None))
        if len(_parsing_types) < _TYPE_MEMO_LIMIT:
            _parsing_types[kind] = parses
    if not parses:
        return False
    response = getattr(result, "http_response", None)
    return response is not None and getattr(response, "is_closed", True) is False


_TYPE_MEMO_LIMIT: Final = 256
_parsing_types: dict[type, bool] = {}


class _ResponseProxyBase(wrapt.ObjectProxy[Any]):
    def __init__(
        self,
        wrapped: Any,
        telemetry: Telemetry,
        operation: Operation,
        invocation: Invocation,
        request: Request,
    ) -> None:
        super().__init__(wrapped)
        self._self_telemetry = telemetry
        self._self_operation = operation
        self._self_invocation = invocation
        self._self_request = request
        self._self_stream: Any = None

    def _self_end(self, result: Any) -> None:
        """End the span with what ``result`` (a parsed body, or the raw response itself) holds."""
        invocation = self._self_invocation
        if invocation.ended:
            return
        data = None
        try:
            data = self._self_operation.response(self._self_telemetry, result)
        except Exception as exc:
            self._self_telemetry.report(ERROR_RESPONSE, exc)
        invocation.finish(data)

    def _self_parsed(
        self, parsed: Any, proxy: type[SyncStreamProxy] | type[AsyncStreamProxy], custom_type: bool
    ) -> Any:
        if self._self_stream is not None and self._self_stream.__wrapped__ is parsed:
            return self._self_stream  # the client hands out one parsed stream: so do we
        if self._self_invocation.ended:
            return parsed
        if self._self_request.stream and (hasattr(parsed, "__next__") or hasattr(parsed, "__anext__")):
            try:
                accumulator = self._self_operation.accumulator(self._self_telemetry, self._self_request)
            except Exception as exc:
                self._self_telemetry.report(ERROR_RESPONSE, exc)
                self._self_end(None)
                return parsed
            self._self_stream = proxy(parsed, self._self_invocation, accumulator)
            return self._self_stream
        # Parsed into a type of the application's (``parse(to=...)``): the span reads the raw body instead.
        self._self_end(self.__wrapped__ if custom_type else parsed)
        return parsed

    def _self_end_read(self) -> None:
        if self._self_stream is None:  # a parsed stream ends the span itself
            self._self_end(self.__wrapped__)

    def _self_fail(self, error: BaseException) -> None:
        if self._self_stream is None:
            self._self_invocation.finish(None, error)

    def __del__(self) -> None:
        # Dropped unclosed. Interpreter shutdown may have torn down what ending the span needs.
        with contextlib.suppress(BaseException):
            self._self_end_read()


class SyncResponseProxy(_ResponseProxyBase):
    """Wraps a client's sync ``APIResponse`` whose body is still to be read."""

    def _self_read(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            result = getattr(self.__wrapped__, method)(*args, **kwargs)
        except BaseException as exc:
            self._self_fail(exc)
            raise
        if method == "parse":
            return self._self_parsed(result, SyncStreamProxy, kwargs.get("to") is not None)
        self._self_end_read()
        return result

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_read("parse", *args, **kwargs)

    def read(self) -> Any:
        return self._self_read("read")

    def text(self) -> Any:
        return self._self_read("text")

    def json(self) -> Any:
        return self._self_read("json")

    def close(self) -> Any:
        return self._self_read("close")


class AsyncResponseProxy(_ResponseProxyBase):
    """Wraps a client's ``AsyncAPIResponse`` whose body is still to be read."""

    async def _self_read(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await getattr(self.__wrapped__, method)(*args, **kwargs)
        except BaseException as exc:
            self._self_fail(exc)
            raise
        if method == "parse":
            return self._self_parsed(result, AsyncStreamProxy, kwargs.get("to") is not None)
        self._self_end_read()
        return result

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        return await self._self_read("parse", *args, **kwargs)

    async def read(self) -> Any:
        return await self._self_read("read")

    async def text(self) -> Any:
        return await self._self_read("text")

    async def json(self) -> Any:
        return await self._self_read("json")

    async def close(self) -> Any:
        return await self._self_read("close")
