"""The wrapt wrappers every instrumented method shares, and the client-level attributes.

An ``Operation`` knows one API (chat completions, responses, embeddings, messages): how to read its
request, its response and its stream. The wrappers here do the rest the same way for all of them:
start the span, make it current around the call, hand a stream to a proxy or record the response,
and on an exception record it and re-raise the very same exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from opentelemetry import context, trace
from opentelemetry.util.types import AttributeValue

from llm_soc2 import semconv
from llm_soc2.instrumentation._telemetry import (
    ERROR_REQUEST,
    ERROR_RESPONSE,
    Invocation,
    Request,
    ResponseData,
    Telemetry,
)
from llm_soc2.instrumentation.raw_responses import AsyncResponseProxy, SyncResponseProxy, is_unread
from llm_soc2.instrumentation.streams import Accumulator, AsyncStreamProxy, SyncStreamProxy, notify_closed

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


class Operation(Protocol):
    """One API's request, response and stream readers."""

    def request(self, telemetry: Telemetry, instance: Any, kwargs: Mapping[str, Any]) -> Request: ...

    def response(self, telemetry: Telemetry, result: Any) -> ResponseData: ...

    def accumulator(self, telemetry: Telemetry, request: Request) -> Accumulator: ...


# --------------------------------------------------------------------------------------------------
# Client-level attributes
# --------------------------------------------------------------------------------------------------
_url_cache: dict[int, tuple[object, dict[str, AttributeValue]]] = {}


def server_attributes(client: Any) -> dict[str, AttributeValue]:
    """``server.address``, ``server.port`` and ``llm_soc2.provider.host`` from the client's base URL."""
    url = getattr(client, "_base_url", None) or getattr(client, "base_url", None)
    if url is None:
        return {}
    cached = _url_cache.get(id(url))
    if cached is not None and cached[0] is url:
        return cached[1]
    host = getattr(url, "host", None)
    if not isinstance(host, str) or not host:
        return {}
    port = getattr(url, "port", None)
    scheme = getattr(url, "scheme", "https")
    attributes: dict[str, AttributeValue] = {
        semconv.SERVER_ADDRESS: host,
        semconv.SERVER_PORT: port if isinstance(port, int) else _DEFAULT_PORTS.get(scheme, 443),
        semconv.PROVIDER_HOST: f"{host}:{port}" if isinstance(port, int) else host,
    }
    if len(_url_cache) > 256:
        _url_cache.clear()
    _url_cache[id(url)] = (url, attributes)
    return attributes


def raw_body(result: Any) -> Any:
    """The JSON body of a raw response (``with_raw_response``), if the client has read it already."""
    response = getattr(result, "http_response", None)
    if response is None or not getattr(response, "is_closed", False):
        return None
    content_type = str(response.headers.get("content-type", ""))
    if not content_type.startswith("application/json"):
        return None
    try:
        response.content  # noqa: B018
    except Exception:  # streamed to the application, which kept no copy of the body
        return None
    return response.json()


# --------------------------------------------------------------------------------------------------
# Wrappers
# --------------------------------------------------------------------------------------------------
def begin(
    telemetry: Telemetry, operation: Operation, instance: Any, kwargs: Mapping[str, Any]
) -> tuple[Invocation | None, Request | None]:
    try:
        request = operation.request(telemetry, instance, kwargs)
        return telemetry.start(request), request
    except Exception as exc:
        telemetry.report(ERROR_REQUEST, exc)
        return None, None


def _complete(
    telemetry: Telemetry,
    operation: Operation,
    invocation: Invocation,
    request: Request,
    result: Any,
    proxy: type[SyncStreamProxy] | type[AsyncStreamProxy],
) -> Any:
    data: ResponseData | None = None
    try:
        if request.stream and (hasattr(result, "__next__") or hasattr(result, "__anext__")):
            return proxy(result, invocation, operation.accumulator(telemetry, request))
        if is_unread(result):  # ``with_streaming_response``: the span ends when the body is read
            response_proxy = SyncResponseProxy if proxy is SyncStreamProxy else AsyncResponseProxy
            return response_proxy(result, telemetry, operation, invocation, request)
        data = operation.response(telemetry, result)
    except Exception as exc:
        telemetry.report(ERROR_RESPONSE, exc)
    invocation.finish(data)
    return result


def sync_wrapper(telemetry: Telemetry, operation: Operation) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not telemetry.active:
            return wrapped(*args, **kwargs)
        invocation, request = begin(telemetry, operation, instance, kwargs)
        if invocation is None or request is None:
            return wrapped(*args, **kwargs)
        token = context.attach(trace.set_span_in_context(invocation.span))
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            invocation.finish(None, exc)
            raise
        finally:
            context.detach(token)
        return _complete(telemetry, operation, invocation, request, result, SyncStreamProxy)

    return wrapper


def async_wrapper(telemetry: Telemetry, operation: Operation) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not telemetry.active:
            return await wrapped(*args, **kwargs)
        invocation, request = begin(telemetry, operation, instance, kwargs)
        if invocation is None or request is None:
            return await wrapped(*args, **kwargs)
        token = context.attach(trace.set_span_in_context(invocation.span))
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            invocation.finish(None, exc)
            raise
        finally:
            context.detach(token)
        return _complete(telemetry, operation, invocation, request, result, AsyncStreamProxy)

    return wrapper


def close_notifier() -> Wrapper:
    """Wraps an SDK stream helper's ``close()`` (sync) to end our span on the raw stream it reads."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            return wrapped(*args, **kwargs)
        finally:
            notify_closed(getattr(instance, "_raw_stream", None))

    return wrapper


def async_close_notifier() -> Wrapper:
    """Wraps an SDK stream helper's ``async close()``."""

    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            notify_closed(getattr(instance, "_raw_stream", None))

    return wrapper
