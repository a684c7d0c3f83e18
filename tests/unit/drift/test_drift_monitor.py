"""The online monitor: cheap and safe on the app thread, bounded, a background thread that starts,
stops and never raises into the app, and detection end to end on simulated time."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from llm_soc2 import semconv
from llm_soc2.audit import AuditRecord
from llm_soc2.config import Settings
from llm_soc2.drift import DriftMonitor, DriftPolicy
from llm_soc2.drift.baseline import BaselineStore
from llm_soc2.drift.detector import DriftPolicy as _Policy
from llm_soc2.drift.simulate import DAY, Shift, Traffic
from llm_soc2.drift.window import KeyState


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"service_name": "svc", "data_dir": tmp_path}
    values.update(overrides)
    return Settings(**values)


def _attributes(model: str = "gpt-4o-mini", latency: float = 1.0) -> dict[str, Any]:
    return {
        semconv.GEN_AI_REQUEST_MODEL: model,
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.DURATION: latency,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
    }


# --------------------------------------------------------------------------------------------------
# App thread
# --------------------------------------------------------------------------------------------------
def test_observe_costs_under_two_microseconds(tmp_path: Path) -> None:
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False, buffer_size=1024)
    attributes = _attributes()
    text = "The answer is 42. " * 50
    observe = monitor.observe
    calls = 100_000
    best = float("inf")
    gc.disable()
    try:
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(calls):
                observe(attributes, text, 1_767_225_600_000_000_000)
            best = min(best, (time.perf_counter() - start) / calls)
    finally:
        gc.enable()
    assert best < 2e-6, f"{best * 1e9:.0f} ns per call"


@pytest.mark.parametrize(
    "args",
    [
        (None,),
        ("not a mapping", 12345),
        ({}, object()),
        ({}, None, "yesterday"),
        ({semconv.DURATION: float("nan")}, "x" * 1_000_000, -5),
    ],
)
def test_observe_never_raises_and_bad_items_are_counted(tmp_path: Path, args: tuple[Any, ...]) -> None:
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False)
    monitor.observe(*args)
    monitor.drain(1_767_225_600.0)
    assert monitor.counters["invalid"] + monitor.counters["observed"] <= 1


def test_long_texts_are_read_up_to_2048_characters(tmp_path: Path) -> None:
    now = 1_767_225_600.0
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False, clock=lambda: now)
    attributes = _attributes()
    monitor.observe(attributes, "word " * 100_000)  # 500,000 characters
    monitor.drain()
    (state,) = monitor._keys.values()
    text = monitor.space.index["response.text"]
    assert state.ring[:, monitor.space.span(text)].sum() == 2048 // 5 + 1  # tokens in the first 2,048 chars
    chars = monitor.space.index["response.chars"]
    assert state.ring[:, monitor.space.n_columns[chars]].sum() == 1  # the length of the whole text


@dataclass
class _Span:
    start_time: int
    end_time: int


@dataclass
class _Interaction:
    span: _Span
    attributes: dict[str, Any]
    response_text: str


def test_observe_interaction_takes_the_processors_sink_object(tmp_path: Path) -> None:
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False)
    end = 1_767_225_600_000_000_000
    attributes = _attributes()
    del attributes[semconv.DURATION]
    monitor.observe_interaction(_Interaction(_Span(end - 2_500_000_000, end), attributes, "hello"))
    monitor.observe_interaction(object())  # not an interaction: ignored, no error
    assert monitor.drain(end / 1e9 + 1) == 1
    (state,) = monitor._keys.values()
    latency = monitor.space.index["latency"]
    assert state.ring[:, monitor.space.n_columns[latency]].sum() == 1  # duration from the span's times


# --------------------------------------------------------------------------------------------------
# Bounds
# --------------------------------------------------------------------------------------------------
def test_a_flood_is_bounded_by_the_buffer(tmp_path: Path) -> None:
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False, buffer_size=1000)
    for _ in range(50_000):
        monitor.observe(_attributes("flood"), "text")
    assert len(monitor._buffer) == 1000


def test_new_model_names_cannot_evict_established_keys(tmp_path: Path) -> None:
    now = [1_767_225_600.0]
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False, max_keys=4, clock=lambda: now[0])
    monitor.observe(_attributes("established"))
    monitor.drain()
    for i in range(1000):
        monitor.observe(_attributes(f"model-{i}"))
    monitor.drain()
    keys = monitor.keys
    assert len(keys) == 4
    assert ("svc", "established", "chat") in keys
    assert monitor.counters["dropped_key_limit"] == 1000 - 3
    assert monitor.memory_bytes <= 4 * 1_000_000


def test_an_idle_key_gives_way_after_key_idle_days(tmp_path: Path) -> None:
    now = [1_767_225_600.0]
    monitor = DriftMonitor(
        _settings(tmp_path), telemetry=False, max_keys=1, key_idle_days=1, clock=lambda: now[0]
    )
    monitor.observe(_attributes("old"), time_unix_nano=int(now[0] * 1e9))
    monitor.drain()
    now[0] += 2 * DAY
    monitor.observe(_attributes("new"), time_unix_nano=int(now[0] * 1e9))
    monitor.drain()
    assert monitor.keys == [("svc", "new", "chat")]


def test_beyond_max_rate_the_monitor_samples(tmp_path: Path) -> None:
    now = [1_767_225_600.0]
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False, max_rate=100, clock=lambda: now[0])
    monitor.drain()
    for _ in range(5000):
        monitor.observe(_attributes())
    now[0] += 1.0
    assert monitor.drain() == 100
    assert monitor.counters["sampled_out"] == 4900


# --------------------------------------------------------------------------------------------------
# Background thread
# --------------------------------------------------------------------------------------------------
def test_thread_starts_checks_and_stops_cleanly(tmp_path: Path) -> None:
    monitor = DriftMonitor(_settings(tmp_path, drift_interval=0.05, drift_window=60.0), telemetry=False)
    with monitor:
        assert monitor.running
        thread = monitor._thread
        assert thread is not None
        for _ in range(200):
            monitor.observe(_attributes())
        deadline = time.monotonic() + 10
        while monitor.counters["checks"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert monitor.counters["checks"] >= 2
    assert monitor.counters["observed"] == 200
    assert not monitor.running
    assert not thread.is_alive()
    monitor.shutdown()  # idempotent


def test_failures_in_the_thread_never_reach_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monitor = DriftMonitor(_settings(tmp_path, drift_interval=0.02), telemetry=False)

    def broken(now: float | None = None) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(monitor, "drain", broken)
    monitor.start()
    try:
        deadline = time.monotonic() + 10
        while monitor.counters["failures"] < 3 and time.monotonic() < deadline:
            monitor.observe(_attributes())
            time.sleep(0.01)
        assert monitor.running
    finally:
        monitor.shutdown()
    assert monitor.counters["failures"] >= 3
    assert not monitor.running


def test_sinks_that_raise_are_contained(tmp_path: Path) -> None:
    def sink(record: AuditRecord) -> None:
        raise OSError("disk full")

    def callback(event: Any) -> None:
        raise ValueError("bad callback")

    result = _simulate(
        tmp_path, [Shift("latency_mean", DAY + 600, 1.0)], hours_after=1, record_sink=sink, on_event=callback
    )
    assert result["monitor"].events  # detected despite the failing sinks


# --------------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------------
def test_rolling_reference_never_contains_the_last_day() -> None:
    policy = _Policy()
    state = KeyState(4, (3,), window_seconds=1800, policy=policy)
    day0 = 1_767_225_600.0 + 3600
    state.add(day0, np.array([1.0, 0, 0, 1.0]), day0)
    assert state.reference() is None  # only today's data: nothing to compare with yet
    state.add(day0 + DAY, np.array([0, 1.0, 0, 1.0]), day0 + DAY)
    reference = state.reference()
    assert reference is not None
    slot = int((day0 % DAY) // policy.slot_seconds)
    np.testing.assert_array_equal(reference[slot], [1.0, 0, 0, 1.0])
    # two days later the first day is decayed once more, w2 (column 3) twice as fast
    state.add(day0 + 2 * DAY, np.array([0, 0, 1.0, 1.0]), day0 + 2 * DAY)
    decay = np.exp(-1 / policy.rolling_days)
    np.testing.assert_allclose(state.reference()[slot], [decay, 1.0, 0, decay**2 + 1.0], rtol=1e-6)


def test_spans_older_than_the_window_are_not_counted() -> None:
    state = KeyState(2, (1,), window_seconds=1800, policy=_Policy())
    now = 1_767_225_600.0
    assert not state.add(now - 3600, np.array([1.0, 1.0]), now)
    assert state.add(now - 60, np.array([1.0, 1.0]), now)
    assert sum(row.sum() for row in state.current(now).values()) == 2.0


# --------------------------------------------------------------------------------------------------
# End to end on simulated time
# --------------------------------------------------------------------------------------------------
def _simulate(
    tmp_path: Path,
    shifts: list[Shift],
    *,
    hours_after: float,
    seed: int = 99,
    **kwargs: Any,
) -> dict[str, Any]:
    """Day 1: traffic frozen as the baseline at its end; then traffic from day 2 00:00 on."""
    traffic = Traffic(seed, shifts=shifts, text=False)
    now = [traffic.start_unix]
    monitor = DriftMonitor(_settings(tmp_path), clock=lambda: now[0], **kwargs)
    end_of_run = DAY + hours_after * 3600
    for end, items in traffic.stream(0, end_of_run):
        for attributes, text, time_ns in items:
            monitor.observe(attributes, text, time_ns)
        now[0] = traffic.start_unix + end
        monitor.run_once()
        if end == DAY:
            monitor.freeze_baseline("day1")
    return {"monitor": monitor, "traffic": traffic}


def test_a_shift_is_detected_and_reported_everywhere(tmp_path: Path) -> None:
    """Stationary day 2 until 10:00 raises nothing; a 0.5 sigma latency shift at 10:00 is detected within
    30 minutes, as an event, an audit record, a log record and a gauge."""
    records: list[AuditRecord] = []
    reader = InMemoryMetricReader()
    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    shift = Shift("latency_mean", DAY + 10 * 3600, 0.5)
    result = _simulate(
        tmp_path,
        [shift],
        hours_after=10.75,
        record_sink=records.append,
        meter_provider=MeterProvider(metric_readers=[reader]),
        logger_provider=logger_provider,
    )
    monitor: DriftMonitor = result["monitor"]
    traffic: Traffic = result["traffic"]
    detected = [e for e in monitor.events if e.state == "detected"]
    before = [e for e in detected if e.time_unix_nano / 1e9 < traffic.start_unix + shift.start]
    after = [e for e in detected if e.time_unix_nano / 1e9 >= traffic.start_unix + shift.start]
    assert before == []
    assert after, "the shift was not detected"
    first = after[0]
    delay = first.time_unix_nano / 1e9 - traffic.start_unix - shift.start
    assert delay <= 30 * 60
    assert any(e.result.feature == "latency" for e in after)

    drift_records = [r for r in records if r.kind == "drift"]
    assert drift_records
    assert drift_records[0].attributes[semconv.ATTR_DRIFT_FEATURE] == first.result.feature
    attrs = drift_records[0].attributes
    for name in (
        semconv.DRIFT_SCORE,
        semconv.DRIFT_THRESHOLD,
        semconv.DRIFT_P_VALUE,
        semconv.DRIFT_REFERENCE_COUNT,
        semconv.DRIFT_CURRENT_COUNT,
        semconv.DRIFT_WINDOW,
    ):
        assert name in attrs
    assert attrs[semconv.DRIFT_BASELINE] == "day1"
    assert [r.kind for r in records].count("baseline") == 1

    events = [r.log_record for r in logs.get_finished_logs()]
    assert any(e.event_name == semconv.EVENT_DRIFT for e in events)
    assert any(e.event_name == semconv.EVENT_DRIFT_BASELINE for e in events)

    data = reader.get_metrics_data()
    points: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    assert set(points) >= {
        semconv.METRIC_DRIFT_SCORE,
        semconv.METRIC_DRIFT_P_VALUE,
        semconv.METRIC_DRIFT_DETECTED,
    }
    latency_detected = [
        p
        for p in points[semconv.METRIC_DRIFT_DETECTED]
        if p.attributes[semconv.ATTR_DRIFT_FEATURE] == "latency"
    ]
    assert latency_detected
    assert latency_detected[0].value == 1
    assert latency_detected[0].attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert latency_detected[0].attributes[semconv.ATTR_DRIFT_TEST] == "ks+brown_forsythe"
    # The labels the dashboards and alert rules query are the ones emitted.
    from llm_soc2.provisioning.contract import METRICS

    for spec in METRICS:
        for point in points.get(spec.name, []) if spec.name.startswith("llm_soc2.drift.") else []:
            assert set(spec.attributes) <= set(point.attributes), spec.name
    assert BaselineStore(tmp_path).load("day1").count > 80_000


def test_switching_back_to_a_rolling_reference_is_recorded(tmp_path: Path) -> None:
    records: list[AuditRecord] = []
    monitor = DriftMonitor(_settings(tmp_path), telemetry=False, record_sink=records.append)
    monitor.observe(_attributes())
    baseline = monitor.freeze_baseline("snap", save=False)
    assert monitor.baseline is not None
    assert monitor.baseline.name == "snap"
    monitor.use_baseline(None)
    assert monitor.baseline is None
    actions = [r.attributes[semconv.DRIFT_BASELINE_ACTION] for r in records if r.kind == "baseline"]
    assert actions == ["save", "reset"]
    assert records[0].attributes[semconv.DRIFT_BASELINE_SHA256] == baseline.sha256


def test_a_missing_baseline_name_falls_back_to_rolling(tmp_path: Path) -> None:
    monitor = DriftMonitor(_settings(tmp_path, drift_baseline="nope"), telemetry=False, policy=DriftPolicy())
    assert monitor.baseline is None
