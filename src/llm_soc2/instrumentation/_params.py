"""Request parameters as attribute values, shared by the OpenAI and Anthropic readers.

The clients' sentinels (``omit``, ``NOT_GIVEN``) are neither numbers nor strings, so the type checks
here also skip parameters the application did not give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.util.types import AttributeValue

from llm_soc2 import semconv
from llm_soc2.instrumentation.messages import as_list, dumps, get

_schema_cache: dict[type, str | None] = {}
_SCHEMA_CACHE_LIMIT: Final = 256


def number(value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def integer(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def strings(value: object) -> list[str] | None:
    """A string or a list of strings as a list of strings."""
    if isinstance(value, str):
        return [value]
    items = as_list(value)
    if items and all(isinstance(item, str) for item in items):
        return list(items)
    return None


def set_numbers(
    attributes: dict[str, AttributeValue], kwargs: Mapping[str, Any], table: Mapping[str, str]
) -> None:
    """``attributes[key] = kwargs[name]`` for each number given, by the ``name -> key`` table."""
    if kwargs.keys().isdisjoint(table):  # most calls give none of them: one set operation
        return
    for name, key in table.items():
        value = number(kwargs.get(name))
        if value is not None:
            attributes[key] = value


def type_schema(model: type) -> str | None:
    """The JSON schema of a pydantic model class (``parse(response_format=Model)``), cached per class."""
    if model in _schema_cache:
        return _schema_cache[model]
    method = getattr(model, "model_json_schema", None)
    schema: str | None = None
    if callable(method):
        try:
            schema = dumps(method())
        except Exception:
            schema = None
    if len(_schema_cache) >= _SCHEMA_CACHE_LIMIT:
        _schema_cache.clear()
    _schema_cache[model] = schema
    return schema


def format_attributes(
    attributes: dict[str, AttributeValue], format_type: object, schema: object, limit: int
) -> None:
    """``gen_ai.output.type`` and ``llm_soc2.response_format.schema`` for a requested output format.

    ``format_type`` is the format's ``type`` (``json_schema``, ``json_object``, ``text``) or a pydantic
    class; ``schema`` the JSON schema given inline. A schema over ``limit`` bytes is not recorded.
    """
    text: str | None = None
    if isinstance(format_type, type):
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_TYPE_JSON
        text = type_schema(format_type)
    elif format_type in ("json_schema", "json_object", "json"):
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_TYPE_JSON
        if isinstance(schema, Mapping):
            text = dumps(schema)
    elif format_type == "text":
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = semconv.OUTPUT_TYPE_TEXT
    if text is not None and len(text) <= limit:
        attributes[semconv.RESPONSE_FORMAT_SCHEMA] = text


def text_of(content: object) -> str:
    """The text of a content value: a string, or the ``text`` of each text block in a list."""
    if isinstance(content, str):
        return content
    pieces = []
    for block in as_list(content) or ():
        text = get(block, "text")
        if isinstance(text, str):
            pieces.append(text)
    return "\n".join(pieces)
