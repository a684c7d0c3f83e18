"""``llm_soc2.configure()``: the OpenTelemetry pipeline with llm-soc2's processors in it.

::

    import llm_soc2
    pipeline = llm_soc2.configure()   # once, at start-up; OTEL_* variables pick the exporters
    ...
    llm_soc2.shutdown()               # also registered with atexit

It builds (or attaches to the given or global SDK) TracerProvider, MeterProvider and LoggerProvider;
resolves exporters from ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` / ``OTEL_LOGS_EXPORTER``
(``otlp`` by default, over ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf`` by default, or ``grpc``;
``console``; ``prometheus`` for metrics; ``none``); puts every export processor behind ONE
``LLMSpanProcessor`` (and ONE ``LLMLogRecordProcessor``), so each exporter only sees scrubbed copies;
and instruments ``openai`` and ``anthropic``. Span processors already registered on a provider it
attaches to are moved behind the LLM processor too. Bad configuration is logged and skipped, never
raised; ``OTEL_SDK_DISABLED=true`` turns it all off.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Final, Protocol

from opentelemetry import _logs, metrics, trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from llm_soc2 import handoff, semconv
from llm_soc2.config import Settings
from llm_soc2.instrumentation.coexistence import is_duplicate_genai_span
from llm_soc2.processor import LLMLogRecordProcessor, LLMSpanProcessor
from llm_soc2.recording import AuditSink

if TYPE_CHECKING:
    from llm_soc2.audit import AuditWriter

_log = logging.getLogger(__name__)

_EXPORTER_GROUPS: Final = {
    "traces": "opentelemetry_traces_exporter",
    "metrics": "opentelemetry_metrics_exporter",
    "logs": "opentelemetry_logs_exporter",
}
_EXPORTER_VARIABLES: Final = {
    "traces": "OTEL_TRACES_EXPORTER",
    "metrics": "OTEL_METRICS_EXPORTER",
    "logs": "OTEL_LOGS_EXPORTER",
}
_PROTOCOL_VARIABLES: Final = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
}
_OTLP_BY_PROTOCOL: Final = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}
_DEFAULT_EXPORTER: Final = "otlp"
_DEFAULT_PROTOCOL: Final = "http/protobuf"

# (client library, instrumentor module, class)
_INSTRUMENTORS: Final = (
    ("openai", "llm_soc2.instrumentation.openai", "OpenAIInstrumentor"),
    ("anthropic", "llm_soc2.instrumentation.anthropic", "AnthropicInstrumentor"),
)


_SERVICE_SHUTDOWN_TIMEOUT_S: Final = 10.0


class Service(Protocol):
    """A background worker the pipeline owns: bounded shutdown, never raising (``flush(timeout)`` too,
    when it buffers anything)."""

    def shutdown(self, timeout: float = ...) -> object: ...


@dataclass
class Pipeline:
    """The providers and processors ``configure()`` set up. ``disabled`` when OTEL_SDK_DISABLED is set."""

    settings: Settings
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    logger_provider: LoggerProvider | None = None
    span_processor: LLMSpanProcessor | None = None
    log_processor: LLMLogRecordProcessor | None = None
    instrumentors: list[BaseInstrumentor] = field(default_factory=list)
    # Background services fed by the processor (audit writer, drift monitor, ...): flushed after the
    # span processor and shut down before the providers they report through.
    services: list[Service] = field(default_factory=list)
    audit_writer: AuditWriter | None = None
    disabled: bool = False
    _owned: list[Any] = field(default_factory=list, repr=False)  # providers we created
    _closed: bool = field(default=False, repr=False)

    def instrument_kwargs(self) -> dict[str, Any]:
        """What our instrumentors are given: this pipeline's providers and settings."""
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
            "settings": self.settings,
        }

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything recorded so far. Never raises; False if something did not flush in time."""
        ok = _flush(self.span_processor, timeout_millis)
        for service in self.services:
            flush = getattr(service, "flush", None)
            if flush is None:
                continue
            try:
                ok = bool(flush(timeout_millis / 1000)) and ok
            except Exception:
                _log.exception("llm-soc2: flushing %s failed", type(service).__name__)
                ok = False
        ok = handoff.flush_all(timeout_millis / 1000) and ok  # histograms recorded in the background
        for target in (self.log_processor, self.meter_provider):
            ok = _flush(target, timeout_millis) and ok
        return ok

    def shutdown(self) -> None:
        """Uninstrument, flush and shut down what this pipeline created. Idempotent; never raises."""
        global _current
        with _lock:
            if self._closed:
                return
            self._closed = True
            if _current is self:
                _current = None
        for instrumentor in self.instrumentors:
            with contextlib.suppress(Exception):
                instrumentor.uninstrument()
        self.instrumentors.clear()
        # Spans first (their last interactions reach the services), then the services (the audit writer
        # signs its final checkpoint and hands it to the OTLP log witness), then logs and metrics.
        tracing = self.tracer_provider if self.tracer_provider in self._owned else self.span_processor
        logging_ = self.logger_provider if self.logger_provider in self._owned else self.log_processor
        metering = self.meter_provider if self.meter_provider in self._owned else None
        _shutdown(tracing)
        for service in self.services:
            try:
                service.shutdown(_SERVICE_SHUTDOWN_TIMEOUT_S)
            except Exception:
                _log.exception("llm-soc2: shutting down %s failed", type(service).__name__)
        handoff.flush_all(_SERVICE_SHUTDOWN_TIMEOUT_S)
        for target in (logging_, metering):
            _shutdown(target)


def _flush(target: Any, timeout_millis: int) -> bool:
    if target is None:
        return True
    try:
        return bool(target.force_flush(timeout_millis))
    except Exception:
        _log.exception("llm-soc2: flushing %s failed", type(target).__name__)
        return False


def _shutdown(target: Any) -> None:
    if target is None:
        return
    try:
        target.shutdown()
    except Exception:
        _log.exception("llm-soc2: shutting down %s failed", type(target).__name__)


_lock = threading.RLock()
_current: Pipeline | None = None
_atexit_registered = False


def current() -> Pipeline | None:
    """The pipeline ``configure()`` built, if it is still running."""
    return _current


def configure(
    settings: Settings | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
    span_exporters: Sequence[SpanExporter] | None = None,
    metric_readers: Sequence[MetricReader] | None = None,
    log_exporters: Sequence[LogRecordExporter] | None = None,
    instrument: bool = True,
) -> Pipeline:
    """Set up llm-soc2 once per process and return the pipeline (the same one on later calls).

    Exporters given here replace the ``OTEL_*_EXPORTER`` choice for their signal (an empty list means
    none); signals left ``None`` follow the environment. Providers given here are used as they are.
    """
    global _current, _atexit_registered
    with _lock:
        if _current is not None:
            _log.warning("llm_soc2.configure() was already called; returning the existing pipeline")
            return _current
        try:
            settings = settings or Settings.from_env()
        except Exception:
            _log.exception("llm-soc2: could not read the settings; using the defaults")
            settings = Settings()
        if settings.sdk_disabled:
            _log.info("llm-soc2: OTEL_SDK_DISABLED is set; nothing is instrumented or exported")
            _current = Pipeline(settings, disabled=True)
            return _current
        pipeline = Pipeline(settings)
        resource = _resource(settings)
        _set_up_metrics(pipeline, resource, meter_provider, metric_readers)
        _set_up_tracing(pipeline, resource, tracer_provider, span_exporters)
        _set_up_logs(pipeline, resource, logger_provider, log_exporters)
        _set_up_audit(pipeline)
        _set_up_governance(pipeline)
        _set_up_drift(pipeline)
        if instrument:
            _instrument(pipeline)
        _current = pipeline
        if not _atexit_registered:
            atexit.register(_shutdown_at_exit)
            _atexit_registered = True
        return pipeline


def shutdown() -> None:
    """Shut down the pipeline ``configure()`` built (flushes everything first)."""
    pipeline = _current
    if pipeline is not None:
        pipeline.shutdown()


def _shutdown_at_exit() -> None:
    with contextlib.suppress(Exception):
        shutdown()


# --------------------------------------------------------------------------------------------------
# The LLM processors: one place to compose them
# --------------------------------------------------------------------------------------------------
def build_span_processor(
    settings: Settings, exporting: Sequence[SpanProcessor], meter_provider: MeterProvider | None
) -> LLMSpanProcessor:
    """The one span processor on the provider, owning every export processor."""
    return LLMSpanProcessor(
        *exporting, settings=settings, meter_provider=meter_provider, drop_span=is_duplicate_genai_span
    )


def build_log_processor(settings: Settings, exporting: Sequence[LogRecordProcessor]) -> LLMLogRecordProcessor:
    return LLMLogRecordProcessor(*exporting, settings=settings)


def _set_up_audit(pipeline: Pipeline) -> None:
    """Open the audit log and start its writer; the processor hands it one record per interaction."""
    settings = pipeline.settings
    if not settings.audit_enabled or pipeline.span_processor is None:
        return
    try:
        from llm_soc2.audit import AuditLog, AuditWriter

        log = AuditLog.open(log_id=settings.resolved_audit_log_id, settings=settings)
        writer = AuditWriter(
            log, settings, meter_provider=pipeline.meter_provider, logger_provider=pipeline.logger_provider
        )
    except Exception:
        _log.exception(
            "llm-soc2: the audit log at %s cannot be opened; interactions are NOT being audited",
            _redacted_url(settings.resolved_audit_url),
        )
        return
    pipeline.audit_writer = writer
    pipeline.services.append(writer)
    pipeline.span_processor.add_sink(AuditSink(writer, with_raw_content=bool(settings.content_key_hex)))


def _set_up_governance(pipeline: Pipeline) -> None:
    """Change management and access-control enrichers (they add attributes before export and write
    change/key records through the audit writer)."""
    if pipeline.span_processor is None:
        return
    try:
        from llm_soc2.governance import Governance

        writer = pipeline.audit_writer
        governance = Governance(
            pipeline.settings,
            submit=writer.submit if writer is not None else None,
            meter_provider=pipeline.meter_provider,
        )
    except Exception:
        _log.exception("llm-soc2: change and key tracking could not start; spans are exported without it")
        return
    for enricher in governance.enrichers:
        pipeline.span_processor.add_enricher(enricher)
    # Before the writer in shutdown order: its last records must reach the writer.
    pipeline.services.insert(0, governance)


def _set_up_drift(pipeline: Pipeline) -> None:
    """The online drift monitor: fed one feature record per interaction, tested on its own thread."""
    settings = pipeline.settings
    if not settings.drift_enabled or pipeline.span_processor is None:
        return
    try:
        from llm_soc2.drift import DriftMonitor

        writer = pipeline.audit_writer
        monitor = DriftMonitor(
            settings,
            meter_provider=pipeline.meter_provider,
            logger_provider=pipeline.logger_provider,
            record_sink=writer.submit if writer is not None else None,
        ).start()
    except Exception:
        _log.exception("llm-soc2: the drift monitor could not start; spans are exported without it")
        return
    pipeline.span_processor.add_sink(monitor.observe_interaction)
    # Before the writer in shutdown order: its last drift events must reach the writer.
    pipeline.services.insert(0, monitor)


def _redacted_url(url: str) -> str:
    """A store URL fit for a log line: no password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


# --------------------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------------------
def _resource(settings: Settings) -> Resource:
    attributes: dict[str, str] = {semconv.SERVICE_NAME: settings.service_name}
    if settings.environment:
        attributes[semconv.DEPLOYMENT_ENVIRONMENT] = settings.environment
    try:
        return Resource.create(attributes)
    except Exception:
        _log.exception("llm-soc2: could not build the resource from OTEL_RESOURCE_ATTRIBUTES")
        return Resource(attributes)


def _set_up_tracing(
    pipeline: Pipeline,
    resource: Resource,
    provider: TracerProvider | None,
    exporters: Sequence[SpanExporter] | None,
) -> None:
    if provider is None:
        global_provider = trace.get_tracer_provider()
        if isinstance(global_provider, TracerProvider):
            provider = global_provider
        else:
            provider = TracerProvider(resource=resource)
            trace.set_tracer_provider(provider)
            pipeline._owned.append(provider)
    pipeline.tracer_provider = provider
    existing = _take_span_processors(provider)
    llm = next((p for p in existing if isinstance(p, LLMSpanProcessor)), None)
    if llm is not None:  # already wired by hand: keep it, do not scrub twice
        _restore_span_processors(provider, existing)
        pipeline.span_processor = llm
        return
    chosen = list(exporters) if exporters is not None else _load_exporters("traces")
    exporting = [*existing, *(BatchSpanProcessor(exporter) for exporter in chosen)]
    pipeline.span_processor = build_span_processor(pipeline.settings, exporting, pipeline.meter_provider)
    provider.add_span_processor(pipeline.span_processor)


def _take_span_processors(provider: TracerProvider) -> list[SpanProcessor]:
    """Remove and return the span processors already on ``provider``, to put them behind ours."""
    multi = getattr(provider, "_active_span_processor", None)
    processors = getattr(multi, "_span_processors", None)
    if not isinstance(processors, tuple):
        _log.warning(
            "llm-soc2: cannot see the span processors already on %s; any exporter registered there "
            "receives unscrubbed spans",
            type(provider).__name__,
        )
        return []
    if processors:
        with getattr(multi, "_lock", contextlib.nullcontext()):
            multi._span_processors = ()  # type: ignore[union-attr]
        _log.info("llm-soc2: %d existing span processor(s) now receive scrubbed spans", len(processors))
    return list(processors)


def _restore_span_processors(provider: TracerProvider, processors: Iterable[SpanProcessor]) -> None:
    for processor in processors:
        provider.add_span_processor(processor)


def _set_up_metrics(
    pipeline: Pipeline,
    resource: Resource,
    provider: MeterProvider | None,
    readers: Sequence[MetricReader] | None,
) -> None:
    if provider is None:
        global_provider = metrics.get_meter_provider()
        if isinstance(global_provider, MeterProvider):
            provider = global_provider
            if readers:
                _log.warning(
                    "llm-soc2: a MeterProvider is already set; the metric readers given are not added"
                )
        else:
            chosen = list(readers) if readers is not None else _load_metric_readers()
            provider = MeterProvider(resource=resource, metric_readers=chosen)
            metrics.set_meter_provider(provider)
            pipeline._owned.append(provider)
    elif readers:
        _log.warning("llm-soc2: metric readers cannot be added to the MeterProvider given; they are ignored")
    pipeline.meter_provider = provider


def _set_up_logs(
    pipeline: Pipeline,
    resource: Resource,
    provider: LoggerProvider | None,
    exporters: Sequence[LogRecordExporter] | None,
) -> None:
    if provider is None:
        global_provider = _logs.get_logger_provider()
        if isinstance(global_provider, LoggerProvider):
            provider = global_provider
        else:
            provider = LoggerProvider(resource=resource)
            _logs.set_logger_provider(provider)
            pipeline._owned.append(provider)
    pipeline.logger_provider = provider
    existing: list[LogRecordProcessor] = []
    multi = getattr(provider, "_multi_log_record_processor", None)
    processors = getattr(multi, "_log_record_processors", None)
    if isinstance(processors, tuple) and processors:
        if any(isinstance(p, LLMLogRecordProcessor) for p in processors):
            pipeline.log_processor = next(p for p in processors if isinstance(p, LLMLogRecordProcessor))
            return
        with getattr(multi, "_lock", contextlib.nullcontext()):
            multi._log_record_processors = ()  # type: ignore[union-attr]
        existing = list(processors)
    chosen = list(exporters) if exporters is not None else _load_exporters("logs")
    exporting = [*existing, *(BatchLogRecordProcessor(exporter) for exporter in chosen)]
    pipeline.log_processor = build_log_processor(pipeline.settings, exporting)
    provider.add_log_record_processor(pipeline.log_processor)


# --------------------------------------------------------------------------------------------------
# Exporters from the OTEL_* variables
# --------------------------------------------------------------------------------------------------
def exporter_names(signal: str, environ: dict[str, str] | None = None) -> list[str]:
    """The exporter entry-point names ``OTEL_<SIGNAL>_EXPORTER`` selects (``otlp`` by protocol)."""
    env = os.environ if environ is None else environ
    raw = env.get(_EXPORTER_VARIABLES[signal], "").strip() or _DEFAULT_EXPORTER
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if "none" in names:
        return []
    protocol = (
        (env.get(_PROTOCOL_VARIABLES[signal]) or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "").strip().lower()
    )
    protocol = protocol or _DEFAULT_PROTOCOL
    resolved = []
    for name in names:
        if name == "otlp":
            if protocol not in _OTLP_BY_PROTOCOL:
                _log.warning(
                    "llm-soc2: OTLP protocol %r is not supported; using %s", protocol, _DEFAULT_PROTOCOL
                )
            name = _OTLP_BY_PROTOCOL.get(protocol, _OTLP_BY_PROTOCOL[_DEFAULT_PROTOCOL])
        resolved.append(name)
    return resolved


def _load_exporter_class(signal: str, name: str) -> Any:
    found = entry_points(group=_EXPORTER_GROUPS[signal], name=name)
    entry_point = next(iter(found), None)
    if entry_point is None:
        _log.warning("llm-soc2: no %s exporter named %r is installed; skipping it", signal, name)
        return None
    return entry_point.load()


def _load_exporters(signal: str) -> list[Any]:
    exporters = []
    for name in exporter_names(signal):
        try:
            cls = _load_exporter_class(signal, name)
            if cls is not None:
                exporters.append(cls())
        except Exception:
            _log.exception("llm-soc2: could not create the %s exporter %r; skipping it", signal, name)
    return exporters


def _load_metric_readers() -> list[MetricReader]:
    readers: list[MetricReader] = []
    for name in exporter_names("metrics"):
        try:
            cls = _load_exporter_class("metrics", name)
            if cls is None:
                continue
            if isinstance(cls, type) and issubclass(cls, MetricReader):
                readers.append(cls())  # pull exporters (prometheus) are readers themselves
            else:
                readers.append(PeriodicExportingMetricReader(cls()))
        except Exception:
            _log.exception("llm-soc2: could not create the metrics exporter %r; skipping it", name)
    return readers


# --------------------------------------------------------------------------------------------------
# Instrumentation
# --------------------------------------------------------------------------------------------------
def _instrument(pipeline: Pipeline) -> None:
    for library, module, name in _INSTRUMENTORS:
        try:
            if importlib.util.find_spec(library) is None:
                continue
            instrumentor = getattr(importlib.import_module(module), name)()
            if instrumentor.is_instrumented_by_opentelemetry:
                continue  # auto-instrumentation got there first
            instrumentor.instrument(**pipeline.instrument_kwargs())
            if instrumentor.is_instrumented_by_opentelemetry:
                pipeline.instrumentors.append(instrumentor)
        except Exception:
            _log.exception("llm-soc2: could not instrument %s", library)
