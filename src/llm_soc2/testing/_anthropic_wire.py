"""The Anthropic wire format (``/v1/messages``) as the ``anthropic`` client parses it: JSON bodies and
named server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from llm_soc2.testing._openai_wire import sse
from llm_soc2.testing.script import Reply, estimate_tokens, split_text

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(reply: Reply) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {
            "type": reply.error_type or _ERROR_TYPES.get(reply.status, "api_error"),
            "message": reply.message or f"fake provider error {reply.status}",
        },
    }


def _stop_reason(reply: Reply) -> str:
    if reply.finish_reason:
        return reply.finish_reason
    return "tool_use" if reply.tool_calls else "end_turn"


def _input_tokens(body: Any, reply: Reply) -> int:
    if reply.input_tokens is not None:
        return reply.input_tokens
    if not isinstance(body, dict):
        return 1
    return estimate_tokens(json.dumps(body.get("messages", "")) + json.dumps(body.get("system", "")))


def _output_tokens(reply: Reply) -> int:
    if reply.output_tokens is not None:
        return reply.output_tokens
    text = reply.text + (reply.reasoning or "") + "".join(c.name + c.arguments_json for c in reply.tool_calls)
    return estimate_tokens(text)


def _usage(body: Any, reply: Reply, output_tokens: int) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": _input_tokens(body, reply),
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": reply.cache_creation_tokens,
        "cache_read_input_tokens": reply.cached_tokens,
        "service_tier": "standard",
    }
    if reply.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": reply.reasoning_tokens}
    return usage


def _tool_id(message_id: str, index: int, given: str | None) -> str:
    return given or f"toolu_{message_id[-8:]}_{index}"


def _content(reply: Reply, message_id: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.reasoning:
        blocks.append({"type": "thinking", "thinking": reply.reasoning, "signature": "fake-signature"})
    if reply.text:
        blocks.append({"type": "text", "text": reply.text, "citations": None})
    for index, call in enumerate(reply.tool_calls):
        blocks.append(
            {
                "type": "tool_use",
                "id": _tool_id(message_id, index, call.id),
                "name": call.name,
                "input": call.arguments,
            }
        )
    return blocks


def _model(body: Any, reply: Reply) -> str:
    if reply.model:
        return reply.model
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        return str(body["model"])
    return "claude-sonnet-4-6"


def message(body: Any, reply: Reply, message_id: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": _model(body, reply),
        "content": _content(reply, message_id),
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": _usage(body, reply, _output_tokens(reply)),
    }


def message_stream(body: Any, reply: Reply, message_id: str) -> Iterator[bytes]:
    """The stream as server-sent events."""
    return (sse(event, event=event["type"]) for event in message_events(body, reply, message_id))


def message_events(body: Any, reply: Reply, message_id: str) -> Iterator[dict[str, Any]]:
    """The events of a streamed message, in order."""

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, **fields}

    start: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": _model(body, reply),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(body, reply, 1),
    }
    yield event("message_start", message=start)
    yield event("ping")
    index = 0
    if reply.reasoning:
        yield event(
            "content_block_start",
            index=index,
            content_block={"type": "thinking", "thinking": "", "signature": ""},
        )
        for piece in split_text(reply.reasoning, reply.chunk_size):
            yield event(
                "content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": piece}
            )
        yield event(
            "content_block_delta",
            index=index,
            delta={"type": "signature_delta", "signature": "fake-signature"},
        )
        yield event("content_block_stop", index=index)
        index += 1
    if reply.text:
        yield event(
            "content_block_start", index=index, content_block={"type": "text", "text": "", "citations": None}
        )
        for piece in split_text(reply.text, reply.chunk_size):
            yield event("content_block_delta", index=index, delta={"type": "text_delta", "text": piece})
        yield event("content_block_stop", index=index)
        index += 1
    for call_index, call in enumerate(reply.tool_calls):
        block = {
            "type": "tool_use",
            "id": _tool_id(message_id, call_index, call.id),
            "name": call.name,
            "input": {},
        }
        yield event("content_block_start", index=index, content_block=block)
        for piece in split_text(call.arguments_json, max(reply.chunk_size, 16)):
            yield event(
                "content_block_delta", index=index, delta={"type": "input_json_delta", "partial_json": piece}
            )
        yield event("content_block_stop", index=index)
        index += 1
    usage: dict[str, Any] = {"output_tokens": _output_tokens(reply)}
    if reply.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": reply.reasoning_tokens}
    yield event(
        "message_delta", delta={"stop_reason": _stop_reason(reply), "stop_sequence": None}, usage=usage
    )
    yield event("message_stop")


def stream_error_event(reply: Reply) -> bytes:
    return sse(error_body(reply if reply.status >= 400 else Reply(status=529)), event="error")
