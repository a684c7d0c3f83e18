"""Readers of the Anthropic Messages API: ``messages.create`` / ``parse`` / ``stream``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.util.types import AttributeValue

from llm_soc2 import semconv
from llm_soc2.fingerprint import KNOWN_SECRETS
from llm_soc2.instrumentation import messages as m
from llm_soc2.instrumentation._params import format_attributes, integer, set_numbers, strings, text_of
from llm_soc2.instrumentation._telemetry import Request, ResponseData, Telemetry
from llm_soc2.instrumentation._wrappers import raw_body, server_attributes

_FINISH: Final = {
    "end_turn": m.FINISH_STOP,
    "stop_sequence": m.FINISH_STOP,
    "pause_turn": m.FINISH_STOP,
    "max_tokens": m.FINISH_LENGTH,
    "model_context_window_exceeded": m.FINISH_LENGTH,
    "tool_use": m.FINISH_TOOL_CALL,
    "refusal": m.FINISH_CONTENT_FILTER,
}
_NUMBERS: Final = {
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "top_k": semconv.GEN_AI_REQUEST_TOP_K,
    "max_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
}
_providers: dict[type, str] = {}


def provider_name(client: object) -> str:
    kind = type(client)
    name = _providers.get(kind)
    if name is None:
        class_name = kind.__name__
        if "Bedrock" in class_name:
            name = semconv.PROVIDER_AWS_BEDROCK
        elif "Vertex" in class_name:
            name = semconv.PROVIDER_GCP_VERTEX_AI
        else:
            name = semconv.PROVIDER_ANTHROPIC
        _providers[kind] = name
    return name


def _source_part(block: object, default_modality: str) -> dict[str, Any]:
    source = m.get(block, "source")
    kind = m.get(source, "type")
    media_type = m.get(source, "media_type")
    mime = media_type if isinstance(media_type, str) else None
    if kind == "base64":
        return m.blob_part(m.modality_of(mime, default_modality), mime, m.get(source, "data"))
    if kind == "url":
        return m.url_part(m.get(source, "url"), default_modality)
    if kind == "file":
        return m.file_part(m.get(source, "file_id"), default_modality, mime)
    if kind == "text":
        data = m.get(source, "data")
        return m.text_part(data if isinstance(data, str) else "")
    if kind == "content":
        return m.text_part(text_of(m.get(source, "content")))
    return {"type": m.BLOB, "modality": default_modality}


def _block_part(block: object) -> dict[str, Any] | None:
    kind = m.get(block, "type")
    if kind == "text":
        text = m.get(block, "text")
        return m.text_part(text) if isinstance(text, str) else None
    if kind == "image":
        return _source_part(block, "image")
    if kind == "document":
        return _source_part(block, "document")
    if kind == "tool_use":
        return m.tool_call_part(m.get(block, "id"), m.get(block, "name"), m.get(block, "input"))
    if kind == "tool_result":
        content = m.get(block, "content")
        return m.tool_response_part(
            m.get(block, "tool_use_id"), content if isinstance(content, str) else text_of(content)
        )
    if kind == "thinking":
        thinking = m.get(block, "thinking")
        return m.reasoning_part(thinking) if isinstance(thinking, str) else None
    if kind == "server_tool_use":
        part: dict[str, Any] = {"type": m.SERVER_TOOL_CALL, "name": m.get(block, "name")}
        if isinstance(m.get(block, "id"), str):
            part["id"] = m.get(block, "id")
        return part
    if isinstance(kind, str) and kind != "redacted_thinking":
        return {"type": kind}
    return None


def _parts(content: object) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [m.text_part(content)]
    parts = []
    for block in m.as_list(content) or ():
        part = _block_part(block)
        if part is not None:
            parts.append(part)
    return parts


def input_messages(messages: object) -> list[dict[str, Any]]:
    return [
        m.message(m.get(item, "role"), _parts(m.get(item, "content"))) for item in m.as_list(messages) or ()
    ]


def _tool_definitions(tools: object) -> list[dict[str, Any]] | None:
    definitions = []
    for tool in m.as_list(tools) or ():
        kind = m.get(tool, "type")
        definition: dict[str, Any] = {
            "type": kind if isinstance(kind, str) and kind != "custom" else "function"
        }
        for key, name in (("name", "name"), ("description", "description"), ("input_schema", "parameters")):
            value = m.get(tool, key)
            if value is not None:
                definition[name] = value
        definitions.append(definition)
    return definitions or None


def _usage(data: ResponseData, usage: object) -> None:
    if usage is None:
        return
    base = integer(m.get(usage, "input_tokens"))
    read = integer(m.get(usage, "cache_read_input_tokens"))
    written = integer(m.get(usage, "cache_creation_input_tokens"))
    if base is not None:
        # The conventions' input tokens include cached ones; Anthropic reports them apart.
        data.input_tokens = base + (read or 0) + (written or 0)
    if read:
        data.cache_read_tokens = read
    if written:
        data.cache_creation_tokens = written
    output = integer(m.get(usage, "output_tokens"))
    if output is not None:
        data.output_tokens = output
    thinking = integer(m.get(m.get(usage, "output_tokens_details"), "thinking_tokens"))
    if thinking:
        data.reasoning_tokens = thinking


def message_data(message: object, capture: bool) -> ResponseData:
    data = ResponseData(id=m.get(message, "id"), model=m.get(message, "model"))
    stop_reason = m.get(message, "stop_reason")
    if isinstance(stop_reason, str):
        data.finish_reasons = [stop_reason]
    _usage(data, m.get(message, "usage"))
    if capture:
        finish = _FINISH.get(stop_reason) if isinstance(stop_reason, str) else None
        data.output_messages = [m.output_message(_parts(m.get(message, "content")), finish)]
    return data


def _aws_access_key(client: Any) -> str | None:
    """Bedrock signed with AWS keys (SigV4) has no API key: the access key id names the credential (its
    fingerprint is recorded); the secret key and the session token sign the request, and are registered
    with the scrubber so that no form of them leaves the process either."""
    for secret in (getattr(client, "aws_secret_key", None), getattr(client, "aws_session_token", None)):
        if isinstance(secret, str):
            KNOWN_SECRETS.add(secret)
    access_key = getattr(client, "aws_access_key", None)
    return access_key if isinstance(access_key, str) else None


class Messages:
    """``client.messages.create`` / ``parse``, and ``stream`` (``stream=True`` is implied)."""

    def __init__(self, *, streaming: bool = False) -> None:
        self._streaming = streaming

    def request(self, telemetry: Telemetry, instance: Any, kwargs: Mapping[str, Any]) -> Request:
        client = getattr(instance, "_client", None)
        attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
            semconv.GEN_AI_PROVIDER_NAME: provider_name(client),
        }
        model = kwargs.get("model")
        if not isinstance(model, str):
            model = None
        else:
            attributes[semconv.GEN_AI_REQUEST_MODEL] = model
        if client is not None:
            attributes.update(server_attributes(client))
            key = getattr(client, "api_key", None) or getattr(client, "auth_token", None)
            telemetry.api_key_attributes(key or _aws_access_key(client), attributes)
        set_numbers(attributes, kwargs, _NUMBERS)
        stop = strings(kwargs.get("stop_sequences"))
        if stop:
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
        stream = self._streaming or kwargs.get("stream") is True
        attributes[semconv.GEN_AI_REQUEST_STREAM] = stream
        telemetry.end_user_attributes(m.get(kwargs.get("metadata"), "user_id"), attributes)
        output_format = kwargs.get("output_format")
        if isinstance(output_format, type):
            format_attributes(attributes, output_format, None, telemetry.max_content_bytes)
        else:
            config_format = m.get(kwargs.get("output_config"), "format")
            if isinstance(config_format, Mapping):
                format_attributes(
                    attributes,
                    config_format.get("type"),
                    config_format.get("schema"),
                    telemetry.max_content_bytes,
                )
        system = kwargs.get("system")
        system_text = text_of(system)
        if system_text:
            attributes[semconv.PROMPT_TEMPLATE_HASH] = telemetry.template_hash(system_text)
        request = Request(semconv.OP_CHAT, model, attributes, stream)
        if telemetry.capture:
            messages = kwargs.get("messages")
            if m.as_list(messages) is not None:
                request.input_messages = input_messages(messages)
            if system_text:
                request.system_instructions = _parts(system)
            request.tool_definitions = _tool_definitions(kwargs.get("tools"))
        return request

    def response(self, telemetry: Telemetry, result: Any) -> ResponseData:
        body = result if hasattr(result, "content") and hasattr(result, "stop_reason") else raw_body(result)
        if body is None:
            return ResponseData()
        return message_data(body, telemetry.capture)

    def accumulator(self, telemetry: Telemetry, request: Request) -> MessageStreamAccumulator:
        return MessageStreamAccumulator(telemetry.capture, telemetry.max_content_bytes)


class _Block:
    __slots__ = ("id", "kind", "name", "pieces")

    def __init__(self, kind: str, block_id: object, name: object) -> None:
        self.kind = kind
        self.id = block_id
        self.name = name
        self.pieces: list[str] = []


class MessageStreamAccumulator:
    """Collects raw Messages stream events (``message_start``, ``content_block_*``, ``message_delta``)."""

    __slots__ = ("_budget", "_capture", "blocks", "id", "model", "stop_reason", "truncated", "usage")

    def __init__(self, capture: bool, limit: int) -> None:
        self._capture = capture
        self._budget = limit
        self.id: str | None = None
        self.model: str | None = None
        self.stop_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self.blocks: dict[int, _Block] = {}
        self.truncated = False

    def _merge_usage(self, usage: object) -> None:
        for key in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        ):
            value = m.get(usage, key)
            if isinstance(value, int):
                self.usage[key] = value
        details = m.get(usage, "output_tokens_details")
        if details is not None:
            self.usage["output_tokens_details"] = details

    def on_item(self, event: Any) -> None:
        kind = m.get(event, "type")
        if kind == "content_block_delta":
            if not self._capture:
                return
            block = self.blocks.get(m.get(event, "index"))
            delta = m.get(event, "delta")
            piece = m.get(delta, "text") or m.get(delta, "partial_json") or m.get(delta, "thinking")
            if block is not None and isinstance(piece, str):
                self._budget -= len(piece)
                if self._budget >= 0:
                    block.pieces.append(piece)
                else:
                    self.truncated = True
        elif kind == "content_block_start":
            block = m.get(event, "content_block")
            block_kind = m.get(block, "type")
            self.blocks[m.get(event, "index")] = _Block(
                block_kind if isinstance(block_kind, str) else "", m.get(block, "id"), m.get(block, "name")
            )
        elif kind == "message_start":
            message = m.get(event, "message")
            self.id = m.get(message, "id")
            self.model = m.get(message, "model")
            self._merge_usage(m.get(message, "usage"))
        elif kind == "message_delta":
            reason = m.get(m.get(event, "delta"), "stop_reason")
            if isinstance(reason, str):
                self.stop_reason = reason
            self._merge_usage(m.get(event, "usage"))

    def result(self) -> ResponseData:
        data = ResponseData(id=self.id, model=self.model)
        if self.stop_reason:
            data.finish_reasons = [self.stop_reason]
        if self.usage:
            _usage(data, self.usage)
        if self._capture:
            parts: list[dict[str, Any]] = []
            for index in sorted(self.blocks):
                block = self.blocks[index]
                text = "".join(block.pieces)
                if block.kind == "text":
                    parts.append(m.text_part(text))
                elif block.kind in ("tool_use", "server_tool_use"):
                    parts.append(m.tool_call_part(block.id, block.name, text))
                elif block.kind == "thinking":
                    parts.append(m.reasoning_part(text))
                elif block.kind:
                    parts.append({"type": block.kind})
            data.output_messages = [m.output_message(parts, _FINISH.get(self.stop_reason or ""))]
            if self.truncated:
                data.attributes[semconv.CONTENT_TRUNCATED] = True
        return data


class HelperStreamAccumulator:
    """For ``messages.stream()``: the helper's own accumulated message when it has one (it also
    covers ``text_stream`` and ``get_final_message()``, which bypass our proxy), else the events seen."""

    __slots__ = ("_capture", "_events", "_stream")

    def __init__(self, stream: Any, capture: bool, limit: int) -> None:
        self._stream = stream
        self._capture = capture
        self._events = MessageStreamAccumulator(capture, limit)

    def on_item(self, event: Any) -> None:
        self._events.on_item(event)

    def result(self) -> ResponseData:
        try:
            snapshot = self._stream.current_message_snapshot
        except (AssertionError, AttributeError):
            snapshot = None
        if snapshot is None:
            return self._events.result()
        return message_data(snapshot, self._capture)
