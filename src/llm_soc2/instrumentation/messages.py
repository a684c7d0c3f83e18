"""Message content in the GenAI conventions' shape, and its bounded JSON encoding.

A message is ``{"role": ..., "parts": [...]}``; an output message adds ``finish_reason``. Parts are
``text``, ``tool_call``, ``tool_call_response``, ``blob``, ``uri``, ``file``, ``reasoning`` and
``server_tool_call``. Binary data (images, audio, documents sent inline as base64) is recorded as a
``blob`` part with its modality, MIME type and decoded size, never the data itself.

The helpers read both client objects (pydantic models) and plain mappings, and never iterate anything
but lists and tuples: an application's generator must reach the client untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

try:  # orjson is several times faster; the stdlib encoder is the fallback for what it refuses
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but the encoder must not need it
    orjson = None  # type: ignore[assignment]

TEXT: Final = "text"
TOOL_CALL: Final = "tool_call"
TOOL_CALL_RESPONSE: Final = "tool_call_response"
BLOB: Final = "blob"
URI: Final = "uri"
FILE: Final = "file"
REASONING: Final = "reasoning"
SERVER_TOOL_CALL: Final = "server_tool_call"

# Output message finish reasons (the conventions' enum)
FINISH_STOP: Final = "stop"
FINISH_LENGTH: Final = "length"
FINISH_CONTENT_FILTER: Final = "content_filter"
FINISH_TOOL_CALL: Final = "tool_call"
FINISH_ERROR: Final = "error"

_TRUNCATION_MARKER: Final = "…[{n} characters truncated]"
_MIN_CUT: Final = 16  # strings shorter than this are never cut


MISSING: Final = object()  # getattr's default: tells an absent attribute from one set to None
_MISSING: Final = MISSING


def get(obj: object, key: str) -> Any:
    """``obj[key]`` for a mapping, ``obj.key`` for an object (a client model); ``None`` when absent."""
    if type(obj) is dict:
        return obj.get(key)
    if obj is None:  # an absent sub-object (usage details ...): no attribute lookup, no Mapping check
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    value = getattr(obj, key, _MISSING)
    if value is not _MISSING:
        return value
    if isinstance(obj, Mapping):
        return obj.get(key)
    return None


def as_list(value: object) -> list[Any] | tuple[Any, ...] | None:
    """``value`` when it is a list or tuple; never consumes another iterable."""
    return value if isinstance(value, (list, tuple)) else None


def text_part(content: str) -> dict[str, Any]:
    return {"type": TEXT, "content": content}


def reasoning_part(content: str) -> dict[str, Any]:
    return {"type": REASONING, "content": content}


def tool_call_part(call_id: object, name: object, arguments: object) -> dict[str, Any]:
    part: dict[str, Any] = {"type": TOOL_CALL, "name": name if isinstance(name, str) else ""}
    if isinstance(call_id, str):
        part["id"] = call_id
    if arguments is not None:
        part["arguments"] = arguments
    return part


def tool_response_part(call_id: object, response: object) -> dict[str, Any]:
    part: dict[str, Any] = {"type": TOOL_CALL_RESPONSE, "response": response}
    if isinstance(call_id, str):
        part["id"] = call_id
    return part


def base64_size(data: str) -> int:
    """Decoded size in bytes of base64 text (without decoding it)."""
    length = len(data.strip())
    padding = 2 if data.endswith("==") else 1 if data.endswith("=") else 0
    return max(0, length * 3 // 4 - padding)


def blob_part(modality: str, mime_type: str | None, base64_data: object) -> dict[str, Any]:
    part: dict[str, Any] = {"type": BLOB, "modality": modality}
    if mime_type:
        part["mime_type"] = mime_type
    if isinstance(base64_data, str):
        part["size"] = base64_size(base64_data)
    return part


def modality_of(mime_type: str | None, default: str) -> str:
    if not mime_type:
        return default
    major = mime_type.split("/", 1)[0]
    return major if major in ("image", "audio", "video") else default


def url_part(url: object, modality: str) -> dict[str, Any]:
    """A ``uri`` part, or a ``blob`` part for a base64 ``data:`` URL (size only)."""
    if not isinstance(url, str):
        return {"type": URI, "modality": modality}
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[5:].split(";", 1)[0] or None
        return blob_part(modality_of(mime, modality), mime, data)
    return {"type": URI, "modality": modality, "uri": url}


def file_part(file_id: object, modality: str, mime_type: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": FILE, "modality": modality}
    if isinstance(file_id, str):
        part["file_id"] = file_id
    if mime_type:
        part["mime_type"] = mime_type
    return part


def message(role: object, parts: list[dict[str, Any]], name: object = None) -> dict[str, Any]:
    result: dict[str, Any] = {"role": role if isinstance(role, str) else "user", "parts": parts}
    if isinstance(name, str):
        result["name"] = name
    return result


def output_message(parts: list[dict[str, Any]], finish_reason: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"role": "assistant", "parts": parts}
    if finish_reason:
        result["finish_reason"] = finish_reason
    return result


# --------------------------------------------------------------------------------------------------
# JSON encoding with a byte budget
# --------------------------------------------------------------------------------------------------
def _default(value: object) -> Any:
    """JSON for what the clients accept besides plain data: pydantic models, other mappings, bytes."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:  # a model that cannot dump itself is recorded by its type only
            return f"<{type(value).__name__}>"
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"type": BLOB, "size": len(value)}
    if isinstance(value, (set, frozenset)):
        return list(value)
    return f"<{type(value).__name__}>"


def _encode(value: object) -> tuple[str, int]:
    """Compact JSON text (valid UTF-8) and its size in UTF-8 bytes."""
    if orjson is not None:
        try:
            data = orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError):  # lone surrogates, huge integers ...
            pass
        else:
            return data.decode("utf-8"), len(data)
    text = _valid_utf8(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default))
    return text, _utf8_size(text)


def dumps(value: object) -> str:
    """Compact JSON text, non-ASCII kept as is (the scrubber must see real characters)."""
    return _encode(value)[0]


def _utf8_size(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _valid_utf8(text: str) -> str:
    """``text`` without lone surrogates, which no exporter can encode."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def encode_bounded(value: Any, limit: int) -> tuple[Any, str, bool]:
    """``(value, json_text, truncated)`` with ``json_text`` at most ``limit`` UTF-8 bytes.

    Over the limit, the longest strings are cut first (each keeps a marker saying how much was cut),
    so the result stays valid JSON in the same shape; if cutting strings is not enough, trailing list
    items are dropped. ``value`` is changed in place: pass only structures built for the record.
    """
    text, size = _encode(value)
    if size <= limit:
        return value, text, False
    value, text = _truncate(value, text, size, limit)
    return value, text, True


def _string_leaves(value: Any, out: list[tuple[Any, Any, str]]) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, child in items:
            if isinstance(child, str):
                if len(child) > _MIN_CUT:
                    out.append((node, key, child))
            elif isinstance(child, (dict, list)):
                stack.append(child)


def _cap_for(lengths: list[int], excess: int) -> int:
    """The largest cap such that cutting every string to it removes at least ``excess`` characters."""
    lengths = sorted(lengths, reverse=True)
    removed = 0
    for i, length in enumerate(lengths):
        following = lengths[i + 1] if i + 1 < len(lengths) else 0
        # Cutting the i+1 longest strings down to `following` removes this much in total.
        step = (length - following) * (i + 1)
        if removed + step >= excess:
            return max(_MIN_CUT, length - (excess - removed + i) // (i + 1))
        removed += step
    return _MIN_CUT


def _truncate(value: Any, text: str, size: int, limit: int) -> tuple[Any, str]:
    if not isinstance(value, (dict, list)):
        cut = max(0, limit // 4 - 16)
        return text[:cut], dumps(text[:cut])
    leaves: list[tuple[Any, Any, str]] = []
    _string_leaves(value, leaves)
    ratio = size / max(1, len(text))  # average bytes per character
    excess = int((size - limit) / ratio) + 1
    for _ in range(6):
        if not leaves:
            break
        cap = _cap_for([len(s) for _, _, s in leaves], excess + 40 * len(leaves))
        for container, key, original in leaves:
            if len(original) > cap:
                container[key] = original[:cap] + _TRUNCATION_MARKER.format(n=len(original) - cap)
        text, size = _encode(value)
        if size <= limit:
            return value, text
        excess = int((size - limit) / ratio) + 1 + excess
        if cap <= _MIN_CUT:
            break
    # Cutting strings was not enough: drop trailing items of the outermost list.
    if isinstance(value, list):
        while value and size > limit:
            value.pop()
            text, size = _encode(value)
        return value, text
    return {}, "{}"
