"""The audit record and its canonical byte encoding (what the Merkle leaf commits to).

An :class:`AuditRecord` is one event in the audit log: a GenAI interaction (the scrubbed span's
``gen_ai.*`` and ``llm_soc2.*`` attributes) or an operational event (drift, change, approval, key,
incident, baseline, erasure, purge ...). The log assigns ``log_id`` and ``seq`` on append.

Canonical encoding, version 1
=============================

``body = 0x01 || JSON`` where ``0x01`` is the format version byte and ``JSON`` is one JSON object,
UTF-8, with exactly these members (all present, in this byte order because keys are sorted)::

    {"attributes":{...},"content":C,"kind":"...","log_id":"...","sealed":S,"seq":N,
     "service":"...","span_id":"...","subject":"...","time_unix_nano":T,"trace_id":"..."}

* ``attributes``: the record's flat attribute mapping; ``seq`` and ``time_unix_nano``: integers.
* ``content``: ``null`` or ``{"sha256":"<64 hex>"}`` -- SHA-256 of the stored content blob
  (``16 random salt bytes || JSON of the scrubbed content``). The blob lives outside the leaf so it
  can be purged after the retention period; the salt keeps the digest from confirming a guess.
* ``sealed``: ``null`` or ``{"key_id":"<hex>","sha256":"<64 hex>"}`` -- digest of the AES-256-GCM
  ciphertext blob of the raw (unscrubbed) content and the id of the subject's data key. The leaf
  never commits to raw content, only to ciphertext; destroying the key shreds the content.

JSON rules (the same bytes in any implementation):

* object members sorted by key, compared as Python ``str`` (Unicode code points); no whitespace:
  separators are ``,`` and ``:``;
* strings: UTF-8, not ASCII-escaped; ``"`` ``\\`` escaped with a backslash, ``\\b \\f \\n \\r \\t``
  in their short forms, other characters below U+0020 as ``\\u00XX`` (lower-case hex); lone
  surrogates are replaced by U+FFFD before encoding;
* integers in decimal, no leading zeros, arbitrary size; ``true``/``false``/``null``;
* floats in the shortest decimal form that reads back to the same IEEE-754 double, as Python's
  ``repr`` writes it (``1.0``, ``0.1``, ``1e-07``, ``1.5e+300``); NaN and infinities are written as
  the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``; ``-0.0`` as ``-0.0``;
* arrays for lists and tuples; mapping keys that are not strings are converted with ``str()``;
  any other value (bytes, datetime ...) is recorded as its ``str()``.

``leaf_hash = SHA-256(0x00 || body)`` (RFC 6962 leaf hash).

The query columns the stores index (service, model, risk level ...) are derived from the body by
:func:`query_columns`; verification recomputes them from the body, so editing a column is caught.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from llm_soc2 import semconv

FORMAT_VERSION: Final = 1
VERSION_BYTE: Final = bytes([FORMAT_VERSION])

# Record kinds written by llm-soc2 itself (the field is a free string).
KIND_INTERACTION: Final = "interaction"
KIND_DRIFT: Final = "drift"
KIND_CHANGE: Final = "change"
KIND_APPROVAL: Final = "approval"
KIND_KEY: Final = "key"
KIND_INCIDENT: Final = "incident"
KIND_BASELINE: Final = "baseline"
KIND_ERASURE: Final = "erasure"
KIND_PURGE: Final = "purge"

# Attributes of the log's own event records.
ATTR_KEY_EVENT: Final = "llm_soc2.key.event"  # "create" | "rotate"
ATTR_KEY_VKEY: Final = "llm_soc2.key.vkey"
ATTR_KEY_PREVIOUS: Final = "llm_soc2.key.previous"
ATTR_ERASURE_SUBJECT: Final = "llm_soc2.erasure.subject"
ATTR_PURGE_BEFORE: Final = "llm_soc2.purge.before_time_unix_nano"
ATTR_CONTENT_ROWS: Final = "llm_soc2.content.rows_removed"

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
_encode_value: Final = _ENCODER.encode
# The stdlib's C string encoder with ensure_ascii=False: exactly what _ENCODER writes for a str.
_encode_str: Final[Callable[[str], str]] = json.encoder.encode_basestring
_SCALARS: Final = frozenset((str, int, bool, type(None)))


@dataclass(frozen=True)
class AuditRecord:
    """One audit event. ``seq`` and ``log_id`` are assigned by the log on append.

    ``content`` is the scrubbed content (``{"input":..., "output":..., "system":..., "tools":...}``).
    ``raw_content`` is the unscrubbed content: it is stored only AES-256-GCM encrypted under the
    subject's data key when a content key is configured, and dropped otherwise; it is never part of
    the body and is not returned by :meth:`AuditLog.records` (use ``AuditLog.raw_content``).
    """

    kind: str
    time_unix_nano: int
    service: str = ""
    trace_id: str = ""
    span_id: str = ""
    subject: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    content: Mapping[str, Any] | None = None
    raw_content: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    seq: int | None = None
    log_id: str = ""
    # Digests the body commits to; set on records read back from the log.
    content_sha256: str | None = field(default=None, compare=False)
    sealed_sha256: str | None = field(default=None, compare=False)
    sealed_key_id: str | None = field(default=None, compare=False)

    def with_position(self, log_id: str, seq: int) -> AuditRecord:
        return dataclasses.replace(self, log_id=log_id, seq=seq)


# --------------------------------------------------------------------------------------------------
# JSON canonicalisation
# --------------------------------------------------------------------------------------------------
def normalise(value: Any) -> Any:
    """A JSON-able copy of ``value`` following the rules in the module docstring."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _clean_str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Mapping):
        return {_clean_str(k if isinstance(k, str) else str(k)): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return _clean_str(str(value))


def _clean_str(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return text


def clean_text(value: Any) -> str:
    """A record's string field as the body holds it (``str()``, lone surrogates replaced)."""
    return _clean_str(value if type(value) is str else str(value))


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes of an already normalised value."""
    return _ENCODER.encode(value).encode("utf-8")


def is_plain(value: Any) -> bool:
    """True when ``value`` is already JSON-clean, so that :func:`normalise` would return an equal
    value with the same canonical bytes: str keys, str/int/bool/None/finite float leaves, dicts,
    lists and tuples only (exact types, no subclasses). Strings are not checked for lone surrogates
    here: encoding the result to UTF-8 fails on them, and callers then take the normalising path."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return bool(value - value == 0.0)  # False for NaN and the infinities
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not is_plain(item)):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) in _SCALARS or is_plain(item) for item in value)
    return False


def canonical_bytes(value: Any) -> bytes:
    """``canonical_json(normalise(value))``, without copying values that need no normalising."""
    if is_plain(value):
        try:
            return _encode_value(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate somewhere
            pass
    return canonical_json(normalise(value))


def content_blob(content: Mapping[str, Any], salt: bytes) -> bytes:
    """The stored blob of scrubbed content: ``salt (16 bytes) || canonical JSON``."""
    if len(salt) != 16:
        raise ValueError("salt must be 16 bytes")
    if type(content) is dict:
        return salt + canonical_bytes(content)
    return salt + canonical_json(normalise(content))


def parse_content_blob(blob: bytes) -> Any:
    return json.loads(blob[16:].decode("utf-8"))


@dataclass(frozen=True)
class EncodedParts:
    """A body split around its ``seq`` value, so the log can assign ``seq`` under its lock cheaply:
    ``body = prefix || decimal(seq) || suffix``."""

    prefix: bytes
    suffix: bytes

    def body(self, seq: int) -> bytes:
        return b"".join((self.prefix, str(seq).encode("ascii"), self.suffix))


def encode_parts(
    record: AuditRecord,
    log_id: str,
    *,
    content_sha256: str | None = None,
    sealed: tuple[str, str] | None = None,
) -> EncodedParts:
    """Encode everything but ``seq``. ``sealed`` is ``(key_id, sha256_hex)`` of the sealed blob."""
    doc = _document(record, log_id, seq=0, content_sha256=content_sha256, sealed=sealed)
    text = canonical_json(doc)
    # "seq" is the only member named so; its value 0 is written as "0" right after the key.
    # Strings before it cannot hold an unescaped quote, and nested attribute objects come earlier,
    # so the last occurrence of the marker is the top-level member.
    marker = b',"seq":0,"service":'
    at = text.rindex(marker)
    prefix = VERSION_BYTE + text[: at + len(b',"seq":')]
    suffix = text[at + len(b',"seq":0') :]
    return EncodedParts(prefix, suffix)


def encode(
    record: AuditRecord,
    log_id: str,
    seq: int,
    *,
    content_sha256: str | None = None,
    sealed: tuple[str, str] | None = None,
) -> bytes:
    """The canonical body of ``record`` at position ``seq`` of log ``log_id``."""
    doc = _document(record, log_id, seq=seq, content_sha256=content_sha256, sealed=sealed)
    return VERSION_BYTE + canonical_json(doc)


# (key id, sealed blob) for a subject's raw content, or None when raw content is not kept.
Sealer = Callable[[str, Mapping[str, Any]], "tuple[str, bytes] | None"]

# What the log stores for one record before its seq is known:
# (body prefix, body suffix, query columns, content blob or None, sealed blob or None).
PreparedRecord = tuple[bytes, bytes, tuple[Any, ...], "bytes | None", "bytes | None"]


class _NotPlain(Exception):
    pass


def prepare(record: AuditRecord, log_id: str, salt: bytes, seal: Sealer | None = None) -> PreparedRecord:
    """Everything the log stores for ``record`` except its seq: ``body = prefix || seq || suffix``.

    Byte for byte what ``encode``/``encode_parts`` of the normalised record give (the unit tests
    compare both on generated records). Records whose fields are already JSON-clean -- the usual
    case -- are encoded without the normalising copy; anything else takes that path."""
    try:
        return _prepare_plain(record, log_id, salt, seal)
    except _NotPlain:
        pass
    record = normalised_record(record)
    blob = digest = None
    if record.content is not None:
        blob = content_blob(record.content, salt)
        digest = hashlib.sha256(blob).hexdigest()
    sealed_blob = None
    sealed: tuple[str, str] | None = None
    if record.raw_content is not None and seal is not None:
        result = seal(record.subject, record.raw_content)
        if result is not None:
            sealed_blob = result[1]
            sealed = (result[0], hashlib.sha256(sealed_blob).hexdigest())
    parts = encode_parts(record, log_id, content_sha256=digest, sealed=sealed)
    return parts.prefix, parts.suffix, query_columns(record), blob, sealed_blob


def _prepare_plain(record: AuditRecord, log_id: str, salt: bytes, seal: Sealer | None) -> PreparedRecord:
    kind, service, trace_id, span_id = record.kind, record.service, record.trace_id, record.span_id
    subject, attrs, content, time_ns = (
        record.subject,
        record.attributes,
        record.content,
        record.time_unix_nano,
    )
    if not (
        type(kind) is str
        and type(service) is str
        and type(trace_id) is str
        and type(span_id) is str
        and type(subject) is str
        and type(log_id) is str
        and type(time_ns) is int
        and type(attrs) is dict
        and is_plain(attrs)
        and (content is None or (type(content) is dict and is_plain(content)))
    ):
        raise _NotPlain
    try:
        if not subject.isascii():
            subject.encode("utf-8")  # a lone surrogate takes the normalising path
        blob = None
        content_member = "null"
        if content is not None:
            blob = salt + _encode_value(content).encode("utf-8")
            content_member = '{"sha256":"' + hashlib.sha256(blob).hexdigest() + '"}'
        head = "".join(
            (
                '{"attributes":',
                _encode_value(attrs),
                ',"content":',
                content_member,
                ',"kind":',
                _encode_str(kind),
                ',"log_id":',
                _encode_str(log_id),
                ',"sealed":',
            )
        ).encode("utf-8")
        suffix = "".join(
            (
                ',"service":',
                _encode_str(service),
                ',"span_id":',
                _encode_str(span_id),
                ',"subject":',
                _encode_str(subject),
                ',"time_unix_nano":',
                str(time_ns),
                ',"trace_id":',
                _encode_str(trace_id),
                "}",
            )
        ).encode("utf-8")
    except UnicodeEncodeError:
        raise _NotPlain from None
    sealed_blob = None
    sealed_member = b"null"
    raw = record.raw_content
    if raw is not None and seal is not None:
        result = seal(subject, raw)
        if result is not None:
            sealed_blob = result[1]
            sealed_member = (
                '{"key_id":'
                + _encode_str(result[0])
                + ',"sha256":"'
                + hashlib.sha256(sealed_blob).hexdigest()
                + '"}'
            ).encode("utf-8")
    prefix = b"".join((VERSION_BYTE, head, sealed_member, b',"seq":'))
    columns = columns_of(attrs, time_ns, kind, service, subject, trace_id, span_id)
    return prefix, suffix, columns, blob, sealed_blob


def coerce_time(value: Any) -> int:
    """``time_unix_nano`` as an int: ints pass, numbers are truncated, anything else is "now"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        if isinstance(value, float) and math.isfinite(value):
            return int(value)
    except (TypeError, ValueError, OverflowError):  # pragma: no cover
        pass
    import time

    return time.time_ns()


def _document(
    record: AuditRecord,
    log_id: str,
    *,
    seq: int,
    content_sha256: str | None,
    sealed: tuple[str, str] | None,
) -> dict[str, Any]:
    return {
        "attributes": normalise(dict(record.attributes)),
        "content": None if content_sha256 is None else {"sha256": content_sha256},
        "kind": _clean_str(str(record.kind)),
        "log_id": _clean_str(log_id),
        "sealed": None if sealed is None else {"key_id": sealed[0], "sha256": sealed[1]},
        "seq": seq,
        "service": _clean_str(str(record.service)),
        "span_id": _clean_str(str(record.span_id)),
        "subject": _clean_str(str(record.subject)),
        "time_unix_nano": coerce_time(record.time_unix_nano),
        "trace_id": _clean_str(str(record.trace_id)),
    }


_MEMBERS: Final = frozenset(
    (
        "attributes",
        "content",
        "kind",
        "log_id",
        "sealed",
        "seq",
        "service",
        "span_id",
        "subject",
        "time_unix_nano",
        "trace_id",
    )
)


class BodyError(ValueError):
    """A body is not a well-formed version-1 canonical encoding."""


def decode(body: bytes, *, strict: bool = True) -> AuditRecord:
    """Parse a body back into a record (content not loaded). Raises :class:`BodyError`.

    ``strict`` also checks that the body is in canonical form (re-encodes it)."""
    if not body or body[0] != FORMAT_VERSION:
        raise BodyError(f"unknown body format version {body[:1].hex() or '(empty)'}")
    try:
        doc = json.loads(body[1:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BodyError(f"body is not UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) != _MEMBERS:
        raise BodyError("body does not have exactly the version-1 members")
    if strict and canonical_json(doc) != body[1:]:
        raise BodyError("body is not in canonical form")
    seq, time_ns = doc["seq"], doc["time_unix_nano"]
    if not isinstance(seq, int) or not isinstance(time_ns, int) or not isinstance(doc["attributes"], dict):
        raise BodyError("body members have the wrong types")
    content, sealed = doc["content"], doc["sealed"]
    return AuditRecord(
        kind=doc["kind"],
        time_unix_nano=time_ns,
        service=doc["service"],
        trace_id=doc["trace_id"],
        span_id=doc["span_id"],
        subject=doc["subject"],
        attributes=doc["attributes"],
        content=None,
        seq=seq,
        log_id=doc["log_id"],
        content_sha256=None if content is None else content["sha256"],
        sealed_sha256=None if sealed is None else sealed["sha256"],
        sealed_key_id=None if sealed is None else sealed["key_id"],
    )


def leaf_hash(body: bytes) -> bytes:
    """RFC 6962 leaf hash of a body: ``SHA-256(0x00 || body)``."""
    return hashlib.sha256(b"\x00" + body).digest()


# --------------------------------------------------------------------------------------------------
# Query columns
# --------------------------------------------------------------------------------------------------
QUERY_COLUMNS: Final = (
    "time_unix_nano",
    "kind",
    "service",
    "model",
    "provider",
    "operation",
    "error_type",
    "risk_level",
    "risk_score",
    "api_key_fp",
    "template_hash",
    "subject",
    "trace_id",
    "span_id",
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        return _column_str(value)
    # str() of the normalised value: a tuple and the list it reads back as give the same text.
    normal = normalise(value)
    return _column_str(normal if isinstance(normal, str) else str(normal))


def _column_str(text: str) -> str:
    """A query column's text. PostgreSQL text cannot hold NUL; the body (bytes) keeps the original, and
    the same replacement on both sides keeps the column check exact."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def query_columns(record: AuditRecord) -> tuple[Any, ...]:
    """The indexed columns of a record, in :data:`QUERY_COLUMNS` order, derived from the body's
    fields (attributes are read after normalisation, so this is the same before and after storage).
    ``subject`` falls back to the ``llm_soc2.end_user.hash`` attribute."""
    return columns_of(
        record.attributes,
        record.time_unix_nano,
        record.kind,
        record.service,
        record.subject,
        record.trace_id,
        record.span_id,
    )


def columns_from_document(doc: Mapping[str, Any]) -> tuple[Any, ...]:
    """:func:`query_columns` straight from a parsed body (the verifier's fast path)."""
    return columns_of(
        doc["attributes"],
        doc["time_unix_nano"],
        doc["kind"],
        doc["service"],
        doc["subject"],
        doc["trace_id"],
        doc["span_id"],
    )


def columns_of(
    attrs: Mapping[str, Any], time_ns: int, kind: str, service: str, subject: str, trace_id: str, span_id: str
) -> tuple[Any, ...]:
    get = attrs.get
    model = get(semconv.GEN_AI_REQUEST_MODEL) or get(semconv.GEN_AI_RESPONSE_MODEL)
    provider = get(semconv.GEN_AI_PROVIDER_NAME) or get(semconv.GEN_AI_SYSTEM)
    return (
        time_ns,
        _column_str(kind),
        _column_str(service),
        _text(model),
        _text(provider),
        _text(get(semconv.GEN_AI_OPERATION_NAME)),
        _text(get(semconv.ERROR_TYPE)),
        _text(get(semconv.RISK_LEVEL)),
        _number(get(semconv.RISK_SCORE)),
        _text(get(semconv.API_KEY_FINGERPRINT)),
        _text(get(semconv.PROMPT_TEMPLATE_HASH)),
        _column_str(subject) or _text(get(semconv.END_USER_HASH)) or "",
        _column_str(trace_id),
        _column_str(span_id),
    )


def normalised_record(record: AuditRecord) -> AuditRecord:
    """``record`` with its attributes and strings as they will read back from the body."""
    return dataclasses.replace(
        record,
        time_unix_nano=coerce_time(record.time_unix_nano),
        kind=_clean_str(str(record.kind)),
        service=_clean_str(str(record.service)),
        trace_id=_clean_str(str(record.trace_id)),
        span_id=_clean_str(str(record.span_id)),
        subject=_clean_str(str(record.subject)),
        attributes=normalise(
            record.attributes if isinstance(record.attributes, Mapping) else {"value": record.attributes}
        ),
        content=None
        if record.content is None
        else normalise(record.content if isinstance(record.content, Mapping) else {"value": record.content}),
    )


def to_json_dict(record: AuditRecord) -> dict[str, Any]:
    """A plain JSON-able view of a stored record (for export)."""
    return {
        "log_id": record.log_id,
        "seq": record.seq,
        "kind": record.kind,
        "time_unix_nano": record.time_unix_nano,
        "service": record.service,
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "subject": record.subject,
        "attributes": normalise(dict(record.attributes)),
        "content": None if record.content is None else normalise(dict(record.content)),
        "content_sha256": record.content_sha256,
        "sealed_sha256": record.sealed_sha256,
        "sealed_key_id": record.sealed_key_id,
    }
