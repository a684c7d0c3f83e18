"""From a processed interaction to an audit record: the processor's hand-off to the audit writer.

The record carries exactly what was exported (scrubbed attributes and scrubbed content), plus the
measures drift detection and the report read (duration, prompt/response sizes, status). Content stays
in the JSON strings the span carried; the writer thread does all encoding and hashing, so the app
thread only builds a small dict and appends to the writer's queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.trace import format_span_id, format_trace_id

from llm_soc2 import content as ct
from llm_soc2 import semconv as sc

if TYPE_CHECKING:
    from llm_soc2.audit import AuditRecord, AuditWriter
    from llm_soc2.processor import ProcessedInteraction

INTERACTION_KIND: Final = "interaction"
STATUS_CODE: Final = "otel.status_code"

# Content attribute -> key in the audit record's content.
_CONTENT_KEYS: Final = {
    sc.GEN_AI_INPUT_MESSAGES: "input",
    sc.GEN_AI_OUTPUT_MESSAGES: "output",
    sc.GEN_AI_SYSTEM_INSTRUCTIONS: "system",
    sc.GEN_AI_TOOL_DEFINITIONS: "tools",
}


def split_content(attributes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate content (prompts, responses, tool definitions in any convention) from the rest."""
    plain: dict[str, Any] = {}
    content: dict[str, Any] = {}
    targets = _targets
    for key, value in attributes.items():
        target = targets.get(key)
        if target is None:
            target = _content_target(key)
        if target:
            content[target] = value
        else:
            plain[key] = value
    return plain, content


def _content_target(key: str) -> str:
    """The key under which ``key``'s value goes into the record's content; "" when it is not content."""
    target = _CONTENT_KEYS.get(key) or (key if ct.is_content_only_key(key) else "")
    if len(_targets) < _TARGETS_LIMIT:  # attribute keys recur on every span: decided once per key
        _targets[key] = target
    return target


_TARGETS_LIMIT: Final = 4096
_targets: dict[str, str] = {}


def interaction_record(interaction: ProcessedInteraction, *, with_raw_content: bool = False) -> AuditRecord:
    """The audit record of one GenAI span. ``with_raw_content`` adds the unscrubbed content, which the
    log stores only encrypted under the subject's key (and drops when no content key is configured)."""
    from llm_soc2.audit import AuditRecord

    span = interaction.span
    attributes, content = split_content(interaction.attributes)
    attributes[sc.DURATION] = interaction.duration_s
    attributes[sc.RESPONSE_CHARS] = len(interaction.response_text)
    attributes[sc.PROMPT_CHARS] = interaction.prompt_chars
    attributes[STATUS_CODE] = span.status.status_code.name
    context = span.context
    resource = span.resource.attributes if span.resource is not None else {}
    raw = None
    if with_raw_content:
        _, raw = split_content(span.attributes or {})
    return AuditRecord(
        kind=INTERACTION_KIND,
        time_unix_nano=span.end_time or span.start_time or 0,
        service=str(resource.get(sc.SERVICE_NAME, "")),
        trace_id=format_trace_id(context.trace_id) if context is not None else "",
        span_id=format_span_id(context.span_id) if context is not None else "",
        subject=str(attributes.get(sc.END_USER_HASH, "")),
        attributes=attributes,
        content=content or None,
        raw_content=raw or None,
    )


class AuditSink:
    """Hands every processed interaction to an :class:`~llm_soc2.audit.AuditWriter` (a bounded queue
    append on the app thread; encoding, hashing and I/O happen on the writer's thread)."""

    def __init__(self, writer: AuditWriter, *, with_raw_content: bool = False) -> None:
        self._writer = writer
        self._with_raw_content = with_raw_content

    def __call__(self, interaction: ProcessedInteraction) -> None:
        self._writer.submit(interaction_record(interaction, with_raw_content=self._with_raw_content))

    def __repr__(self) -> str:
        return "AuditSink()"
