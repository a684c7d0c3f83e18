"""Content across conventions: find every piece of text a GenAI span carries, and write scrubbed text back.

Known conventions, read by attribute name:

- OpenTelemetry GenAI (ours, util-genai, OpenLLMetry >= 0.5, OpenLIT, the Anthropic SDK): JSON strings in
  ``gen_ai.input.messages``, ``gen_ai.output.messages``, ``gen_ai.system_instructions`` and
  ``gen_ai.tool.definitions`` (role + parts; tool-call arguments and tool results inside them);
- OpenLLMetry's indexed form ``gen_ai.prompt.{i}.content`` / ``gen_ai.completion.{i}.content``;
- OpenInference: ``input.value``, ``output.value``, ``llm.input_messages.{i}.message.content``,
  ``llm.invocation_parameters`` and the rest of its ``llm.*`` tree;
- anything else: every string attribute of a GenAI span that is not known to be structural (model names,
  ids, enums, our own hashes) is treated as content. Unknown means scrubbed, not trusted.

JSON values keep their shape: the document is parsed, each string leaf scrubbed, and the document is
re-serialised only when something changed. Parsing and serialising use orjson (a few times faster than
the standard library, which remains the fallback for what orjson refuses: NaN, lone surrogates, numbers
out of range). Two differences show only in a document that is re-serialised: orjson reads an integer
beyond 64 bits as a float, and writes NaN back as null. This module has no OpenTelemetry imports; it works on plain attribute mappings so the
processor, the log-record processor and the tests share it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from llm_soc2 import semconv as sc

INPUT: Final = sc.DIRECTION_INPUT
OUTPUT: Final = sc.DIRECTION_OUTPUT

ROLE_SYSTEM: Final = "system"
ROLE_USER: Final = "user"
ROLE_ASSISTANT: Final = "assistant"
ROLE_TOOL: Final = "tool"
ROLE_TOOL_DEFINITION: Final = "tool_definition"
ROLE_CONTEXT: Final = "context"
ROLE_OTHER: Final = ""

# Replacement for a leaf whose detector action is "drop", or that could not be scrubbed (fail closed).
DROPPED_MARKER: Final = "[DROPPED]"

# String attributes of a GenAI span that are structure, not content: exported as they are.
STRUCTURAL_ATTRIBUTES: Final = frozenset(
    {
        sc.GEN_AI_OPERATION_NAME,
        sc.GEN_AI_PROVIDER_NAME,
        sc.GEN_AI_SYSTEM,
        sc.GEN_AI_REQUEST_MODEL,
        sc.GEN_AI_RESPONSE_MODEL,
        sc.GEN_AI_RESPONSE_ID,
        sc.GEN_AI_RESPONSE_FINISH_REASONS,
        sc.GEN_AI_OUTPUT_TYPE,
        sc.GEN_AI_TOKEN_TYPE,
        sc.GEN_AI_REQUEST_ENCODING_FORMATS,
        sc.SERVER_ADDRESS,
        sc.ERROR_TYPE,
        sc.API_KEY_FINGERPRINT,
        sc.PROMPT_TEMPLATE_HASH,
        sc.END_USER_HASH,
        sc.PROVIDER_HOST,
        sc.RISK_LEVEL,
        sc.RISK_CATEGORIES,
        sc.PII_TYPES,
        sc.PII_INPUT_TYPES,
        sc.PII_OUTPUT_TYPES,
        sc.SCRUB_ERROR,
        sc.OPENINFERENCE_SPAN_KIND,
        sc.OPENINFERENCE_MODEL_NAME,
        "llm.provider",
        "llm.system",
        "input.mime_type",
        "output.mime_type",
        "http.request.method",
        "url.scheme",
        "url.path",
        "http.route",
        "anthropic.request.id",
        "anthropic.organization.id",
        "anthropic.workspace.id",
        "gen_ai.request.reasoning.level",
        "gen_ai.agent.name",
        "telemetry.sdk.name",
        sc.EXCEPTION_TYPE,
    }
)
# Keys inside GenAI JSON content whose values are structure.
_JSON_STRUCTURAL_KEYS: Final = frozenset({"role", "type", "id", "finish_reason", "modality", "mime_type"})
# Suffixes of indexed (OpenLLMetry / OpenInference) attributes that are structure.
_INDEXED_STRUCTURAL_SUFFIXES: Final = (
    ".role",
    ".message.role",
    ".finish_reason",
    ".id",
    ".tool_call.id",
    ".message_content.type",
    ".mime_type",
)

_JSON_CONTENT: Final = {
    sc.GEN_AI_INPUT_MESSAGES: (INPUT, ""),
    sc.GEN_AI_OUTPUT_MESSAGES: (OUTPUT, ROLE_ASSISTANT),
    sc.GEN_AI_SYSTEM_INSTRUCTIONS: (INPUT, ROLE_SYSTEM),
    sc.GEN_AI_TOOL_DEFINITIONS: (INPUT, ROLE_TOOL_DEFINITION),
    sc.OPENINFERENCE_INVOCATION_PARAMETERS: (INPUT, ROLE_OTHER),
    sc.RESPONSE_FORMAT_SCHEMA: (INPUT, ROLE_OTHER),
}

GENAI_MARKER_ATTRIBUTES: Final = (
    sc.GEN_AI_OPERATION_NAME,
    sc.GEN_AI_PROVIDER_NAME,
    sc.GEN_AI_SYSTEM,
    sc.OPENINFERENCE_SPAN_KIND,
    sc.GEN_AI_INPUT_MESSAGES,
    sc.OPENINFERENCE_INPUT_VALUE,
)


_GENAI_MARKERS: Final = frozenset(GENAI_MARKER_ATTRIBUTES)


def is_genai(attributes: Mapping[str, Any] | None) -> bool:
    """Whether a span or event's attributes belong to an LLM interaction (any convention)."""
    if not attributes:
        return False
    if type(attributes) is dict:  # every span goes through here: one C-level pass for a plain dict
        return not _GENAI_MARKERS.isdisjoint(attributes)
    return any(key in attributes for key in GENAI_MARKER_ATTRIBUTES)


@dataclass(slots=True)
class Leaf:
    """One piece of text and where it lives. ``container[index]`` is where scrubbed text is written back
    for JSON leaves; plain attribute leaves have ``container is None``."""

    text: str
    direction: str
    role: str
    key: str
    container: Any = None
    index: Any = None


@dataclass(slots=True)
class Document:
    """A content attribute being scrubbed: the parsed JSON (if any) and whether a leaf changed."""

    key: str
    value: Any  # parsed JSON, the plain string, or a tuple of strings
    kind: str  # "json" | "text" | "seq"
    changed: bool = False
    failed: str | None = None


@dataclass(slots=True)
class ExtractedContent:
    documents: dict[str, Document] = field(default_factory=dict)
    leaves: list[Leaf] = field(default_factory=list)
    failed: bool = False  # a document failed during extraction (it is removed on write-back)


def _direction_of(key: str) -> str:
    if key.startswith((sc.OPENLLMETRY_COMPLETION_PREFIX, sc.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX)) or key in (
        sc.OPENINFERENCE_OUTPUT_VALUE,
        sc.GEN_AI_OUTPUT_MESSAGES,
        "gen_ai.completion",
    ):
        return OUTPUT
    return INPUT


def _indexed_role(key: str, attributes: Mapping[str, Any]) -> str:
    """Role of an indexed attribute like ``gen_ai.prompt.3.content`` from its sibling ``.role``."""
    for prefix, role_suffix in (
        (sc.OPENLLMETRY_PROMPT_PREFIX, ".role"),
        (sc.OPENLLMETRY_COMPLETION_PREFIX, ".role"),
        (sc.OPENINFERENCE_INPUT_MESSAGES_PREFIX, ".message.role"),
        (sc.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX, ".message.role"),
    ):
        if key.startswith(prefix):
            index, _, _ = key[len(prefix) :].partition(".")
            role = attributes.get(f"{prefix}{index}{role_suffix}")
            return role if isinstance(role, str) else ROLE_OTHER
    if key == sc.OPENINFERENCE_INPUT_VALUE:
        return ROLE_USER
    if key == sc.OPENINFERENCE_OUTPUT_VALUE:
        return ROLE_ASSISTANT
    if key == sc.RETRIEVAL_CONTEXT:
        return ROLE_CONTEXT
    return ROLE_OTHER


def is_structural(key: str) -> bool:
    known = _structural.get(key)
    if known is None:
        known = key in STRUCTURAL_ATTRIBUTES or key.endswith(_INDEXED_STRUCTURAL_SUFFIXES)
        if len(_structural) < _KEY_MEMO_LIMIT:
            _structural[key] = known
    return known


# Attribute keys recur on every span: what each one is, is computed once. Bounded, so keys made from data
# (indexed attributes of very long conversations) cannot grow it without end; past the bound it computes.
_KEY_MEMO_LIMIT: Final = 4096
_structural: dict[str, bool] = {}


def extract(attributes: Mapping[str, Any], *, all_strings: bool = True) -> ExtractedContent:
    """Collect every text leaf of ``attributes``.

    With ``all_strings`` (GenAI spans) every non-structural string is content; without it (events and
    log records of non-GenAI origin) only the known content attributes are.
    A JSON content attribute that does not parse is treated as one plain text leaf.
    """
    out = ExtractedContent()
    kinds = _string_kinds
    for key, value in attributes.items():
        kind = type(value)
        if kind is int or kind is float or kind is bool:
            continue  # the common case after strings, decided without the checks below
        if kind is str or isinstance(value, str):
            role = kinds.get(key) or _string_key_kind(key)
            if role is _STRUCTURAL:
                continue
            if role is not _PLAIN:
                _extract_json(out, key, value, role)
            elif all_strings or _is_known_content_key(key):
                doc = Document(key, value, "text")
                out.documents[key] = doc
                out.leaves.append(Leaf(value, _direction_of(key), _indexed_role(key, attributes), key))
        elif (
            kind is tuple
            or kind is list
            or (isinstance(value, Sequence) and not isinstance(value, bytes | bytearray))
        ):
            if not value or is_structural(key) or not isinstance(value[0], str):
                continue
            if not (all_strings or _is_known_content_key(key)):
                continue
            items = list(value)
            doc = Document(key, items, "seq")
            out.documents[key] = doc
            direction = _direction_of(key)
            for i, item in enumerate(items):
                if isinstance(item, str):
                    out.leaves.append(Leaf(item, direction, ROLE_OTHER, key, items, i))
        elif isinstance(value, bytes | bytearray):
            # Bytes attributes are opaque: never exported raw from a GenAI span.
            out.documents[key] = Document(key, value, "bytes", failed="binary attribute")
            out.failed = True
    return out


# What a string attribute is, by key: a JSON content attribute (its direction and role), structure, or
# plain text. One memo lookup per attribute on every span.
_STRUCTURAL: Final = ("structural",)
_PLAIN: Final = ("plain",)
_string_kinds: dict[str, tuple[str, ...]] = {}


def _string_key_kind(key: str) -> tuple[str, ...]:
    known = _string_kinds.get(key)
    if known is None:
        known = _JSON_CONTENT.get(key) or (_STRUCTURAL if is_structural(key) else _PLAIN)
        if len(_string_kinds) < _KEY_MEMO_LIMIT:
            _string_kinds[key] = known
    return known


def _is_known_content_key(key: str) -> bool:
    return (
        key in _JSON_CONTENT
        or key.startswith(
            (
                sc.OPENLLMETRY_PROMPT_PREFIX,
                sc.OPENLLMETRY_COMPLETION_PREFIX,
                sc.OPENINFERENCE_INPUT_MESSAGES_PREFIX,
                sc.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX,
                "llm.",
                "gen_ai.",
            )
        )
        or key
        in (
            sc.OPENINFERENCE_INPUT_VALUE,
            sc.OPENINFERENCE_OUTPUT_VALUE,
            sc.URL_FULL,
            sc.URL_QUERY,
            sc.EXCEPTION_MESSAGE,
            sc.EXCEPTION_STACKTRACE,
        )
    )


def loads(raw: str) -> Any:
    """JSON text to Python values (orjson, or the standard library for what orjson refuses)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is (orjson, or the standard library for what orjson refuses)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _extract_json(out: ExtractedContent, key: str, raw: str, where: tuple[str, ...]) -> None:
    direction, role = where
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = _loads_or_text(raw)
    kind = parsed.__class__
    if kind is list:
        out.documents[key] = Document(key, parsed, "json")
        _walk_array(out.leaves, parsed, key, direction, role, 0)
    elif kind is dict:
        out.documents[key] = Document(key, parsed, "json")
        _walk_object(out.leaves, parsed, key, direction, role, 0)
    elif isinstance(parsed, str) or parsed is _NOT_JSON:
        out.documents[key] = Document(key, raw, "text")
        out.leaves.append(Leaf(raw, direction, role, key))
    else:  # a number, true/false/null: no text in it
        out.documents[key] = Document(key, parsed, "json")


_NOT_JSON: Final = object()


def _loads_or_text(raw: str) -> Any:
    """What the standard library makes of what orjson refuses, or ``_NOT_JSON``."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _NOT_JSON


_MAX_DEPTH: Final = 64


# Parsed JSON holds exact types, so each value's class is compared first; the isinstance checks after
# them are for the rest (subclasses from other sources). Objects and arrays have their own walkers: the
# type of a child decides which one runs, without a second dispatch inside the callee.
def _walk(leaves: list[Leaf], node: Any, key: str, direction: str, role: str, depth: int) -> None:
    if isinstance(node, dict):
        _walk_object(leaves, node, key, direction, role, depth)
    elif isinstance(node, list):
        _walk_array(leaves, node, key, direction, role, depth)


def _walk_object(
    leaves: list[Leaf], node: dict[str, Any], key: str, direction: str, role: str, depth: int
) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("content nested too deeply")
    node_role = node.get("role")
    if isinstance(node_role, str):
        role = node_role
    if node.get("type") == "tool_call_response":
        role = ROLE_TOOL
    for k, v in node.items():
        kind = v.__class__
        if kind is str or (kind is not list and kind is not dict and isinstance(v, str)):
            if k not in _JSON_STRUCTURAL_KEYS:
                # Tool-call arguments are often a JSON string themselves: scrubbed as text, which is safe
                # (detectors see through the quoting) and keeps the string byte-compatible.
                leaves.append(Leaf(v, direction, role, key, node, k))
        elif kind is list or (kind is not dict and isinstance(v, list)):
            _walk_array(leaves, v, key, direction, role, depth + 1)
        elif kind is dict or isinstance(v, dict):
            _walk_object(leaves, v, key, direction, role, depth + 1)


def _walk_array(leaves: list[Leaf], node: list[Any], key: str, direction: str, role: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("content nested too deeply")
    for i, v in enumerate(node):
        kind = v.__class__
        if kind is dict or (kind is not str and kind is not list and isinstance(v, dict)):
            _walk_object(leaves, v, key, direction, role, depth + 1)
        elif kind is str or (kind is not list and isinstance(v, str)):
            leaves.append(Leaf(v, direction, role, key, node, i))
        elif kind is list or isinstance(v, list):
            _walk_array(leaves, v, key, direction, role, depth + 1)


def write_back(
    extracted: ExtractedContent,
    results: Sequence[ScrubbedText],
    attributes: dict[str, Any],
) -> list[str]:
    """Apply scrub results (one ``(text_or_None, findings, error_or_None)`` per leaf, in leaf order) to
    ``attributes`` in place. Returns the keys that were removed because they could not be scrubbed.

    A leaf whose text is ``None`` without an error was dropped on purpose (the ``drop`` action) and
    becomes ``DROPPED_MARKER``; a leaf with an error fails its whole attribute closed: it is removed.
    """
    docs = extracted.documents
    for leaf, (text, _, error) in zip(extracted.leaves, results, strict=True):
        doc = docs[leaf.key]
        if error is not None:
            doc.failed = error
            continue
        new = DROPPED_MARKER if text is None else text
        if new == leaf.text:
            continue
        doc.changed = True
        if leaf.container is None:
            doc.value = new
        else:
            leaf.container[leaf.index] = new
    removed: list[str] = []
    for key, doc in docs.items():
        if doc.failed is not None:
            attributes.pop(key, None)
            removed.append(key)
        elif doc.changed:
            if doc.kind == "json":
                attributes[key] = dumps(doc.value)
            elif doc.kind == "seq":
                attributes[key] = tuple(doc.value)
            else:
                attributes[key] = doc.value
    return removed


# What a scrubber makes of one text: the scrubbed text (None: dropped), the findings, the error if any.
ScrubbedText = tuple[str | None, Any, str | None]


def scrub_attributes(
    attributes: Mapping[str, Any],
    scrub_texts: Callable[[list[str]], list[ScrubbedText]],
    *,
    all_strings: bool = True,
    in_place: bool = False,
) -> tuple[dict[str, Any], ExtractedContent, list[Any], list[str]]:
    """Scrub a mapping of attributes. ``scrub_texts`` maps texts to ``(text, findings, error)``.
    ``in_place``: ``attributes`` is a dict the caller owns, written to instead of a copy.

    Returns the new attributes, the extracted content (with scrubbed leaves in place for JSON), the
    findings per leaf, and the keys removed by fail-closed handling.
    """
    extracted = extract(attributes, all_strings=all_strings)
    new_attributes = attributes if in_place and type(attributes) is dict else dict(attributes)
    if not extracted.documents:
        return new_attributes, extracted, [], []
    texts = [leaf.text for leaf in extracted.leaves]
    results = scrub_texts(texts) if texts else []
    changed = extracted.failed
    if not changed:  # a clean span, mostly: every text as it was, nothing to write back
        for original, (text, findings, error) in zip(texts, results, strict=True):
            if text is not original or findings or error is not None:
                changed = True
                break
    removed = write_back(extracted, results, new_attributes) if changed else []
    return new_attributes, extracted, [findings for _, findings, _ in results], removed


def parsed_content(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The content attributes of (already scrubbed) ``attributes``, JSON parsed where it parses: what
    the audit record stores as the interaction's content."""
    content: dict[str, Any] = {}
    for key in _JSON_CONTENT:
        value = attributes.get(key)
        if isinstance(value, str):
            try:
                content[key] = loads(value)
            except (ValueError, RecursionError):
                content[key] = value
    for key, value in attributes.items():
        if key not in content and key not in _JSON_CONTENT and is_content_only_key(key):
            content[key] = value
    return content


def is_content_only_key(key: str) -> bool:
    """Whether ``key`` holds content and nothing else (prompts and completions in any convention)."""
    known = _content_only.get(key)
    if known is None:
        known = not is_structural(key) and _content_only_key(key)
        if len(_content_only) < _KEY_MEMO_LIMIT:
            _content_only[key] = known
    return known


_content_only: dict[str, bool] = {}


def _content_only_key(key: str) -> bool:
    return key.startswith(
        (
            sc.OPENLLMETRY_PROMPT_PREFIX,
            sc.OPENLLMETRY_COMPLETION_PREFIX,
            sc.OPENINFERENCE_INPUT_MESSAGES_PREFIX,
            sc.OPENINFERENCE_OUTPUT_MESSAGES_PREFIX,
        )
    ) or key in (
        sc.OPENINFERENCE_INPUT_VALUE,
        sc.OPENINFERENCE_OUTPUT_VALUE,
        sc.RETRIEVAL_CONTEXT,
        "gen_ai.prompt",
        "gen_ai.completion",
    )


def texts_by_role(leaves: Sequence[Leaf], scrubbed: Sequence[str | None]) -> dict[str, list[str]]:
    """Group scrubbed leaf texts by the role the classifiers care about."""
    groups: dict[str, list[str]] = {}
    for leaf, text in zip(leaves, scrubbed, strict=True):
        if text is None:
            continue
        where = (leaf.direction, leaf.role, leaf.key)
        group = _groups.get(where, _UNKNOWN)
        if group is _UNKNOWN:
            group = _group_of(*where)
            if len(_groups) < _KEY_MEMO_LIMIT:
                _groups[where] = group
        if group is not None:
            groups.setdefault(group, []).append(text)
    return groups


_UNKNOWN: Final = "\x00unknown"
# (direction, role, key) -> the group of a leaf found there; roles come from content, so it is bounded.
_groups: dict[tuple[str, str, str], str | None] = {}


def _group_of(direction: str, role: str, key: str) -> str | None:
    if direction == OUTPUT:
        return ROLE_ASSISTANT
    if role in (ROLE_SYSTEM, "developer"):
        return ROLE_SYSTEM
    if role == ROLE_TOOL:
        return ROLE_TOOL
    if role == ROLE_CONTEXT:
        return ROLE_CONTEXT
    if role == ROLE_ASSISTANT:
        return None  # earlier assistant turns in the input history: neither prompt nor response
    if role == ROLE_TOOL_DEFINITION or key in (
        sc.OPENINFERENCE_INVOCATION_PARAMETERS,
        sc.RESPONSE_FORMAT_SCHEMA,
    ):
        return None
    if key in _JSON_CONTENT or is_content_only_key(key):
        return ROLE_USER
    return None
