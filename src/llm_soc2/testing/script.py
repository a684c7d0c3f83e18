"""What the fake provider answers: scripted replies, tool calls, usage, latencies and failures."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes. ``arguments`` is sent as JSON text."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, separators=(",", ":"))


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    Content: ``text`` (split into ``chunk_size``-character deltas when streamed), ``tool_calls``,
    ``reasoning`` (Anthropic thinking block). Usage: ``input_tokens``/``output_tokens`` default to an
    estimate from the request and the reply (about 4 characters a token); ``cached_tokens`` and
    ``reasoning_tokens`` are reported as given. ``finish_reason`` defaults to the provider's
    "stop"/"tool calls" value.

    Timing: ``latency`` seconds before the response headers, ``chunk_delay`` seconds before each
    streamed event.

    Failures: ``status`` >= 400 sends the provider's error envelope (``error_type``, ``message``,
    ``retry_after`` header); ``hang`` sends nothing until the client gives up (or ``hang_seconds``);
    ``malformed`` sends a truncated JSON body with status 200; ``drop_after`` closes the connection
    after that many streamed events; ``stream_error`` sends an error event in the stream after
    ``drop_after`` events (or at once).
    """

    text: str = "Hello from the fake provider."
    tool_calls: Sequence[ToolCall] = ()
    reasoning: str | None = None
    finish_reason: str | None = None
    model: str | None = None
    id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    latency: float = 0.0
    chunk_delay: float = 0.0
    chunk_size: int = 8
    status: int = 200
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    hang: bool = False
    hang_seconds: float = 30.0
    malformed: bool = False
    drop_after: int | None = None
    stream_error: bool = False
    embedding_dimensions: int = 8


Responder = Reply | Callable[["RecordedRequest"], Reply]


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake provider received. Header names are lower case."""

    provider: str
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    raw: bytes

    @property
    def json(self) -> Any:
        return self.body

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: about four characters a token, at least one."""
    return max(1, (len(text) + 3) // 4)


def split_text(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
