"""Stream wrappers that end the call's span exactly once, however the stream ends.

A streamed response is recorded when it is read to the end, closed (``close()``, ``__exit__``,
``__aexit__``, or the SDK helper that owns it being closed), breaks off with an error, or is dropped
without being closed and garbage-collected. In every case the span gets what was received so far and
``llm_soc2.stream.outcome`` says which of these happened. The wrappers are ``wrapt.ObjectProxy``
objects: the application sees the client's stream, with the same items, attributes and exceptions.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

import wrapt
from opentelemetry import context, trace

from llm_soc2 import semconv
from llm_soc2.instrumentation._telemetry import ERROR_RESPONSE, Invocation, ResponseData


class Accumulator(Protocol):
    """Collects what a stream delivers; ``result()`` is what the span records."""

    def on_item(self, item: Any) -> None: ...

    def result(self) -> ResponseData: ...


class _ProxyBase(wrapt.ObjectProxy[Any]):
    def __init__(self, wrapped: Any, invocation: Invocation, accumulator: Accumulator) -> None:
        super().__init__(wrapped)
        self._self_invocation = invocation
        self._self_accumulator = accumulator
        self._self_first_chunk: float | None = None

    def _self_observe(self, item: Any) -> None:
        if self._self_first_chunk is None:
            self._self_first_chunk = self._self_invocation.elapsed()
        try:
            self._self_accumulator.on_item(item)
        except Exception as exc:
            self._self_invocation.telemetry.report(ERROR_RESPONSE, exc)

    def _self_mark_first_chunk(self) -> None:
        if self._self_first_chunk is None:
            self._self_first_chunk = self._self_invocation.elapsed()

    def _self_end(self, outcome: str, error: BaseException | None = None) -> None:
        invocation = self._self_invocation
        if invocation.ended:
            return
        data: ResponseData | None = None
        try:
            data = self._self_accumulator.result()
            data.time_to_first_chunk = self._self_first_chunk
            data.stream_outcome = outcome
        except Exception as exc:
            invocation.telemetry.report(ERROR_RESPONSE, exc)
        invocation.finish(data, error)

    def __del__(self) -> None:
        # Interpreter shutdown may have torn down what ending the span needs: never raise here.
        with contextlib.suppress(BaseException):
            self._self_end(semconv.STREAM_ABANDONED)


class SyncStreamProxy(_ProxyBase):
    """Wraps a client's sync stream (``openai.Stream``, ``anthropic.Stream``, a ``MessageStream``)."""

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            item = self.__wrapped__.__next__()
        except StopIteration:
            self._self_end(semconv.STREAM_COMPLETED)
            raise
        except BaseException as exc:
            self._self_end(semconv.STREAM_FAILED, exc)
            raise
        self._self_observe(item)
        return item

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end(semconv.STREAM_CLOSED)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_end(semconv.STREAM_CLOSED)


class AsyncStreamProxy(_ProxyBase):
    """Wraps a client's async stream."""

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_end(semconv.STREAM_COMPLETED)
            raise
        except BaseException as exc:
            self._self_end(semconv.STREAM_FAILED, exc)
            raise
        self._self_observe(item)
        return item

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end(semconv.STREAM_CLOSED)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_end(semconv.STREAM_CLOSED)


# --------------------------------------------------------------------------------------------------
# SDK stream helpers whose convenience methods read the stream internally
# --------------------------------------------------------------------------------------------------
class SyncHelperStreamProxy(SyncStreamProxy):
    """A helper stream (Anthropic ``MessageStream``) whose ``text_stream``, ``until_done`` and
    ``get_final_*`` read it without passing through ``__next__``."""

    @property
    def text_stream(self) -> Iterator[str]:
        return self._self_text_stream(self.__wrapped__.text_stream)

    def _self_text_stream(self, texts: Iterator[str]) -> Iterator[str]:
        try:
            for text in texts:
                self._self_mark_first_chunk()
                yield text
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._self_end(semconv.STREAM_FAILED, exc)
            raise
        self._self_end(semconv.STREAM_COMPLETED)

    def _self_until_end(self, method: Callable[[], Any]) -> Any:
        self._self_mark_first_chunk()
        try:
            result = method()
        except BaseException as exc:
            self._self_end(semconv.STREAM_FAILED, exc)
            raise
        self._self_end(semconv.STREAM_COMPLETED)
        return result

    def until_done(self) -> Any:
        return self._self_until_end(self.__wrapped__.until_done)

    def get_final_message(self) -> Any:
        return self._self_until_end(self.__wrapped__.get_final_message)

    def get_final_text(self) -> Any:
        return self._self_until_end(self.__wrapped__.get_final_text)


class AsyncHelperStreamProxy(AsyncStreamProxy):
    """The async counterpart of ``SyncHelperStreamProxy``."""

    @property
    def text_stream(self) -> AsyncIterator[str]:
        return self._self_text_stream(self.__wrapped__.text_stream)

    async def _self_text_stream(self, texts: AsyncIterator[str]) -> AsyncIterator[str]:
        try:
            async for text in texts:
                self._self_mark_first_chunk()
                yield text
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._self_end(semconv.STREAM_FAILED, exc)
            raise
        self._self_end(semconv.STREAM_COMPLETED)

    async def _self_until_end(self, method: Callable[[], Any]) -> Any:
        self._self_mark_first_chunk()
        try:
            result = await method()
        except BaseException as exc:
            self._self_end(semconv.STREAM_FAILED, exc)
            raise
        self._self_end(semconv.STREAM_COMPLETED)
        return result

    async def until_done(self) -> Any:
        return await self._self_until_end(self.__wrapped__.until_done)

    async def get_final_message(self) -> Any:
        return await self._self_until_end(self.__wrapped__.get_final_message)

    async def get_final_text(self) -> Any:
        return await self._self_until_end(self.__wrapped__.get_final_text)


# --------------------------------------------------------------------------------------------------
# Stream managers: the request is made on __enter__, so the span starts there
# --------------------------------------------------------------------------------------------------
Begin = Callable[[], Invocation | None]
MakeProxy = Callable[[Any, Invocation], _ProxyBase | None]


class SyncStreamManagerProxy(wrapt.ObjectProxy[Any]):
    """Wraps a stream manager (``with client.messages.stream(...) as stream``)."""

    def __init__(self, wrapped: Any, begin: Begin, make_proxy: MakeProxy) -> None:
        super().__init__(wrapped)
        self._self_begin = begin
        self._self_make_proxy = make_proxy
        self._self_stream: _ProxyBase | None = None

    def __enter__(self) -> Any:
        invocation = self._self_begin()
        if invocation is None:
            return self.__wrapped__.__enter__()
        token = context.attach(trace.set_span_in_context(invocation.span))
        try:
            stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            invocation.finish(None, exc)
            raise
        finally:
            context.detach(token)
        proxy = self._self_make_proxy(stream, invocation)
        if proxy is None:
            return stream
        self._self_stream = proxy
        return proxy

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            if self._self_stream is not None:
                self._self_stream._self_end(semconv.STREAM_CLOSED)


class AsyncStreamManagerProxy(wrapt.ObjectProxy[Any]):
    """Wraps an async stream manager (``async with client.messages.stream(...) as stream``)."""

    def __init__(self, wrapped: Any, begin: Begin, make_proxy: MakeProxy) -> None:
        super().__init__(wrapped)
        self._self_begin = begin
        self._self_make_proxy = make_proxy
        self._self_stream: _ProxyBase | None = None

    async def __aenter__(self) -> Any:
        invocation = self._self_begin()
        if invocation is None:
            return await self.__wrapped__.__aenter__()
        token = context.attach(trace.set_span_in_context(invocation.span))
        try:
            stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            invocation.finish(None, exc)
            raise
        finally:
            context.detach(token)
        proxy = self._self_make_proxy(stream, invocation)
        if proxy is None:
            return stream
        self._self_stream = proxy
        return proxy

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            if self._self_stream is not None:
                self._self_stream._self_end(semconv.STREAM_CLOSED)


def notify_closed(raw_stream: object) -> None:
    """Tell our proxy that an SDK helper closed the stream it reads (the helper closes the HTTP
    response directly, not through the stream object)."""
    if isinstance(raw_stream, _ProxyBase):
        raw_stream._self_end(semconv.STREAM_CLOSED)
