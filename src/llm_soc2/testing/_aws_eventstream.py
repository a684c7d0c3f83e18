"""AWS's binary event stream (``application/vnd.amazon.eventstream``), as Amazon Bedrock streams model
output and botocore's ``EventStreamBuffer`` decodes it.

A message is a prelude (total length, headers length, CRC-32 of those 8 bytes), the headers, the payload
and a CRC-32 of everything before it, all big-endian. Bedrock's ``InvokeModelWithResponseStream`` sends one
``chunk`` event per model event, its JSON base64-encoded in the payload's ``bytes`` field, and an
``exception`` message when the stream fails.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any, Final

CONTENT_TYPE: Final = "application/vnd.amazon.eventstream"
_STRING: Final = 7  # header value type


def message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(
        struct.pack(">B", len(name)) + name + struct.pack(">BH", _STRING, len(value)) + value
        for name, value in ((key.encode(), text.encode()) for key, text in headers.items())
    )
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + encoded + payload
    return body + struct.pack(">I", zlib.crc32(body))


def chunk(event: dict[str, Any]) -> bytes:
    """One model event, as Bedrock wraps it."""
    data = base64.b64encode(json.dumps(event, separators=(",", ":")).encode()).decode()
    return message(
        {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
        json.dumps({"bytes": data}).encode(),
    )


def exception(kind: str, text: str) -> bytes:
    """A stream failure (``kind``: e.g. ``internalServerException``, ``modelStreamErrorException``)."""
    return message(
        {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"},
        json.dumps({"message": text}).encode(),
    )
