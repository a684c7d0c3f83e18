"""The OpenTelemetry side of drift detection: gauges and log-record events (the only module of
``llm_soc2.drift`` that imports OpenTelemetry).

Gauges (observable, read at each metric collection from the latest check):

* ``llm_soc2.drift.score`` -- one series per statistic: ``test`` = ``wasserstein``, ``spread``, ``ks``,
  ``psi`` (numbers), ``cohen_h``, ``js`` (categories), ``js`` (response text);
* ``llm_soc2.drift.p_value`` -- raw p-value of a significance test (``test`` = ``ks`` and
  ``brown_forsythe`` for numbers, ``chi2`` for categories and text);
* ``llm_soc2.drift.detected`` -- 1 while a drift alert is raised (after persistence), else 0; ``test`` =
  ``ks+brown_forsythe`` for numbers, ``chi2`` for categories and text.

Every series carries ``llm_soc2.drift.feature``, ``gen_ai.request.model``, ``gen_ai.operation.name``
and ``service.name``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry import metrics
from opentelemetry._logs import LoggerProvider, LogRecord, SeverityNumber, get_logger

from llm_soc2 import __version__, semconv
from llm_soc2.drift.detector import SIGNIFICANCE_TEST, TESTED, FeatureResult

_SCORE_TESTS = {
    "numeric": ("wasserstein", "spread", "ks", "psi"),
    "categorical": ("cohen_h", "js"),
    "text": ("js",),
}


def result_attributes(result: FeatureResult, test: str) -> dict[str, str]:
    return {
        semconv.ATTR_DRIFT_FEATURE: result.feature,
        semconv.ATTR_DRIFT_TEST: test,
        semconv.GEN_AI_REQUEST_MODEL: result.model,
        semconv.GEN_AI_OPERATION_NAME: result.operation,
        semconv.SERVICE_NAME: result.service,
    }


class DriftTelemetry:
    """Publishes drift results as observable gauges and drift events as log records."""

    def __init__(
        self,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
    ) -> None:
        self._results: tuple[FeatureResult, ...] = ()
        self._detected: frozenset[tuple[tuple[str, str, str], str]] = frozenset()
        meter = metrics.get_meter(
            semconv.INSTRUMENTATION_SCOPE, __version__, meter_provider, schema_url=semconv.GENAI_SCHEMA_URL
        )
        meter.create_observable_gauge(
            semconv.METRIC_DRIFT_SCORE,
            callbacks=[self._observe_scores],
            unit="",
            description="Drift statistic of a feature, current window against its reference",
        )
        meter.create_observable_gauge(
            semconv.METRIC_DRIFT_P_VALUE,
            callbacks=[self._observe_p_values],
            unit="",
            description="P-value of the drift significance test (before false-discovery adjustment)",
        )
        meter.create_observable_gauge(
            semconv.METRIC_DRIFT_DETECTED,
            callbacks=[self._observe_detected],
            unit="",
            description="1 while drift is detected for a feature (after persistence), else 0",
        )
        self._logger = get_logger(
            semconv.INSTRUMENTATION_SCOPE, __version__, logger_provider, schema_url=semconv.GENAI_SCHEMA_URL
        )

    def publish(
        self, results: Sequence[FeatureResult], detected: Iterable[tuple[tuple[str, str, str], str]]
    ) -> None:
        """Replace the published snapshot (called by the monitor after each check)."""
        self._results = tuple(results)
        self._detected = frozenset(detected)

    # The callbacks run on the metric reader's thread; they read one immutable snapshot.
    def _observe_scores(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        for r in self._results:
            if r.status != TESTED:
                continue
            for test in _SCORE_TESTS.get(r.kind, ()):
                value = r.scores.get(test)
                if value is not None:
                    yield metrics.Observation(value, result_attributes(r, test))

    def _observe_p_values(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        for r in self._results:
            if r.status != TESTED:
                continue
            if r.kind == "numeric":
                for test in ("ks", "brown_forsythe"):
                    yield metrics.Observation(r.scores.get(f"{test}_p", 1.0), result_attributes(r, test))
            else:
                yield metrics.Observation(r.p_value, result_attributes(r, r.test))

    def _observe_detected(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        detected = self._detected
        for r in self._results:
            value = 1 if (r.key, r.feature) in detected else 0
            yield metrics.Observation(value, result_attributes(r, SIGNIFICANCE_TEST[r.kind]))

    def emit(self, event_name: str, time_unix_nano: int, attributes: Mapping[str, Any], body: str) -> None:
        """Emit one event as a log record (``event_name`` e.g. ``llm_soc2.drift``)."""
        self._logger.emit(
            LogRecord(
                timestamp=time_unix_nano,
                severity_number=SeverityNumber.WARN,
                severity_text="WARN",
                body=body,
                attributes=dict(attributes),
                event_name=event_name,
            )
        )


def emit_event(
    event_name: str,
    time_unix_nano: int,
    attributes: Mapping[str, Any],
    body: str,
    logger_provider: LoggerProvider | None = None,
) -> None:
    """Emit one event through ``logger_provider`` (default: the global one; a no-op until configured)."""
    get_logger(semconv.INSTRUMENTATION_SCOPE, __version__, logger_provider).emit(
        LogRecord(
            timestamp=time_unix_nano,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body=body,
            attributes=dict(attributes),
            event_name=event_name,
        )
    )
