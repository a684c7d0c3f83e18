"""The OpenAI wire format (``/v1/chat/completions``, ``/v1/responses``, ``/v1/embeddings``) as the
``openai`` client parses it: JSON bodies and server-sent-event streams."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

from llm_soc2.testing.script import Reply, estimate_tokens, split_text

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "not_found",
    409: "conflict",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def error_body(reply: Reply) -> dict[str, Any]:
    kind = reply.error_type or _ERROR_TYPES.get(reply.status, "server_error")
    return {
        "error": {
            "message": reply.message or f"fake provider error {reply.status}",
            "type": kind,
            "param": None,
            "code": kind,
        }
    }


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _input_tokens(body: Any, reply: Reply) -> int:
    if reply.input_tokens is not None:
        return reply.input_tokens
    source = body.get("messages") or body.get("input") or "" if isinstance(body, dict) else ""
    text = source if isinstance(source, str) else json.dumps(source)
    instructions = body.get("instructions") if isinstance(body, dict) else None
    if isinstance(instructions, str):
        text += instructions
    return estimate_tokens(text)


def _output_tokens(reply: Reply) -> int:
    if reply.output_tokens is not None:
        return reply.output_tokens
    return estimate_tokens(reply.text + "".join(c.name + c.arguments_json for c in reply.tool_calls))


def _model(body: Any, reply: Reply, default: str) -> str:
    if reply.model:
        return reply.model
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        return str(body["model"])
    return default


# ----------------------------------------------------------------------------------------------
# Chat completions
# ----------------------------------------------------------------------------------------------
def _chat_usage(body: Any, reply: Reply) -> dict[str, Any]:
    prompt = _input_tokens(body, reply)
    completion = _output_tokens(reply)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reply.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_finish(reply: Reply) -> str:
    if reply.finish_reason:
        return reply.finish_reason
    return "tool_calls" if reply.tool_calls else "stop"


def _tool_call_id(reply_id: str, index: int, given: str | None) -> str:
    return given or f"call_{reply_id[-8:]}_{index}"


def chat_completion(body: Any, reply: Reply, response_id: str) -> dict[str, Any]:
    count = body.get("n") or 1 if isinstance(body, dict) else 1
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _tool_call_id(response_id, i, call.id),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json},
            }
            for i, call in enumerate(reply.tool_calls)
        ]
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _model(body, reply, "gpt-4o-mini"),
        "choices": [
            {"index": i, "message": message, "logprobs": None, "finish_reason": _chat_finish(reply)}
            for i in range(int(count))
        ],
        "usage": _chat_usage(body, reply),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def chat_stream(body: Any, reply: Reply, response_id: str) -> Iterator[bytes]:
    include_usage = (
        bool((body.get("stream_options") or {}).get("include_usage")) if isinstance(body, dict) else False
    )
    base: dict[str, Any] = {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": _model(body, reply, "gpt-4o-mini"),
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
    }
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse(
            {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        )

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    if reply.text:
        for piece in split_text(reply.text, reply.chunk_size):
            yield chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        call_id = _tool_call_id(response_id, index, call.id)
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call_id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        for piece in split_text(call.arguments_json, max(reply.chunk_size, 16)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, _chat_finish(reply))
    if include_usage:
        yield sse({**base, "choices": [], "usage": _chat_usage(body, reply)})
    yield sse("[DONE]")


# ----------------------------------------------------------------------------------------------
# Responses
# ----------------------------------------------------------------------------------------------
def _responses_usage(body: Any, reply: Reply) -> dict[str, Any]:
    prompt = _input_tokens(body, reply)
    completion = _output_tokens(reply)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": reply.cached_tokens,
            "cache_write_tokens": reply.cache_creation_tokens,
        },
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        "total_tokens": prompt + completion,
    }


def _message_item(response_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{response_id[5:]}",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if text else [],
    }


def _function_item(response_id: str, index: int, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{response_id[5:]}_{index}",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def _response_object(
    body: Any, reply: Reply, response_id: str, status: str, output: list[dict[str, Any]], usage: bool
) -> dict[str, Any]:
    incomplete = None
    if status == "incomplete":
        incomplete = {
            "reason": reply.finish_reason if reply.finish_reason != "incomplete" else "max_output_tokens"
        }
    text_config = body.get("text") if isinstance(body, dict) and isinstance(body.get("text"), dict) else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": time.time(),
        "status": status,
        "model": _model(body, reply, "gpt-4.1-mini"),
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": body.get("temperature") if isinstance(body, dict) else None,
        "top_p": body.get("top_p") if isinstance(body, dict) else None,
        "instructions": body.get("instructions") if isinstance(body, dict) else None,
        "metadata": {},
        "error": None,
        "incomplete_details": incomplete,
        "text": text_config or {"format": {"type": "text"}},
        "usage": _responses_usage(body, reply) if usage else None,
    }


def _responses_status(reply: Reply) -> str:
    if reply.finish_reason in ("max_output_tokens", "content_filter", "incomplete", "length"):
        return "incomplete"
    return "completed"


def _responses_output(reply: Reply, response_id: str) -> list[dict[str, Any]]:
    output: list[dict[str, Any]] = []
    if reply.text:
        output.append(_message_item(response_id, reply.text))
    for index, call in enumerate(reply.tool_calls):
        call_id = _tool_call_id(response_id, index, call.id)
        output.append(_function_item(response_id, index, call_id, call.name, call.arguments_json))
    return output


def response(body: Any, reply: Reply, response_id: str) -> dict[str, Any]:
    return _response_object(
        body, reply, response_id, _responses_status(reply), _responses_output(reply, response_id), usage=True
    )


def response_stream(body: Any, reply: Reply, response_id: str) -> Iterator[bytes]:
    sequence = iter(range(1_000_000))

    def event(kind: str, **fields: Any) -> bytes:
        return sse({"type": kind, "sequence_number": next(sequence), **fields}, event=kind)

    yield event(
        "response.created", response=_response_object(body, reply, response_id, "in_progress", [], False)
    )
    yield event(
        "response.in_progress", response=_response_object(body, reply, response_id, "in_progress", [], False)
    )
    index = 0
    if reply.text:
        item = _message_item(response_id, "", status="in_progress")
        yield event("response.output_item.added", output_index=index, item=item)
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        yield event(
            "response.content_part.added", item_id=item["id"], output_index=index, content_index=0, part=part
        )
        for piece in split_text(reply.text, reply.chunk_size):
            yield event(
                "response.output_text.delta",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                delta=piece,
                logprobs=[],
            )
        yield event(
            "response.output_text.done",
            item_id=item["id"],
            output_index=index,
            content_index=0,
            text=reply.text,
            logprobs=[],
        )
        yield event(
            "response.content_part.done",
            item_id=item["id"],
            output_index=index,
            content_index=0,
            part={**part, "text": reply.text},
        )
        yield event(
            "response.output_item.done", output_index=index, item=_message_item(response_id, reply.text)
        )
        index += 1
    for call_index, call in enumerate(reply.tool_calls):
        call_id = _tool_call_id(response_id, call_index, call.id)
        done = _function_item(response_id, call_index, call_id, call.name, call.arguments_json)
        added = {**done, "arguments": "", "status": "in_progress"}
        yield event("response.output_item.added", output_index=index, item=added)
        for piece in split_text(call.arguments_json, max(reply.chunk_size, 16)):
            yield event(
                "response.function_call_arguments.delta", item_id=done["id"], output_index=index, delta=piece
            )
        yield event(
            "response.function_call_arguments.done",
            item_id=done["id"],
            output_index=index,
            name=call.name,
            arguments=call.arguments_json,
        )
        yield event("response.output_item.done", output_index=index, item=done)
        index += 1
    status = _responses_status(reply)
    final = _response_object(
        body, reply, response_id, status, _responses_output(reply, response_id), usage=True
    )
    yield event("response.completed" if status == "completed" else "response.incomplete", response=final)


# ----------------------------------------------------------------------------------------------
# Embeddings
# ----------------------------------------------------------------------------------------------
def embeddings(body: Any, reply: Reply) -> dict[str, Any]:
    raw_input = body.get("input", "") if isinstance(body, dict) else ""
    inputs = raw_input if isinstance(raw_input, list) else [raw_input]
    dimensions = body.get("dimensions") if isinstance(body, dict) else None
    size = int(dimensions) if isinstance(dimensions, int) and dimensions > 0 else reply.embedding_dimensions
    as_base64 = isinstance(body, dict) and body.get("encoding_format") == "base64"
    data = []
    for index, item in enumerate(inputs):
        seed = sum(ord(c) for c in str(item)) or 1
        vector = [((seed * (i + 1)) % 997) / 997.0 for i in range(size)]
        encoded: Any = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = reply.input_tokens if reply.input_tokens is not None else estimate_tokens(json.dumps(inputs))
    return {
        "object": "list",
        "data": data,
        "model": _model(body, reply, "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
