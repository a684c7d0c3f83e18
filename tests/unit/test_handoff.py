"""The background hand-off: bounded, ordered, drained at close, nothing lost, fork-safe."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llm_soc2 import semconv as sc
from llm_soc2.config import Settings
from llm_soc2.handoff import Handoff
from llm_soc2.processor import LLMSpanProcessor, ProcessedInteraction


class Recorder:
    def __init__(self) -> None:
        self.items: list[int] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, item: int) -> None:
        self.gate.wait(10)
        self.threads.add(threading.current_thread().name)
        self.items.append(item)


def test_items_are_handled_in_order_on_the_background_thread() -> None:
    recorder = Recorder()
    handoff = Handoff(recorder, capacity=100, name="test-handoff")
    assert all(handoff.submit(i) for i in range(50))
    assert handoff.flush(10)
    assert recorder.items == list(range(50))
    assert recorder.threads == {"test-handoff"}
    handoff.close(10)


def test_a_full_queue_refuses_instead_of_growing_and_close_drains_it() -> None:
    recorder = Recorder()
    recorder.gate.clear()  # the thread blocks on the first item
    handoff = Handoff(recorder, capacity=3, name="test-handoff")
    assert [handoff.submit(i) for i in range(5)] == [True, True, True, False, False]
    assert handoff.flush(0.05) is False
    recorder.gate.set()
    handoff.close(10)
    assert recorder.items == [0, 1, 2]
    assert handoff.submit(9) is False  # closed


def test_close_handles_what_the_thread_did_not_reach() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    handoff = Handoff(recorder, capacity=10, name="test-handoff")
    for i in range(4):
        handoff.submit(i)
    threading.Timer(0.2, recorder.gate.set).start()
    handoff.close(timeout=0.01)  # the thread is stuck: the rest is handled here
    assert handoff.flush(10)  # the item the thread was stuck on completes too
    assert sorted(recorder.items) == [0, 1, 2, 3]
    assert threading.current_thread().name in recorder.threads


def test_a_failing_handler_does_not_stop_the_thread() -> None:
    seen: list[int] = []

    def handle(item: int) -> None:
        if item == 1:
            raise ValueError("bad item")
        seen.append(item)

    handoff = Handoff(handle, capacity=10, name="test-handoff")
    for i in range(3):
        handoff.submit(i)
    assert handoff.flush(10)
    assert seen == [0, 2]
    handoff.close(10)


def test_concurrent_submitters_lose_nothing_and_flush_waits_for_all() -> None:
    handled: list[int] = []
    handoff = Handoff(handled.append, capacity=64, name="test-handoff")
    inline: list[int] = []

    def submit_many(base: int) -> None:
        for i in range(base, base + 2000):
            if not handoff.submit(i):
                inline.append(i)  # full: the caller handles it, as the processor does

    threads = [threading.Thread(target=submit_many, args=(n * 10_000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handoff.flush(10)
    assert handoff.pending == 0
    assert sorted(handled + inline) == sorted(n * 10_000 + i for n in range(4) for i in range(2000))
    handoff.close(10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
def test_a_forked_child_forgets_the_parents_queue_and_starts_its_own_thread() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    handoff = Handoff(recorder, capacity=10, name="test-handoff")
    handoff.submit(1)
    handoff.submit(2)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its queue is empty, a new item is handled by a new thread
        os.close(read)
        recorder.gate.set()
        ok = handoff.pending == 0 and handoff.submit(3) and handoff.flush(10) and recorder.items == [3]
        os.write(write, b"ok" if ok else repr(recorder.items).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    assert answer == b"ok"
    recorder.gate.set()
    handoff.close(10)
    assert recorder.items == [1, 2]


def _genai_span(provider: TracerProvider, name: str = "chat gpt-4o") -> None:
    with provider.get_tracer("test").start_as_current_span(name) as span:
        span.set_attributes({sc.GEN_AI_OPERATION_NAME: "chat", sc.GEN_AI_REQUEST_MODEL: "gpt-4o"})


def test_the_processor_works_off_the_ending_thread_and_falls_back_to_it_when_full(tmp_path: Path) -> None:
    settings = Settings.from_env({"LLM_SOC2_DATA_DIR": str(tmp_path), "LLM_SOC2_PROCESSOR_QUEUE_SIZE": "1"})
    assert settings.processor_background
    gate = threading.Event()
    threads: list[str] = []

    def sink(interaction: ProcessedInteraction) -> None:
        gate.wait(10)
        threads.append(threading.current_thread().name)

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        LLMSpanProcessor(SimpleSpanProcessor(exporter), settings=settings, sinks=[sink])
    )
    _genai_span(provider)  # handed over; the background thread blocks in the sink
    assert exporter.get_finished_spans() == ()
    gate.set()
    provider.force_flush()
    assert threads == ["llm-soc2-span-processor"]
    _genai_span(provider)
    provider.force_flush()
    assert len(exporter.get_finished_spans()) == 2

    gate.clear()
    _genai_span(provider)  # blocks the thread again ...
    threading.Timer(1.0, gate.set).start()
    for _ in range(3):  # ... so with a queue of one, some of these are processed right here
        _genai_span(provider)
    provider.shutdown()  # drains: every span reached the exporter
    assert len(exporter.get_finished_spans()) == 6
    assert threading.current_thread().name in threads


def test_with_background_off_the_span_is_processed_before_end_returns(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"LLM_SOC2_DATA_DIR": str(tmp_path), "LLM_SOC2_PROCESSOR_BACKGROUND": "false"}
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(LLMSpanProcessor(SimpleSpanProcessor(exporter), settings=settings))
    _genai_span(provider)
    assert len(exporter.get_finished_spans()) == 1
    provider.shutdown()


def test_client_histograms_are_recorded_in_the_background_and_drained_at_close(tmp_path: Path) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from llm_soc2.instrumentation._telemetry import Telemetry

    reader = InMemoryMetricReader()
    telemetry = Telemetry(
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(metric_readers=[reader]),
        settings=Settings.from_env({"LLM_SOC2_DATA_DIR": str(tmp_path)}),
    )
    span = telemetry.tracer.start_span("chat gpt-4o")
    for _ in range(100):
        telemetry.record([(telemetry.duration, 0.25, {sc.GEN_AI_OPERATION_NAME: "chat"})], span)
    span.end()
    thread = telemetry._metrics._thread if telemetry._metrics is not None else None
    assert thread is not None
    assert thread.name == "llm-soc2-client-metrics"
    telemetry.close()
    assert not thread.is_alive()
    data = reader.get_metrics_data()
    assert data is not None
    (point,) = [
        p
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == sc.METRIC_OPERATION_DURATION
        for p in m.data.data_points
    ]
    assert point.count == 100
    assert point.sum == 25.0
