"""What every wrapped call shares: tracer, instruments, settings, and the per-call ``Invocation``.

An ``Invocation`` is one LLM call from the application's point of view (retries included): it owns
the span, ends it exactly once, and records the metrics and (in EVENT_* content modes) the
``gen_ai.client.inference.operation.details`` event. Nothing here raises into the application: a
failure of our own code is counted in ``llm_soc2.instrumentation.errors`` and logged once per kind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import LoggerProvider
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram, MeterProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from llm_soc2 import __version__, semconv
from llm_soc2.config import Settings
from llm_soc2.fingerprint import KNOWN_SECRETS, fingerprint, template_hash
from llm_soc2.handoff import Handoff
from llm_soc2.instrumentation import coexistence
from llm_soc2.instrumentation.context import current_retrieval_context
from llm_soc2.instrumentation.messages import encode_bounded

_log = logging.getLogger("llm_soc2.instrumentation")

# llm_soc2.error.kind values of llm_soc2.instrumentation.errors
ERROR_REQUEST: Final = "request"  # reading the request
ERROR_RESPONSE: Final = "response"  # reading the response or a streamed item
ERROR_FINISH: Final = "finish"  # recording the outcome, ending the span
ERROR_EVENT: Final = "event"  # emitting the content event
ERROR_KEY: Final = "deployment_key"  # the deployment key could not be loaded: no fingerprints

_CACHE_LIMIT: Final = 1024
_CLOSE_TIMEOUT_S: Final = 5.0


@dataclass(slots=True)
class Request:
    """What a wrapper read from the call's arguments."""

    operation: str
    model: str | None
    attributes: dict[str, AttributeValue]
    stream: bool = False
    input_messages: list[Any] | None = None
    system_instructions: list[Any] | None = None
    tool_definitions: list[Any] | None = None


@dataclass(slots=True)
class ResponseData:
    """What the call returned, as far as it got."""

    id: str | None = None
    model: str | None = None
    finish_reasons: list[str] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    output_messages: list[Any] | None = None
    time_to_first_chunk: float | None = None
    stream_outcome: str | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class name (``RateLimitError``, ``APITimeoutError`` ...)."""
    name = getattr(type(error), "__qualname__", None)
    return name if isinstance(name, str) and name else semconv.ERROR_TYPE_OTHER


Measurement = tuple[Histogram, float, Mapping[str, AttributeValue]]
Measurements = tuple[list[Measurement], Context]


def _record_measurements(item: Measurements) -> None:
    measurements, context = item
    for histogram, value, attributes in measurements:
        histogram.record(value, attributes, context)


class Telemetry:
    """Per-instrumentor state: built once in ``_instrument``, read on every call without locks."""

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.active = True
        self.tracer = trace.get_tracer(
            semconv.INSTRUMENTATION_SCOPE, __version__, tracer_provider, schema_url=semconv.GENAI_SCHEMA_URL
        )
        meter = metrics.get_meter(
            semconv.INSTRUMENTATION_SCOPE, __version__, meter_provider, schema_url=semconv.GENAI_SCHEMA_URL
        )
        self.duration = meter.create_histogram(
            semconv.METRIC_OPERATION_DURATION,
            unit="s",
            description="Duration of GenAI client operations.",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            semconv.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=semconv.TOKEN_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            semconv.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=semconv.DURATION_BUCKETS,
        )
        # Recording a histogram costs the SDK ~10 µs (attribute set, lock, bucket search): done on a
        # background thread unless background processing is switched off.
        self._metrics: Handoff[Measurements] | None = (
            Handoff(
                _record_measurements,
                capacity=self.settings.processor_queue_size,
                name="llm-soc2-client-metrics",
            )
            if self.settings.processor_background
            else None
        )
        self.errors = meter.create_counter(
            semconv.METRIC_INSTRUMENTATION_ERRORS,
            unit="{error}",
            description="Failures inside llm-soc2's instrumentation (the application's calls are unaffected).",
        )
        capture = self.settings.content_capture
        self.capture_on_span = capture.on_span
        self.capture_on_event = capture.on_event
        self.capture = self.capture_on_span or self.capture_on_event
        self.max_content_bytes = self.settings.max_content_bytes
        self.event_logger = (
            _logs.get_logger(
                semconv.INSTRUMENTATION_SCOPE,
                __version__,
                logger_provider,
                schema_url=semconv.GENAI_SCHEMA_URL,
            )
            if self.capture_on_event
            else None
        )
        self._reported: set[str] = set()
        self._report_lock = threading.Lock()
        self._key: bytes | None = None
        try:
            self._key = self.settings.deployment_key()
        except Exception as exc:
            self.report(ERROR_KEY, exc)
        self._fingerprints: dict[tuple[str, str], str] = {}
        self._template_hashes: dict[str, str] = {}

    def close(self) -> None:
        """Uninstrumented: wrappers still bound (``with_raw_response``) pass calls through, and the
        histograms' thread finishes its queue and exits (calls still in flight record inline)."""
        self.active = False
        if self._metrics is not None:
            self._metrics.close(timeout=_CLOSE_TIMEOUT_S)

    def record(self, measurements: list[Measurement], span: Span) -> None:
        """Record a finished call's histograms, in the background when possible. The span's context
        goes along, so exemplars still point at the call's trace."""
        item = (measurements, trace.set_span_in_context(span))
        if self._metrics is None or not self._metrics.submit(item):
            _record_measurements(item)

    # ------------------------------------------------------------------------------------------
    # Our own failures
    # ------------------------------------------------------------------------------------------
    def report(self, kind: str, error: BaseException) -> None:
        """Count a failure of our code; log it the first time this kind occurs. Never raises."""
        try:
            self.errors.add(1, {semconv.ATTR_ERROR_KIND: kind})
            if kind in self._reported:
                return
            with self._report_lock:
                if kind in self._reported:
                    return
                self._reported.add(kind)
            _log.warning(
                "llm-soc2 instrumentation failed (%s): %s: %s; the call itself is unaffected, further "
                "failures of this kind are only counted in %s",
                kind,
                type(error).__name__,
                error,
                semconv.METRIC_INSTRUMENTATION_ERRORS,
            )
        except Exception:  # noqa: S110 - the last line of defence must not raise either
            pass

    # ------------------------------------------------------------------------------------------
    # SOC 2 context helpers (cached: the same key, user and template recur on every call)
    # ------------------------------------------------------------------------------------------
    def fingerprint(self, value: str, purpose: str) -> str | None:
        if self._key is None:
            return None
        cache_key = (purpose, value)
        cached = self._fingerprints.get(cache_key)
        if cached is None:
            if len(self._fingerprints) >= _CACHE_LIMIT:
                self._fingerprints.clear()
            cached = self._fingerprints[cache_key] = fingerprint(value, self._key, purpose=purpose)
        return cached

    def api_key_attributes(self, api_key: object, attributes: dict[str, AttributeValue]) -> None:
        """Register the key with the scrubber and record its keyed fingerprint (never the key)."""
        if not isinstance(api_key, str) or not api_key:
            return
        KNOWN_SECRETS.add(api_key)
        value = self.fingerprint(api_key, "api_key")
        if value is not None:
            attributes[semconv.API_KEY_FINGERPRINT] = value

    def end_user_attributes(self, user_id: object, attributes: dict[str, AttributeValue]) -> None:
        if isinstance(user_id, str) and user_id:
            value = self.fingerprint(user_id, "end_user")
            if value is not None:
                attributes[semconv.END_USER_HASH] = value

    def template_hash(self, text: str) -> str:
        cached = self._template_hashes.get(text)
        if cached is None:
            if len(self._template_hashes) >= _CACHE_LIMIT:
                self._template_hashes.clear()
            cached = self._template_hashes[text] = template_hash(text)
        return cached

    # ------------------------------------------------------------------------------------------
    # Calls
    # ------------------------------------------------------------------------------------------
    def start(self, request: Request) -> Invocation:
        """Start the span of one call (the caller makes it current around the wrapped call)."""
        attributes = request.attributes
        truncated = False
        inputs = request.input_messages
        system = request.system_instructions
        tools = request.tool_definitions
        if self.capture:
            # Bounded for the span attributes and the event alike.
            limit = self.max_content_bytes
            on_span = self.capture_on_span
            if inputs is not None:
                inputs, text, cut = encode_bounded(inputs, limit)
                if on_span:
                    attributes[semconv.GEN_AI_INPUT_MESSAGES] = text
                truncated |= cut
            if system:
                system, text, cut = encode_bounded(system, limit)
                if on_span:
                    attributes[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = text
                truncated |= cut
            if tools:
                tools, text, cut = encode_bounded(tools, limit)
                if on_span:
                    attributes[semconv.GEN_AI_TOOL_DEFINITIONS] = text
                truncated |= cut
            if on_span:
                documents = current_retrieval_context()
                if documents:
                    bounded, _, cut = encode_bounded(list(documents), limit)
                    attributes[semconv.RETRIEVAL_CONTEXT] = bounded
                    truncated |= cut
            if truncated:
                attributes[semconv.CONTENT_TRUNCATED] = True
        name = f"{request.operation} {request.model}" if request.model else request.operation
        parent = trace.get_current_span()
        span = self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        coexistence.register(span, parent)
        metric_attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: request.operation,
            semconv.GEN_AI_PROVIDER_NAME: attributes.get(semconv.GEN_AI_PROVIDER_NAME, ""),
        }
        for key in (semconv.GEN_AI_REQUEST_MODEL, semconv.SERVER_ADDRESS, semconv.SERVER_PORT):
            value = attributes.get(key)
            if value is not None:
                metric_attributes[key] = value
        events = (inputs, system, tools) if self.capture_on_event else None
        return Invocation(self, span, request.stream, metric_attributes, events, truncated)


class Invocation:
    """One call in flight. ``finish`` ends it exactly once, from whichever thread gets there first."""

    __slots__ = ("_once", "content", "metric_attributes", "span", "start", "stream", "telemetry", "truncated")

    def __init__(
        self,
        telemetry: Telemetry,
        span: trace.Span,
        stream: bool,
        metric_attributes: dict[str, AttributeValue],
        content: tuple[Any, Any, Any] | None,
        truncated: bool,
    ) -> None:
        self.telemetry = telemetry
        self.span = span
        self.stream = stream
        self.metric_attributes = metric_attributes
        self.content = content
        self.truncated = truncated
        self.start = time.perf_counter()
        self._once = [True]  # list.pop() is atomic: the first caller of finish() wins

    @property
    def ended(self) -> bool:
        return not self._once

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def finish(self, data: ResponseData | None, error: BaseException | None = None) -> None:
        """Record the outcome and end the span. Never raises."""
        try:
            self._once.pop()
        except IndexError:
            return
        telemetry = self.telemetry
        span = self.span
        try:
            duration = time.perf_counter() - self.start
            attributes: dict[str, AttributeValue] = {}
            metric_attributes = self.metric_attributes
            outputs = None
            if data is not None:
                outputs = self._response_attributes(data, attributes)
                if data.model:
                    metric_attributes = {**metric_attributes, semconv.GEN_AI_RESPONSE_MODEL: data.model}
            if error is not None:
                kind = error_type(error)
                attributes[semconv.ERROR_TYPE] = kind
                status = getattr(error, "status_code", None)
                if isinstance(status, int) and status >= 400:
                    attributes[semconv.HTTP_RESPONSE_STATUS_CODE] = status
                span.set_status(Status(StatusCode.ERROR, kind))
                duration_attributes = {**metric_attributes, semconv.ERROR_TYPE: kind}
            else:
                duration_attributes = metric_attributes
            if attributes:
                span.set_attributes(attributes)
            measurements: list[Measurement] = [(telemetry.duration, duration, duration_attributes)]
            if data is not None:
                self._token_measurements(data, metric_attributes, measurements)
                if data.time_to_first_chunk is not None:
                    measurements.append(
                        (telemetry.time_to_first_chunk, data.time_to_first_chunk, metric_attributes)
                    )
            telemetry.record(measurements, span)
            if self.content is not None:
                self._emit_event(attributes, outputs)
        except Exception as exc:
            telemetry.report(ERROR_FINISH, exc)
        try:
            span.end()
        except Exception as exc:
            telemetry.report(ERROR_FINISH, exc)

    def _response_attributes(self, data: ResponseData, attributes: dict[str, AttributeValue]) -> Any:
        if data.id:
            attributes[semconv.GEN_AI_RESPONSE_ID] = data.id
        if data.model:
            attributes[semconv.GEN_AI_RESPONSE_MODEL] = data.model
        if data.finish_reasons:
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = data.finish_reasons
        for key, value in (
            (semconv.GEN_AI_USAGE_INPUT_TOKENS, data.input_tokens),
            (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, data.output_tokens),
            (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, data.cache_read_tokens),
            (semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, data.cache_creation_tokens),
            (semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, data.reasoning_tokens),
        ):
            if value is not None:
                attributes[key] = value
        if data.time_to_first_chunk is not None:
            attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = data.time_to_first_chunk
        if data.stream_outcome is not None:
            attributes[semconv.STREAM_OUTCOME] = data.stream_outcome
        if data.attributes:
            attributes.update(data.attributes)
        outputs = data.output_messages
        telemetry = self.telemetry
        if outputs is not None and telemetry.capture:
            outputs, text, cut = encode_bounded(outputs, telemetry.max_content_bytes)
            if telemetry.capture_on_span:
                attributes[semconv.GEN_AI_OUTPUT_MESSAGES] = text
            if cut and not self.truncated:
                attributes[semconv.CONTENT_TRUNCATED] = True
        return outputs

    def _token_measurements(
        self,
        data: ResponseData,
        metric_attributes: Mapping[str, AttributeValue],
        measurements: list[Measurement],
    ) -> None:
        histogram = self.telemetry.token_usage
        if data.input_tokens is not None:
            measurements.append(
                (
                    histogram,
                    data.input_tokens,
                    {**metric_attributes, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_INPUT},
                )
            )
        if data.output_tokens is not None:
            measurements.append(
                (
                    histogram,
                    data.output_tokens,
                    {**metric_attributes, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_OUTPUT},
                )
            )

    def _emit_event(self, attributes: Mapping[str, AttributeValue], outputs: Any) -> None:
        """The ``gen_ai.client.inference.operation.details`` event, content as structured values."""
        logger = self.telemetry.event_logger
        if logger is None or self.content is None:
            return
        try:
            inputs, system, tools = self.content
            span_attributes = getattr(self.span, "attributes", None) or {}
            event: dict[str, Any] = {
                key: value
                for key, value in span_attributes.items()
                if key.startswith(("gen_ai.", "server.", "error.", "llm_soc2."))
                and key
                not in (
                    semconv.GEN_AI_INPUT_MESSAGES,
                    semconv.GEN_AI_OUTPUT_MESSAGES,
                    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
                    semconv.GEN_AI_TOOL_DEFINITIONS,
                )
            }
            event.update(
                (key, value) for key, value in attributes.items() if key != semconv.GEN_AI_OUTPUT_MESSAGES
            )
            if inputs is not None:
                event[semconv.GEN_AI_INPUT_MESSAGES] = inputs
            if system:
                event[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = system
            if tools:
                event[semconv.GEN_AI_TOOL_DEFINITIONS] = tools
            if outputs is not None:
                event[semconv.GEN_AI_OUTPUT_MESSAGES] = outputs
            logger.emit(
                event_name=semconv.GEN_AI_INFERENCE_DETAILS_EVENT,
                attributes=event,
                context=trace.set_span_in_context(self.span),
            )
        except Exception as exc:
            self.telemetry.report(ERROR_EVENT, exc)
