"""The LLM span processor: the one processor on the TracerProvider.

It wraps the export processors (usually ``BatchSpanProcessor(OTLPSpanExporter())``), so exporters only
ever receive a scrubbed copy of a GenAI span. Ended SDK spans are immutable (SDK >= 1.43), so the copy
is a new ``ReadableSpan`` built from scrubbed attributes, events and status (the pattern
pydantic/logfire uses). The thread that ends a GenAI span only checks that it is not a duplicate and hands
it to the processor's background thread (``llm_soc2.handoff``; ``LLM_SOC2_PROCESSOR_BACKGROUND=false`` does
everything inline). When that thread's queue is full the ending thread processes its own span: a burst
slows the application down rather than losing a span or an audit record. For each GenAI span:

1. find content in every known convention (``llm_soc2.content``) and scrub it (``llm_soc2.scrub``);
2. classify risk over the scrubbed view plus the scrubber's findings (``llm_soc2.risk``);
3. run enrichers (e.g. change management) that add attributes to the copy;
4. record metrics, hand the interaction to sinks (audit writer, drift monitor);
5. forward the scrubbed copy to the export processors.

Nothing unscrubbed waits anywhere but in this process's memory: the queue holds the SDK's ended spans,
which no exporter sees until step 5. ``force_flush`` and ``shutdown`` drain the queue first.

Spans that are not GenAI spans are forwarded unchanged (fast path). Fail closed: if anything in steps 1-2
raises, every content-bearing attribute, event attribute and status description is removed from the
copy and ``llm_soc2.scrub.error`` says why. Nothing here raises into the application.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from opentelemetry import metrics
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AttributeValue

from llm_soc2 import content as ct
from llm_soc2 import semconv as sc
from llm_soc2.config import Settings
from llm_soc2.handoff import Handoff
from llm_soc2.labels import LabelCap

if TYPE_CHECKING:
    from llm_soc2.risk import Assessment, RiskEngine
    from llm_soc2.risk import Interaction as RiskInteraction
    from llm_soc2.scrub import Finding, Scrubber

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class ProcessedInteraction:
    """A processed GenAI span as enrichers and sinks see it: scrubbed attributes (mutable for
    enrichers), the assessment and the findings. Never holds unscrubbed content."""

    span: ReadableSpan  # the original (unscrubbed) span: read ids and times only
    attributes: dict[str, Any]
    assessment: Assessment | None
    input_entities: dict[str, int] = field(default_factory=dict)
    output_entities: dict[str, int] = field(default_factory=dict)
    response_text: str = ""
    prompt_chars: int = 0
    # (direction, entity, action) -> number of findings, for the PII metric
    finding_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        start, end = self.span.start_time, self.span.end_time
        return (end - start) / 1e9 if start is not None and end is not None else 0.0


class Enricher(Protocol):
    """Adds attributes to the exported copy of a GenAI span (runs on the app thread: keep it µs-cheap)."""

    def __call__(self, interaction: ProcessedInteraction) -> None: ...


class Sink(Protocol):
    """Receives every processed interaction (runs on the app thread: hand off, never block)."""

    def __call__(self, interaction: ProcessedInteraction) -> None: ...


class _ScrubbedSpan(ReadableSpan):
    """A copy that still reports what the SDK dropped from the original (limits are evidence too)."""

    def __init__(
        self,
        original: ReadableSpan,
        attributes: Mapping[str, Any],
        events: tuple[Event, ...],
        links: tuple[Link, ...],
        status: Status,
    ) -> None:
        """``original`` with these attributes, events, links and status; everything else as it was."""
        super().__init__(
            name=original.name,
            context=original.context,
            parent=original.parent,
            resource=original.resource,
            attributes=attributes,
            events=events,
            links=links,
            kind=original.kind,
            status=status,
            start_time=original.start_time,
            end_time=original.end_time,
            instrumentation_scope=original.instrumentation_scope,
        )
        self._dropped = (original.dropped_attributes, original.dropped_events, original.dropped_links)

    @property
    def dropped_attributes(self) -> int:
        return self._dropped[0]

    @property
    def dropped_events(self) -> int:
        return self._dropped[1]

    @property
    def dropped_links(self) -> int:
        return self._dropped[2]


class _CounterTally:
    """A counter summed here and read by the SDK when metrics are collected (an ObservableCounter).

    A synchronous ``Counter.add`` cleans, copies and hashes its attributes on every call, about as much
    CPU as scrubbing a clean prompt; an increment here is one dict update under a lock. Exporters see the
    same thing: a monotonic sum with the same name, unit and attributes (``labels``, in that order, with
    the values given to ``add``). Past ``LIMIT`` distinct attribute sets, further ones are counted under
    ``otel.metric.overflow``, as the SDK does past its own cardinality limit.
    """

    LIMIT: Final = 2000
    _OVERFLOW: Final[tuple[AttributeValue, ...]] = ("\x00overflow",)

    def __init__(
        self,
        meter: metrics.Meter,
        name: str,
        unit: str,
        description: str,
        labels: tuple[str, ...],
        summing: _CounterTally | None = None,
    ) -> None:
        self._labels = labels
        self._totals: dict[tuple[AttributeValue, ...], int] = {}
        self._lock = threading.Lock()
        # A tally whose leading labels are ours: its totals, summed over the rest, count here too.
        self._summing = summing
        meter.create_observable_counter(name, [self._observe], unit, description)

    def add(self, amount: int, values: tuple[AttributeValue, ...] = ()) -> None:
        with self._lock:
            totals = self._totals
            if values not in totals and len(totals) >= self.LIMIT:
                values = self._OVERFLOW
            totals[values] = totals.get(values, 0) + amount

    def _observe(self, options: metrics.CallbackOptions) -> list[metrics.Observation]:
        totals = self._snapshot()
        if self._summing is not None:
            width = len(self._labels)
            for values, total in self._summing._snapshot().items():
                key = values if values is self._OVERFLOW else values[:width]
                totals[key] = totals.get(key, 0) + total
        return [metrics.Observation(total, self._attributes(values)) for values, total in totals.items()]

    def _snapshot(self) -> dict[tuple[AttributeValue, ...], int]:
        with self._lock:
            return dict(self._totals)

    def _attributes(self, values: tuple[AttributeValue, ...]) -> dict[str, AttributeValue]:
        if values is self._OVERFLOW:
            return {"otel.metric.overflow": True}
        # Fewer values than labels only for the start-up zero, which has no attributes at all.
        return dict(zip(self._labels, values, strict=False))


# One tally per meter and name: a second processor on the same MeterProvider shares the first one's
# instrument (the SDK registers an instrument name once per meter), so it must share its totals too.
_tallies: weakref.WeakKeyDictionary[metrics.Meter, dict[str, _CounterTally]] = weakref.WeakKeyDictionary()
_tallies_lock = threading.Lock()


def _tally_for(
    meter: metrics.Meter,
    name: str,
    unit: str,
    description: str,
    labels: tuple[str, ...],
    summing: _CounterTally | None = None,
) -> _CounterTally:
    with _tallies_lock:
        by_name = _tallies.setdefault(meter, {})
        tally = by_name.get(name)
        if tally is None:
            tally = by_name[name] = _CounterTally(meter, name, unit, description, labels, summing)
        return tally


# At shutdown, how long the background thread gets to finish its queue before the rest is processed on the
# shutting-down thread (nothing queued is dropped).
_SHUTDOWN_DRAIN_S: Final = 30.0
# Processing time is recorded for one span in _TIMED_EVERY, and for every span at most _TIMED_INTERVAL_S
# after the previous one recorded (so light traffic is timed in full).
_TIMED_EVERY: Final = 8
_TIMED_INTERVAL_S: Final = 0.25
_BASE_LABELS: Final = (sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_REQUEST_MODEL, sc.GEN_AI_OPERATION_NAME)


class _Instruments:
    # Key fingerprints and template hashes are few in a healthy deployment; a flood of new ones (a
    # templating bug, a key per request) must not become a flood of series.
    _LABEL_LIMIT = 200

    def __init__(self, meter_provider: metrics.MeterProvider | None) -> None:
        self.key_cap = LabelCap(self._LABEL_LIMIT)
        self.template_cap = LabelCap(self._LABEL_LIMIT)
        meter = metrics.get_meter(sc.INSTRUMENTATION_SCOPE, meter_provider=meter_provider)
        self.interactions = _tally_for(
            meter,
            sc.METRIC_INTERACTIONS,
            "{interaction}",
            "LLM interactions by model, key, template and outcome",
            (
                *_BASE_LABELS,
                sc.ERROR_TYPE,
                sc.RISK_LEVEL,
                sc.API_KEY_FINGERPRINT,
                sc.PROMPT_TEMPLATE_HASH,
                sc.CHANGE_APPROVED,
            ),
        )
        # Every interaction is a processed span: the span count is the interactions' count by model.
        self.spans = _tally_for(
            meter,
            sc.METRIC_SPANS_PROCESSED,
            "{span}",
            "GenAI spans processed",
            _BASE_LABELS,
            summing=self.interactions,
        )
        self.pii = _tally_for(
            meter,
            sc.METRIC_PII_FINDINGS,
            "{finding}",
            "PII and secret findings",
            (*_BASE_LABELS, sc.ATTR_PII_TYPE, sc.ATTR_DIRECTION, sc.ATTR_SCRUB_ACTION),
        )
        self.risk = _tally_for(
            meter,
            sc.METRIC_RISK_EVENTS,
            "{event}",
            "Risk categories flagged",
            (*_BASE_LABELS, sc.ATTR_RISK_CATEGORY, sc.ATTR_RISK_LEVEL),
        )
        self.failures = _tally_for(
            meter,
            sc.METRIC_SCRUB_FAILURES,
            "{failure}",
            "Content dropped because it could not be scrubbed",
            (sc.ATTR_ERROR_KIND,),
        )
        # Zero at start-up, so "telemetry missing" alerts see a live process that has had no traffic yet.
        self.spans.add(0)
        self.duration = meter.create_histogram(
            sc.METRIC_PROCESSOR_DURATION,
            "s",
            "Time spent processing one GenAI span (every span under light traffic, one in 8 under load)",
            explicit_bucket_boundaries_advisory=[
                0.00001,
                0.000025,
                0.00005,
                0.0001,
                0.00025,
                0.0005,
                0.001,
                0.0025,
                0.005,
                0.01,
                0.05,
            ],
        )


class LLMSpanProcessor(SpanProcessor):
    """Scrubs, classifies and audits GenAI spans, then forwards a scrubbed copy to ``exporting``.

    Register only this processor on the TracerProvider and pass it the export processors::

        provider.add_span_processor(LLMSpanProcessor(BatchSpanProcessor(OTLPSpanExporter())))
    """

    def __init__(
        self,
        *exporting: SpanProcessor,
        settings: Settings | None = None,
        scrubber: Scrubber | None = None,
        risk_engine: RiskEngine | None = None,
        enrichers: Iterable[Enricher] = (),
        sinks: Iterable[Sink] = (),
        meter_provider: metrics.MeterProvider | None = None,
        drop_span: Callable[[ReadableSpan], bool] | None = None,
        background: bool | None = None,
    ) -> None:
        self._exporting = tuple(exporting)
        self._settings = settings or Settings.from_env()
        if background is None:
            background = self._settings.processor_background
        self._handoff: Handoff[tuple[ReadableSpan, dict[str, Any]]] | None = (
            Handoff(
                self._handle, capacity=self._settings.processor_queue_size, name="llm-soc2-span-processor"
            )
            if background
            else None
        )
        self._scrubber = scrubber
        self._risk_engine = risk_engine
        self._enrichers = list(enrichers)
        self._sinks = list(sinks)
        self._meter_provider = meter_provider
        self._instruments: _Instruments | None = None
        self._drop_span = drop_span
        self._errors_logged: set[str] = set()
        self._untimed = 0
        self._last_timed = 0.0

    # -- composition --------------------------------------------------------------------------------
    def add_enricher(self, enricher: Enricher) -> None:
        self._enrichers.append(enricher)

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    @property
    def scrubber(self) -> Scrubber:
        if self._scrubber is None:
            from llm_soc2.scrub import Scrubber

            self._scrubber = Scrubber(self._settings)
        return self._scrubber

    @property
    def risk_engine(self) -> RiskEngine:
        if self._risk_engine is None:
            from llm_soc2.risk import RiskEngine

            self._risk_engine = RiskEngine(self._settings)
        return self._risk_engine

    @property
    def instruments(self) -> _Instruments:
        if self._instruments is None:
            self._instruments = _Instruments(self._meter_provider)
        return self._instruments

    # -- SpanProcessor ------------------------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._exporting:
            try:
                processor.on_start(span, parent_context)
            except Exception:  # an exporter's processor must not break the app either
                self._log_once("export-start", "export processor failed in on_start")

    def on_end(self, span: ReadableSpan) -> None:
        attributes = _plain(span.attributes)
        if not ct.is_genai(attributes):
            self._forward(span)
            return
        try:
            # On this thread: the check reads state that the end of the span's parent clears.
            if self._drop_span is not None and self._drop_span(span):
                return
        except Exception:
            self._log_once("drop-span", "duplicate-span check failed")
        handoff = self._handoff
        if handoff is not None:
            if handoff.submit((span, attributes)):
                return
            self._log_once("handoff", "span processor queue full or closed: processing on the calling thread")
        self._handle((span, attributes))

    def _handle(self, item: tuple[ReadableSpan, dict[str, Any]]) -> None:
        span, attributes = item
        started = time.perf_counter()
        exported = self._process(span, attributes)
        self._forward(exported)
        ended = time.perf_counter()
        # The SDK's histogram costs a tenth of the processing itself: under load, one span in
        # _TIMED_EVERY is timed (p50/p99 need no more); below that rate, every span. The counts are
        # updated without a lock: a lost increment only moves which span is timed.
        self._untimed += 1
        if self._untimed < _TIMED_EVERY and ended - self._last_timed < _TIMED_INTERVAL_S:
            return
        self._untimed = 0
        self._last_timed = ended
        try:
            self.instruments.duration.record(ended - started)
        except Exception:
            self._log_once("metrics", "recording processor metrics failed")

    def shutdown(self) -> None:
        if self._handoff is not None:
            self._handoff.close(timeout=_SHUTDOWN_DRAIN_S)
        for processor in self._exporting:
            try:
                processor.shutdown()
            except Exception:
                self._log_once("export-shutdown", "export processor failed to shut down")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        ok = self._handoff is None or self._handoff.flush(timeout_millis / 1000)
        for processor in self._exporting:
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            try:
                ok = processor.force_flush(remaining) and ok
            except Exception:
                ok = False
        return ok

    # -- processing ---------------------------------------------------------------------------------
    def _forward(self, span: ReadableSpan) -> None:
        for processor in self._exporting:
            try:
                processor.on_end(span)
            except Exception:
                self._log_once("export-end", "export processor failed in on_end")

    def _process(self, span: ReadableSpan, attributes: dict[str, Any] | None = None) -> ReadableSpan:
        try:
            interaction, events, status = self._scrub_and_classify(span, attributes)
        except Exception as exc:  # fail closed
            reason = f"{type(exc).__name__}"
            self._log_once("scrub:" + reason, "scrubbing a GenAI span failed; its content was dropped")
            self._count_failure(reason)
            return self._stripped_copy(span, reason)
        for enricher in self._enrichers:
            try:
                enricher(interaction)
            except Exception:
                self._log_once(f"enricher:{enricher!r}", "an enricher failed")
        self._record_metrics(interaction)
        for sink in self._sinks:
            try:
                sink(interaction)
            except Exception:
                self._log_once(f"sink:{sink!r}", "a sink failed")
        return self._copy(span, interaction.attributes, events, status)

    @functools.cached_property
    def _scrub_texts(self) -> Callable[[list[str]], list[ct.ScrubbedText]]:
        return _texts_scrubber(self.scrubber)

    def _scrub_and_classify(
        self, span: ReadableSpan, attributes: dict[str, Any] | None = None
    ) -> tuple[ProcessedInteraction, Sequence[Event], Status]:
        # ``attributes`` is on_end's private copy of the span's: scrubbed where it lies.
        attributes, extracted, findings, removed = ct.scrub_attributes(
            attributes if attributes is not None else _plain(span.attributes),
            self._scrub_texts,
            in_place=True,
        )
        errors: list[str] = []
        if removed:
            errors.append("unscrubbable content removed: " + ",".join(sorted(removed)))
            for _ in removed:
                self._count_failure("content")

        counts: dict[tuple[str, str, str], int] = {}
        found = any(findings)
        if found:
            for leaf, leaf_findings in zip(extracted.leaves, findings, strict=True):
                if leaf_findings:
                    _tally(leaf_findings, leaf.direction, counts)

        events = span.events
        if events:
            events = tuple(self._scrub_event(event, counts, errors) for event in events)
        status = span.status
        if status.description:
            result = self.scrubber.scrub(status.description)
            _tally(result.findings, ct.INPUT, counts)
            status = Status(status.status_code, result.text if result.text is not None else ct.DROPPED_MARKER)
        input_entities: dict[str, int] = {}
        output_entities: dict[str, int] = {}
        for (direction, entity, _), count in counts.items():
            bucket = output_entities if direction == ct.OUTPUT else input_entities
            bucket[entity] = bucket.get(entity, 0) + count

        _set_pii_summary(attributes, input_entities, output_entities)
        if errors:
            attributes[sc.SCRUB_ERROR] = "; ".join(errors)

        # Without findings or removals every leaf is as it was: read the texts, not the write-back.
        scrubbed_leaf_texts = (
            _scrubbed_leaf_texts(extracted) if found or removed else [leaf.text for leaf in extracted.leaves]
        )
        groups = ct.texts_by_role(extracted.leaves, scrubbed_leaf_texts)
        response_text = "\n".join(groups.get(ct.ROLE_ASSISTANT, ()))
        assessment = self._assess(attributes, groups, response_text, input_entities, output_entities)
        if assessment is not None:
            _set_risk(attributes, assessment)
        interaction = ProcessedInteraction(
            span,
            attributes,
            assessment,
            input_entities,
            output_entities,
            response_text,
            sum(map(len, groups.get(ct.ROLE_USER, ()))),
            counts,
        )
        return interaction, events, status

    def _scrub_event(self, event: Event, counts: dict[tuple[str, str, str], int], errors: list[str]) -> Event:
        if not event.attributes:
            return event
        attributes, _, findings, removed = ct.scrub_attributes(event.attributes, self._scrub_texts)
        direction = ct.OUTPUT if event.name == "gen_ai.choice" else ct.INPUT
        for leaf_findings in findings:
            _tally(leaf_findings, direction, counts)
        if removed:
            errors.append(f"event {event.name}: unscrubbable content removed")
        return Event(event.name, attributes, event.timestamp)

    def _assess(
        self,
        attributes: Mapping[str, Any],
        groups: Mapping[str, list[str]],
        response_text: str,
        input_entities: Mapping[str, int],
        output_entities: Mapping[str, int],
    ) -> Assessment | None:
        finish = tuple(map(str, attributes.get(sc.GEN_AI_RESPONSE_FINISH_REASONS) or ()))
        context = groups.get(ct.ROLE_CONTEXT)
        schema = _json_object(attributes.get(sc.RESPONSE_FORMAT_SCHEMA))
        try:
            return self.risk_engine.assess(
                _interaction_type()(
                    prompt="\n".join(groups.get(ct.ROLE_USER, ())),
                    response=response_text,
                    system="\n".join(groups.get(ct.ROLE_SYSTEM, ())),
                    tool_results=tuple(groups.get(ct.ROLE_TOOL, ())),
                    context="\n".join(context) if context else None,
                    finish_reasons=finish,
                    response_schema=schema,
                    input_entities=tuple(input_entities),
                    output_entities=tuple(output_entities),
                )
            )
        except Exception:
            self._log_once("risk", "risk assessment failed")
            return None

    def _record_metrics(self, interaction: ProcessedInteraction) -> None:
        try:
            inst = self.instruments
            attrs = interaction.attributes
            base = (
                str(attrs.get(sc.GEN_AI_PROVIDER_NAME, attrs.get(sc.GEN_AI_SYSTEM, ""))),
                str(attrs.get(sc.GEN_AI_REQUEST_MODEL, "")),
                str(attrs.get(sc.GEN_AI_OPERATION_NAME, "")),
            )
            assessment = interaction.assessment
            level = assessment.level if assessment is not None else "unknown"
            inst.interactions.add(
                1,
                (
                    *base,
                    str(attrs.get(sc.ERROR_TYPE, "")),
                    level,
                    inst.key_cap(str(attrs.get(sc.API_KEY_FINGERPRINT, ""))),
                    inst.template_cap(str(attrs.get(sc.PROMPT_TEMPLATE_HASH, ""))),
                    str(attrs.get(sc.CHANGE_APPROVED, "unknown")).lower(),
                ),
            )
            for (direction, entity, action), count in interaction.finding_counts.items():
                inst.pii.add(count, (*base, entity, direction, action))
            if assessment is not None:
                for category in assessment.categories:
                    inst.risk.add(1, (*base, category, level))
        except Exception:
            self._log_once("metrics", "recording processor metrics failed")

    def _count_failure(self, kind: str) -> None:
        try:
            self.instruments.failures.add(1, (kind,))
        except Exception:
            self._log_once("metrics", "recording processor metrics failed")

    # -- copies -------------------------------------------------------------------------------------
    def _copy(
        self, span: ReadableSpan, attributes: Mapping[str, Any], events: Sequence[Event], status: Status
    ) -> ReadableSpan:
        return _ScrubbedSpan(span, attributes, tuple(events), self._scrub_links(span.links), status)

    def _scrub_links(self, links: Sequence[Link]) -> tuple[Link, ...]:
        if not links:
            return ()
        return tuple(self._scrubbed_links(links))

    def _scrubbed_links(self, links: Sequence[Link]) -> Iterable[Link]:
        for link in links:
            if not link.attributes:
                yield link
                continue
            attributes, _, _, _ = ct.scrub_attributes(link.attributes, self._scrub_texts)
            yield Link(link.context, attributes)

    def _stripped_copy(self, span: ReadableSpan, reason: str) -> ReadableSpan:
        """The fail-closed copy: only structural and numeric attributes survive."""
        attributes = {
            key: value
            for key, value in (span.attributes or {}).items()
            if ct.is_structural(key) or isinstance(value, bool | int | float)
        }
        attributes[sc.SCRUB_ERROR] = f"processing failed ({reason}); content dropped"
        events = [Event(event.name, None, event.timestamp) for event in span.events]
        status = Status(span.status.status_code, None)
        links = tuple(Link(link.context) for link in span.links)
        return _ScrubbedSpan(span, attributes, tuple(events), links, status)

    def _log_once(self, kind: str, message: str) -> None:
        if kind in self._errors_logged or len(self._errors_logged) > 1000:
            return
        self._errors_logged.add(kind)
        _log.warning(
            "llm-soc2: %s (further errors of this kind are counted, not logged)", message, exc_info=True
        )


def _texts_scrubber(scrubber: Scrubber) -> Callable[[list[str]], list[ct.ScrubbedText]]:
    """What maps texts to ``(text, findings, error)``: ``Scrubber.scrub_texts``, or for a scrubber of
    another kind its ``scrub_many`` (or ``scrub``) results."""
    fast = getattr(scrubber, "scrub_texts", None)
    if fast is not None:
        return fast  # type: ignore[no-any-return]

    def scrub_texts(texts: list[str]) -> list[ct.ScrubbedText]:
        many = getattr(scrubber, "scrub_many", None)
        results = many(texts) if many is not None else [scrubber.scrub(text) for text in texts]
        return [(r.text, r.findings, r.error) for r in results]

    return scrub_texts


def _plain(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain dict of a span's attributes. ``ReadableSpan.attributes`` is a read-only proxy over the SDK's
    ``BoundedAttributes``, whose every lookup and iteration step runs Python code (a missing key raises
    and catches ``KeyError``); its ``copy()`` is one C-level dict copy."""
    if attributes is None:
        return {}
    try:
        copied = attributes.copy()  # type: ignore[attr-defined]
    except Exception:
        copied = None
    return copied if type(copied) is dict else dict(attributes)


def _tally(findings: Iterable[Finding], direction: str, counts: dict[tuple[str, str, str], int]) -> None:
    for finding in findings:
        key = (direction, finding.entity, str(finding.action.value))
        counts[key] = counts.get(key, 0) + 1


def _scrubbed_leaf_texts(extracted: ct.ExtractedContent) -> list[str | None]:
    """The scrubbed text of each leaf, read back from where write-back put it."""
    texts: list[str | None] = []
    for leaf in extracted.leaves:
        doc = extracted.documents[leaf.key]
        if doc.failed is not None:
            texts.append(None)
        elif leaf.container is None:
            value = doc.value
            texts.append(value if isinstance(value, str) else None)
        else:
            value = leaf.container[leaf.index]
            texts.append(value if isinstance(value, str) else None)
    return texts


def _set_pii_summary(
    attributes: dict[str, Any], inputs: Mapping[str, int], outputs: Mapping[str, int]
) -> None:
    if not inputs and not outputs:
        attributes.update(_NO_PII)
        return
    input_count = sum(inputs.values())
    output_count = sum(outputs.values())
    attributes[sc.PII_DETECTED] = bool(input_count or output_count)
    attributes[sc.PII_COUNT] = input_count + output_count
    attributes[sc.PII_TYPES] = tuple(sorted(set(inputs) | set(outputs)))
    attributes[sc.PII_INPUT_DETECTED] = bool(input_count)
    attributes[sc.PII_INPUT_COUNT] = input_count
    attributes[sc.PII_INPUT_TYPES] = tuple(sorted(inputs))
    attributes[sc.PII_OUTPUT_DETECTED] = bool(output_count)
    attributes[sc.PII_OUTPUT_COUNT] = output_count
    attributes[sc.PII_OUTPUT_TYPES] = tuple(sorted(outputs))


_NO_PII: Final[Mapping[str, Any]] = {
    sc.PII_DETECTED: False,
    sc.PII_COUNT: 0,
    sc.PII_TYPES: (),
    sc.PII_INPUT_DETECTED: False,
    sc.PII_INPUT_COUNT: 0,
    sc.PII_INPUT_TYPES: (),
    sc.PII_OUTPUT_DETECTED: False,
    sc.PII_OUTPUT_COUNT: 0,
    sc.PII_OUTPUT_TYPES: (),
}


def _set_risk(attributes: dict[str, Any], assessment: Assessment) -> None:
    attributes[sc.RISK_SCORE] = float(assessment.score)
    attributes[sc.RISK_LEVEL] = assessment.level
    attributes[sc.RISK_CATEGORIES] = tuple(assessment.categories)
    for category, score in assessment.scores.items():
        attributes[sc.risk_category_score_attribute(category)] = float(score)
    if assessment.policy_version:
        attributes[sc.RISK_POLICY_VERSION] = assessment.policy_version


@functools.cache
def _interaction_type() -> type[RiskInteraction]:
    """``llm_soc2.risk.Interaction``, imported on first use (the risk package loads with the engine)."""
    from llm_soc2.risk import Interaction

    return Interaction


def _json_object(value: Any) -> Mapping[str, object] | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = ct.loads(value)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


class LLMLogRecordProcessor(LogRecordProcessor):
    """Scrubs GenAI log events (e.g. ``gen_ai.client.inference.operation.details``) in place before the
    wrapped export processors see them. Log records are mutable, so no copy is needed."""

    def __init__(
        self,
        *exporting: LogRecordProcessor,
        settings: Settings | None = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        self._exporting = tuple(exporting)
        self._settings = settings or Settings.from_env()
        self._scrubber = scrubber
        self._errors_logged: set[str] = set()

    @property
    def scrubber(self) -> Scrubber:
        if self._scrubber is None:
            from llm_soc2.scrub import Scrubber

            self._scrubber = Scrubber(self._settings)
        return self._scrubber

    @functools.cached_property
    def _scrub_texts(self) -> Callable[[list[str]], list[ct.ScrubbedText]]:
        return _texts_scrubber(self.scrubber)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        event_name = getattr(record, "event_name", None) or ""
        attributes = record.attributes or {}
        if event_name.startswith("gen_ai.") or ct.is_genai(attributes) or _body_is_genai(record.body):
            try:
                self._scrub_record(record)
            except Exception:
                self._log_once("scrub", "scrubbing a GenAI log record failed; its content was dropped")
                record.body = None
                record.attributes = {
                    k: v for k, v in (record.attributes or {}).items() if ct.is_structural(k)
                }
        for processor in self._exporting:
            try:
                processor.on_emit(log_record)
            except Exception:
                self._log_once("export", "log export processor failed")

    def _scrub_record(self, record: Any) -> None:
        if record.attributes:
            attributes, _, _, _ = ct.scrub_attributes(record.attributes, self._scrub_texts)
            record.attributes = attributes
        body = record.body
        if isinstance(body, str):
            result = self.scrubber.scrub(body)
            record.body = result.text if result.text is not None else ct.DROPPED_MARKER
        elif isinstance(body, Mapping):
            record.body = self._scrub_structured(body)
        elif isinstance(body, list | tuple):
            record.body = self._scrub_structured({"_": list(body)})["_"]

    def _scrub_structured(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Structured bodies (events carry messages as lists, not JSON strings): scrub every string leaf."""
        copy: dict[str, Any] = _deep_copy(body)
        leaves: list[ct.Leaf] = []
        ct._walk(leaves, copy, "body", ct.INPUT, "", depth=0)
        results = self._scrub_texts([leaf.text for leaf in leaves])
        for leaf, (text, _, error) in zip(leaves, results, strict=True):
            leaf.container[leaf.index] = ct.DROPPED_MARKER if text is None or error is not None else text
        return copy

    def shutdown(self) -> None:
        for processor in self._exporting:
            try:
                processor.shutdown()
            except Exception:
                self._log_once("export-shutdown", "log export processor failed to shut down")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        ok = True
        for processor in self._exporting:
            try:
                ok = processor.force_flush(timeout_millis) and ok
            except Exception:
                ok = False
        return ok

    def _log_once(self, kind: str, message: str) -> None:
        if kind in self._errors_logged:
            return
        self._errors_logged.add(kind)
        _log.warning("llm-soc2: %s", message, exc_info=True)


def _body_is_genai(body: Any) -> bool:
    return isinstance(body, Mapping) and any(key in body for key in sc.GEN_AI_CONTENT_ATTRIBUTES)


def _deep_copy(value: Any, depth: int = 0) -> Any:
    if depth > 64:
        raise ValueError("log body nested too deeply")
    if isinstance(value, Mapping):
        return {str(k): _deep_copy(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy(v, depth + 1) for v in value]
    return value
