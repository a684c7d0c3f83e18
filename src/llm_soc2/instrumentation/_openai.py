"""Readers of the OpenAI APIs we instrument: chat completions, responses and embeddings.

Each reads its request's keyword arguments and its response (a client model, or the JSON body of a
raw response) into a ``Request`` and a ``ResponseData``; each stream reader keeps what the stream
delivered, bounded by ``max_content_bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.util.types import AttributeValue

from llm_soc2 import semconv
from llm_soc2.instrumentation import messages as m
from llm_soc2.instrumentation._params import format_attributes, integer, set_numbers, strings, text_of
from llm_soc2.instrumentation._telemetry import Request, ResponseData, Telemetry
from llm_soc2.instrumentation._wrappers import raw_body, server_attributes

_ROLES: Final = {"developer": "system"}
_SYSTEM_ROLES: Final = ("system", "developer")

_CHAT_FINISH: Final = {
    "stop": m.FINISH_STOP,
    "length": m.FINISH_LENGTH,
    "tool_calls": m.FINISH_TOOL_CALL,
    "function_call": m.FINISH_TOOL_CALL,
    "content_filter": m.FINISH_CONTENT_FILTER,
}
_INCOMPLETE_FINISH: Final = {"max_output_tokens": m.FINISH_LENGTH, "content_filter": m.FINISH_CONTENT_FILTER}

_CHAT_NUMBERS: Final = {
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "frequency_penalty": semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": semconv.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "seed": semconv.GEN_AI_REQUEST_SEED,
}
_RESPONSES_NUMBERS: Final = {
    "temperature": semconv.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": semconv.GEN_AI_REQUEST_TOP_P,
    "max_output_tokens": semconv.GEN_AI_REQUEST_MAX_TOKENS,
}
_providers: dict[type, str] = {}


# Azure OpenAI's endpoints, reached with the plain ``OpenAI`` client through Azure's v1 API.
_AZURE_HOST_SUFFIXES: Final = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


def provider_name(client: object, host: object = None) -> str:
    """``azure.ai.openai`` for an ``AzureOpenAI`` client or an Azure OpenAI host, else ``openai``."""
    if isinstance(host, str) and host.endswith(_AZURE_HOST_SUFFIXES):
        return semconv.PROVIDER_AZURE_OPENAI
    kind = type(client)
    name = _providers.get(kind)
    if name is None:
        name = semconv.PROVIDER_AZURE_OPENAI if "Azure" in kind.__name__ else semconv.PROVIDER_OPENAI
        _providers[kind] = name
    return name


def _common(
    telemetry: Telemetry, instance: Any, kwargs: Mapping[str, Any], operation: str
) -> tuple[dict[str, AttributeValue], str | None]:
    client = getattr(instance, "_client", None)
    server = server_attributes(client) if client is not None else {}
    attributes: dict[str, AttributeValue] = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_PROVIDER_NAME: provider_name(client, server.get(semconv.SERVER_ADDRESS)),
    }
    model = kwargs.get("model")
    if not isinstance(model, str):
        model = None
    else:
        attributes[semconv.GEN_AI_REQUEST_MODEL] = model
    if client is not None:
        attributes.update(server)
        telemetry.api_key_attributes(getattr(client, "api_key", None), attributes)
    user = kwargs.get("safety_identifier")
    telemetry.end_user_attributes(user if isinstance(user, str) else kwargs.get("user"), attributes)
    return attributes, model


# --------------------------------------------------------------------------------------------------
# Content: chat completions
# --------------------------------------------------------------------------------------------------
def _content_parts(content: object, parts: list[dict[str, Any]]) -> None:
    if isinstance(content, str):
        parts.append(m.text_part(content))
        return
    for block in m.as_list(content) or ():
        kind = m.get(block, "type")
        if kind in ("text", "input_text", "output_text"):
            text = m.get(block, "text")
            if isinstance(text, str):
                parts.append(m.text_part(text))
        elif kind == "refusal":
            refusal = m.get(block, "refusal")
            if isinstance(refusal, str):
                parts.append(m.text_part(refusal))
        elif kind == "image_url":
            parts.append(m.url_part(m.get(m.get(block, "image_url"), "url"), "image"))
        elif kind == "input_image":
            url = m.get(block, "image_url")
            parts.append(m.url_part(url, "image") if url else m.file_part(m.get(block, "file_id"), "image"))
        elif kind == "input_audio":
            audio = m.get(block, "input_audio") or block
            audio_format = m.get(audio, "format")
            mime = f"audio/{audio_format}" if isinstance(audio_format, str) else None
            parts.append(m.blob_part("audio", mime, m.get(audio, "data")))
        elif kind in ("file", "input_file"):
            source = m.get(block, "file") or block
            data = m.get(source, "file_data")
            if isinstance(data, str):
                parts.append(
                    m.url_part(data, "document")
                    if data.startswith("data:")
                    else m.blob_part("document", None, data)
                )
            elif m.get(source, "file_url"):
                parts.append({"type": m.URI, "modality": "document", "uri": m.get(source, "file_url")})
            else:
                parts.append(m.file_part(m.get(source, "file_id"), "document"))
        elif isinstance(kind, str):
            parts.append({"type": kind})


def chat_input(messages: object) -> tuple[list[dict[str, Any]], str]:
    """The input messages, and the text of the system/developer messages (for the template hash)."""
    result: list[dict[str, Any]] = []
    system: list[str] = []
    for item in m.as_list(messages) or ():
        role = m.get(item, "role")
        content = m.get(item, "content")
        parts: list[dict[str, Any]] = []
        if role == "tool":
            parts.append(m.tool_response_part(m.get(item, "tool_call_id"), text_of(content)))
        else:
            if role in _SYSTEM_ROLES:
                system.append(text_of(content))
            _content_parts(content, parts)
            for call in m.as_list(m.get(item, "tool_calls")) or ():
                function = m.get(call, "function")
                if function is not None:
                    parts.append(
                        m.tool_call_part(
                            m.get(call, "id"), m.get(function, "name"), m.get(function, "arguments")
                        )
                    )
                else:
                    custom = m.get(call, "custom")
                    parts.append(
                        m.tool_call_part(m.get(call, "id"), m.get(custom, "name"), m.get(custom, "input"))
                    )
            function_call = m.get(item, "function_call")
            if function_call is not None:
                parts.append(
                    m.tool_call_part(None, m.get(function_call, "name"), m.get(function_call, "arguments"))
                )
        result.append(
            m.message(_ROLES.get(role, role) if isinstance(role, str) else role, parts, m.get(item, "name"))
        )
    return result, "\n".join(system)


def system_text(messages: object) -> str:
    texts = [
        text_of(m.get(item, "content"))
        for item in m.as_list(messages) or ()
        if m.get(item, "role") in _SYSTEM_ROLES
    ]
    return "\n".join(texts)


def _tool_definitions(tools: object) -> list[dict[str, Any]] | None:
    definitions = []
    for tool in m.as_list(tools) or ():
        kind = m.get(tool, "type")
        source = m.get(tool, "function") or m.get(tool, "custom") or tool
        definition: dict[str, Any] = {"type": kind if isinstance(kind, str) else "function"}
        for key in ("name", "description", "parameters"):
            value = m.get(source, key)
            if value is not None:
                definition[key] = value
        definitions.append(definition)
    return definitions or None


def _chat_output(message: object, finish: str | None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    content = m.get(message, "content")
    if isinstance(content, str):
        parts.append(m.text_part(content))
    refusal = m.get(message, "refusal")
    if isinstance(refusal, str):
        parts.append(m.text_part(refusal))
    for call in m.as_list(m.get(message, "tool_calls")) or ():
        function = m.get(call, "function")
        parts.append(
            m.tool_call_part(m.get(call, "id"), m.get(function, "name"), m.get(function, "arguments"))
        )
    audio = m.get(message, "audio")
    if audio is not None:
        parts.append(m.blob_part("audio", None, m.get(audio, "data")))
    return m.output_message(parts, finish)


# Where each API keeps its token details (chat: prompt_/completion_tokens_details, responses: input_/
# output_tokens_details); the other API's name is the fallback for providers that mix them.
_CHAT_DETAILS: Final = (("prompt_tokens_details", "input_tokens_details"),
                        ("completion_tokens_details", "output_tokens_details"))  # fmt: skip
_RESPONSES_DETAILS: Final = (("input_tokens_details", "prompt_tokens_details"),
                             ("output_tokens_details", "completion_tokens_details"))  # fmt: skip


def _details(usage: object, names: tuple[str, str]) -> Any:
    """The first of ``names`` that ``usage`` has, set or not. The API's own name comes first, so a client
    model never looks up the other one: a missing attribute costs a raised and caught exception."""
    for name in names:
        if isinstance(usage, Mapping):
            if name in usage:
                return usage[name]
        else:
            value = getattr(usage, name, m.MISSING)
            if value is not m.MISSING:
                return value
    return None


def _usage(
    data: ResponseData,
    usage: object,
    input_key: str,
    output_key: str,
    details: tuple[tuple[str, str], tuple[str, str]] = _CHAT_DETAILS,
) -> None:
    if usage is None:
        return
    data.input_tokens = integer(m.get(usage, input_key))
    data.output_tokens = integer(m.get(usage, output_key))
    input_details = _details(usage, details[0])
    cached = integer(m.get(input_details, "cached_tokens"))
    if cached:
        data.cache_read_tokens = cached
    written = integer(m.get(input_details, "cache_write_tokens"))
    if written:
        data.cache_creation_tokens = written
    output_details = _details(usage, details[1])
    reasoning = integer(m.get(output_details, "reasoning_tokens"))
    if reasoning:
        data.reasoning_tokens = reasoning


# --------------------------------------------------------------------------------------------------
# Chat completions
# --------------------------------------------------------------------------------------------------
class ChatCompletions:
    """``client.chat.completions.create`` / ``parse`` (and ``stream``, which calls ``create``)."""

    def request(self, telemetry: Telemetry, instance: Any, kwargs: Mapping[str, Any]) -> Request:
        attributes, model = _common(telemetry, instance, kwargs, semconv.OP_CHAT)
        set_numbers(attributes, kwargs, _CHAT_NUMBERS)
        max_tokens = integer(kwargs.get("max_completion_tokens"))
        if max_tokens is None:
            max_tokens = integer(kwargs.get("max_tokens"))
        if max_tokens is not None:
            attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        stop = strings(kwargs.get("stop"))
        if stop:
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
        choices = integer(kwargs.get("n"))
        if choices is not None and choices != 1:
            attributes[semconv.GEN_AI_REQUEST_CHOICE_COUNT] = choices
        stream = kwargs.get("stream") is True
        attributes[semconv.GEN_AI_REQUEST_STREAM] = stream
        response_format = kwargs.get("response_format")
        if isinstance(response_format, type):
            format_attributes(attributes, response_format, None, telemetry.max_content_bytes)
        elif isinstance(response_format, Mapping):
            json_schema = response_format.get("json_schema")
            schema = json_schema.get("schema") if isinstance(json_schema, Mapping) else None
            format_attributes(attributes, response_format.get("type"), schema, telemetry.max_content_bytes)
        messages = kwargs.get("messages")
        request = Request(semconv.OP_CHAT, model, attributes, stream)
        if telemetry.capture and m.as_list(messages) is not None:
            request.input_messages, system = chat_input(messages)
        else:
            system = system_text(messages)
        if telemetry.capture:
            request.tool_definitions = _tool_definitions(kwargs.get("tools"))
        if system:
            attributes[semconv.PROMPT_TEMPLATE_HASH] = telemetry.template_hash(system)
        return request

    def response(self, telemetry: Telemetry, result: Any) -> ResponseData:
        body = result if hasattr(result, "choices") else raw_body(result)
        data = ResponseData()
        if body is None:
            return data
        data.id = m.get(body, "id")
        data.model = m.get(body, "model")
        choices = m.as_list(m.get(body, "choices")) or ()
        reasons = [reason for choice in choices if isinstance(reason := m.get(choice, "finish_reason"), str)]
        if reasons:
            data.finish_reasons = reasons
        _usage(data, m.get(body, "usage"), "prompt_tokens", "completion_tokens")
        if telemetry.capture:
            data.output_messages = [
                _chat_output(m.get(choice, "message"), _CHAT_FINISH.get(str(m.get(choice, "finish_reason"))))
                for choice in choices
            ]
        return data

    def accumulator(self, telemetry: Telemetry, request: Request) -> ChatStreamAccumulator:
        return ChatStreamAccumulator(telemetry.capture, telemetry.max_content_bytes)


class _ChoiceState:
    __slots__ = ("finish_reason", "refusal", "text", "tool_calls")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, list[Any]] = {}  # index -> [id, name, [argument pieces]]
        self.finish_reason: str | None = None


class ChatStreamAccumulator:
    """Collects ``ChatCompletionChunk`` objects (including the ``include_usage`` chunk)."""

    __slots__ = ("_budget", "_capture", "choices", "id", "model", "truncated", "usage")

    def __init__(self, capture: bool, limit: int) -> None:
        self._capture = capture
        self._budget = limit
        self.id: str | None = None
        self.model: str | None = None
        self.usage: Any = None
        self.choices: dict[int, _ChoiceState] = {}
        self.truncated = False

    def _keep(self, piece: str) -> bool:
        self._budget -= len(piece)
        if self._budget < 0:
            self.truncated = True
            return False
        return True

    def on_item(self, chunk: Any) -> None:
        if self.id is None:
            self.id = m.get(chunk, "id")
            self.model = m.get(chunk, "model")
        usage = m.get(chunk, "usage")
        if usage is not None:
            self.usage = usage
        for choice in m.get(chunk, "choices") or ():
            index = m.get(choice, "index") or 0
            state = self.choices.get(index)
            if state is None:
                state = self.choices[index] = _ChoiceState()
            reason = m.get(choice, "finish_reason")
            if isinstance(reason, str):
                state.finish_reason = reason
            if not self._capture:
                continue
            delta = m.get(choice, "delta")
            if delta is None:
                continue
            content = m.get(delta, "content")
            if content and self._keep(content):
                state.text.append(content)
            refusal = m.get(delta, "refusal")
            if refusal and self._keep(refusal):
                state.refusal.append(refusal)
            for call in m.get(delta, "tool_calls") or ():
                slot = state.tool_calls.setdefault(m.get(call, "index") or 0, [None, None, []])
                if m.get(call, "id"):
                    slot[0] = m.get(call, "id")
                function = m.get(call, "function")
                if function is not None:
                    if m.get(function, "name"):
                        slot[1] = m.get(function, "name")
                    arguments = m.get(function, "arguments")
                    if arguments and self._keep(arguments):
                        slot[2].append(arguments)

    def result(self) -> ResponseData:
        data = ResponseData(id=self.id, model=self.model)
        states = [self.choices[index] for index in sorted(self.choices)]
        reasons = [state.finish_reason for state in states if state.finish_reason]
        if reasons:
            data.finish_reasons = reasons
        _usage(data, self.usage, "prompt_tokens", "completion_tokens")
        if self._capture:
            outputs = []
            for state in states:
                parts: list[dict[str, Any]] = []
                if state.text:
                    parts.append(m.text_part("".join(state.text)))
                if state.refusal:
                    parts.append(m.text_part("".join(state.refusal)))
                for index in sorted(state.tool_calls):
                    call_id, name, arguments = state.tool_calls[index]
                    parts.append(m.tool_call_part(call_id, name, "".join(arguments)))
                outputs.append(m.output_message(parts, _CHAT_FINISH.get(str(state.finish_reason))))
            data.output_messages = outputs
            if self.truncated:
                data.attributes[semconv.CONTENT_TRUNCATED] = True
        return data


# --------------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------------
def responses_input(value: object) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [m.message("user", [m.text_part(value)])]
    result = []
    for item in m.as_list(value) or ():
        kind = m.get(item, "type")
        role = m.get(item, "role")
        if role is not None and kind in (None, "message"):
            parts: list[dict[str, Any]] = []
            _content_parts(m.get(item, "content"), parts)
            result.append(m.message(_ROLES.get(role, role), parts))
        elif kind == "function_call":
            part = m.tool_call_part(m.get(item, "call_id"), m.get(item, "name"), m.get(item, "arguments"))
            result.append(m.message("assistant", [part]))
        elif kind == "custom_tool_call":
            part = m.tool_call_part(m.get(item, "call_id"), m.get(item, "name"), m.get(item, "input"))
            result.append(m.message("assistant", [part]))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = m.get(item, "output")
            response = output if isinstance(output, str) else text_of(output)
            result.append(m.message("tool", [m.tool_response_part(m.get(item, "call_id"), response)]))
        elif kind == "reasoning":
            summary = text_of(m.get(item, "summary"))
            if summary:
                result.append(m.message("assistant", [m.reasoning_part(summary)]))
    return result


def _responses_system(kwargs: Mapping[str, Any]) -> str:
    instructions = kwargs.get("instructions")
    if isinstance(instructions, str):
        return instructions
    value = kwargs.get("input")
    texts = [
        text_of(m.get(item, "content"))
        for item in m.as_list(value) or ()
        if m.get(item, "role") in _SYSTEM_ROLES
    ]
    return "\n".join(texts)


def _response_finish(body: object) -> str | None:
    status = m.get(body, "status")
    if status == "completed":
        output = m.as_list(m.get(body, "output")) or ()
        called = any(m.get(item, "type") in ("function_call", "custom_tool_call") for item in output)
        return m.FINISH_TOOL_CALL if called else m.FINISH_STOP
    if status == "incomplete":
        reason = m.get(m.get(body, "incomplete_details"), "reason")
        return _INCOMPLETE_FINISH.get(str(reason), m.FINISH_LENGTH)
    if status in ("failed", "cancelled"):
        return m.FINISH_ERROR
    return None


def _output_parts(items: object) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for item in m.as_list(items) or ():
        kind = m.get(item, "type")
        if kind == "message":
            _content_parts(m.get(item, "content"), parts)
        elif kind == "function_call":
            parts.append(
                m.tool_call_part(m.get(item, "call_id"), m.get(item, "name"), m.get(item, "arguments"))
            )
        elif kind == "custom_tool_call":
            parts.append(m.tool_call_part(m.get(item, "call_id"), m.get(item, "name"), m.get(item, "input")))
        elif kind == "reasoning":
            text = text_of(m.get(item, "summary")) or text_of(m.get(item, "content"))
            if text:
                parts.append(m.reasoning_part(text))
        elif isinstance(kind, str):
            part: dict[str, Any] = {"type": m.SERVER_TOOL_CALL, "name": kind}
            if isinstance(m.get(item, "id"), str):
                part["id"] = m.get(item, "id")
            parts.append(part)
    return parts


def _response_data(body: object, capture: bool) -> ResponseData:
    data = ResponseData(id=m.get(body, "id"), model=m.get(body, "model"))
    finish = _response_finish(body)
    if finish:
        data.finish_reasons = [finish]
    _usage(data, m.get(body, "usage"), "input_tokens", "output_tokens", _RESPONSES_DETAILS)
    if capture:
        data.output_messages = [m.output_message(_output_parts(m.get(body, "output")), finish)]
    return data


class Responses:
    """``client.responses.create`` / ``parse`` (and ``stream``, which calls ``create``)."""

    def request(self, telemetry: Telemetry, instance: Any, kwargs: Mapping[str, Any]) -> Request:
        attributes, model = _common(telemetry, instance, kwargs, semconv.OP_CHAT)
        set_numbers(attributes, kwargs, _RESPONSES_NUMBERS)
        stream = kwargs.get("stream") is True
        attributes[semconv.GEN_AI_REQUEST_STREAM] = stream
        conversation = kwargs.get("conversation")
        conversation_id = conversation if isinstance(conversation, str) else m.get(conversation, "id")
        if isinstance(conversation_id, str):
            attributes[semconv.GEN_AI_CONVERSATION_ID] = conversation_id
        text_format = kwargs.get("text_format")
        if isinstance(text_format, type):
            format_attributes(attributes, text_format, None, telemetry.max_content_bytes)
        else:
            text = kwargs.get("text")
            output_format = text.get("format") if isinstance(text, Mapping) else None
            if isinstance(output_format, Mapping):
                format_attributes(
                    attributes,
                    output_format.get("type"),
                    output_format.get("schema"),
                    telemetry.max_content_bytes,
                )
        request = Request(semconv.OP_CHAT, model, attributes, stream)
        system = _responses_system(kwargs)
        if system:
            attributes[semconv.PROMPT_TEMPLATE_HASH] = telemetry.template_hash(system)
        if telemetry.capture:
            value = kwargs.get("input")
            if isinstance(value, str) or m.as_list(value) is not None:
                request.input_messages = responses_input(value)
            instructions = kwargs.get("instructions")
            if isinstance(instructions, str):
                request.system_instructions = [m.text_part(instructions)]
            request.tool_definitions = _tool_definitions(kwargs.get("tools"))
        return request

    def response(self, telemetry: Telemetry, result: Any) -> ResponseData:
        body = result if hasattr(result, "output") else raw_body(result)
        if body is None:
            return ResponseData()
        return _response_data(body, telemetry.capture)

    def accumulator(self, telemetry: Telemetry, request: Request) -> ResponsesStreamAccumulator:
        return ResponsesStreamAccumulator(telemetry.capture, telemetry.max_content_bytes)


_FINAL_EVENTS: Final = ("response.completed", "response.incomplete", "response.failed")


class ResponsesStreamAccumulator:
    """Collects Responses stream events: the final response when it arrives, else the items so far."""

    __slots__ = ("_budget", "_capture", "final", "id", "items", "model", "text", "truncated")

    def __init__(self, capture: bool, limit: int) -> None:
        self._capture = capture
        self._budget = limit
        self.id: str | None = None
        self.model: str | None = None
        self.final: Any = None
        self.items: list[Any] = []
        self.text: list[str] = []
        self.truncated = False

    def on_item(self, event: Any) -> None:
        kind = m.get(event, "type")
        if kind == "response.output_text.delta":
            delta = m.get(event, "delta")
            if self._capture and isinstance(delta, str):
                self._budget -= len(delta)
                if self._budget >= 0:
                    self.text.append(delta)
                else:
                    self.truncated = True
        elif kind == "response.function_call_arguments.delta":
            delta = m.get(event, "delta")
            if isinstance(delta, str):
                self._budget -= len(delta)
        elif kind == "response.output_item.done":
            if self._capture and self._budget >= 0:
                self.items.append(m.get(event, "item"))
                self.text.clear()
        elif kind in _FINAL_EVENTS:
            self.final = m.get(event, "response")
        elif kind in ("response.created", "response.in_progress"):
            response = m.get(event, "response")
            self.id = m.get(response, "id")
            self.model = m.get(response, "model")

    def result(self) -> ResponseData:
        if self.final is not None:
            return _response_data(self.final, self._capture)
        data = ResponseData(id=self.id, model=self.model)
        if self._capture:
            parts = _output_parts(self.items)
            if self.text:
                parts.append(m.text_part("".join(self.text)))
            data.output_messages = [m.output_message(parts, None)]
            if self.truncated:
                data.attributes[semconv.CONTENT_TRUNCATED] = True
        return data


# --------------------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------------------
class Embeddings:
    """``client.embeddings.create``. The inputs are not recorded (the conventions define no content
    attribute for embeddings)."""

    def request(self, telemetry: Telemetry, instance: Any, kwargs: Mapping[str, Any]) -> Request:
        attributes, model = _common(telemetry, instance, kwargs, semconv.OP_EMBEDDINGS)
        encoding = kwargs.get("encoding_format")
        if isinstance(encoding, str):
            attributes[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        dimensions = integer(kwargs.get("dimensions"))
        if dimensions is not None:
            attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        return Request(semconv.OP_EMBEDDINGS, model, attributes)

    def response(self, telemetry: Telemetry, result: Any) -> ResponseData:
        body = result if hasattr(result, "data") and hasattr(result, "usage") else raw_body(result)
        data = ResponseData()
        if body is None:
            return data
        data.model = m.get(body, "model")
        data.input_tokens = integer(m.get(m.get(body, "usage"), "prompt_tokens"))
        return data

    def accumulator(self, telemetry: Telemetry, request: Request) -> ChatStreamAccumulator:
        return ChatStreamAccumulator(False, 0)  # embeddings never stream
