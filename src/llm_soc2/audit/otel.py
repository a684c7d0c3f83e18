"""OpenTelemetry metrics for the audit writer (the only audit module that imports OpenTelemetry).

Observable instruments read the writer's plain counters at collection time, so the application
thread pays nothing for them:

* ``llm_soc2.audit.records`` (counter, ``{record}``) by ``llm_soc2.audit.outcome`` =
  written | spilled | replayed | lost, and ``llm_soc2.audit.log_id``;
* ``llm_soc2.audit.backlog`` (gauge, ``{record}``): queued + spilled, not yet in the store;
* ``llm_soc2.audit.checkpoint.time`` (gauge, ``s``, unix time) and ``.size`` (gauge, ``{record}``);
* ``llm_soc2.audit.witness.failures`` (counter) by ``llm_soc2.witness``;
* ``llm_soc2.audit.verification.failures`` (counter): checkpoints the log refused to sign because the
  store was inconsistent with an earlier checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from llm_soc2 import semconv

if TYPE_CHECKING:
    from llm_soc2.audit.writer import AuditWriter


def register_writer_metrics(writer: AuditWriter, meter_provider: Any) -> None:
    from opentelemetry.metrics import CallbackOptions, Observation

    meter = meter_provider.get_meter(semconv.INSTRUMENTATION_SCOPE)
    log_attr = {semconv.ATTR_AUDIT_LOG_ID: writer.log_id}

    def records(_options: CallbackOptions) -> Iterable[Observation]:
        stats = writer.stats
        for outcome in ("written", "spilled", "replayed", "lost"):
            yield Observation(getattr(stats, outcome), {**log_attr, semconv.ATTR_AUDIT_OUTCOME: outcome})

    def backlog(_options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(writer.backlog, log_attr)

    def checkpoint_time(_options: CallbackOptions) -> Iterable[Observation]:
        if writer.stats.checkpoint_time:
            yield Observation(writer.stats.checkpoint_time, log_attr)

    def checkpoint_size(_options: CallbackOptions) -> Iterable[Observation]:
        if writer.stats.checkpoints:
            yield Observation(writer.stats.checkpoint_size, log_attr)

    def witness_failures(_options: CallbackOptions) -> Iterable[Observation]:
        for name, count in writer.witnesses.failures.items():
            yield Observation(count, {**log_attr, semconv.ATTR_WITNESS: name})

    def verify_failures(_options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(writer.stats.checkpoint_failures, log_attr)

    meter.create_observable_counter(
        semconv.METRIC_AUDIT_RECORDS,
        [records],
        unit="{record}",
        description="Audit records by outcome: written, spilled, replayed, lost",
    )
    meter.create_observable_gauge(
        semconv.METRIC_AUDIT_BACKLOG,
        [backlog],
        unit="{record}",
        description="Audit records queued or spilled, not yet in the store",
    )
    meter.create_observable_gauge(
        semconv.METRIC_AUDIT_CHECKPOINT_TIME,
        [checkpoint_time],
        unit="s",
        description="Unix time of the latest signed checkpoint",
    )
    meter.create_observable_gauge(
        semconv.METRIC_AUDIT_CHECKPOINT_SIZE,
        [checkpoint_size],
        unit="{record}",
        description="Tree size of the latest signed checkpoint",
    )
    meter.create_observable_counter(
        semconv.METRIC_AUDIT_WITNESS_FAILURES,
        [witness_failures],
        unit="{failure}",
        description="Checkpoints a witness failed to record",
    )
    meter.create_observable_counter(
        semconv.METRIC_AUDIT_VERIFY_FAILURES,
        [verify_failures],
        unit="{failure}",
        description="Checkpoints refused because the store was inconsistent with an earlier one",
    )
