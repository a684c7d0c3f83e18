"""``llm-soc2 demo``: the whole product on embedded defaults, no external servers.

The demo is a list of steps (``STEPS``), each a small function of the ``DemoContext`` that returns a
one-line note. The first steps run a sample application (real ``openai`` and ``anthropic`` clients
against the local fake provider, through ``llm_soc2.configure()``); ``export_telemetry`` then flushes
spans to ``spans.jsonl`` and metrics to ``metrics.prom``. Later features add their steps after it,
e.g. ``STEPS.append(DemoStep("Verify the audit log", verify_audit))``.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import anthropic
    import openai
    from opentelemetry.sdk.metrics.export import MetricReader

    from llm_soc2.config import Settings
    from llm_soc2.pipeline import Pipeline
    from llm_soc2.testing import FakeProvider

DEFAULT_OUT = Path("llm-soc2-demo")


@dataclass
class DemoContext:
    """What the steps share. ``results`` is free for steps to hand data to later steps."""

    out: Path
    settings: Settings
    fake: FakeProvider
    pipeline: Pipeline
    openai: openai.OpenAI
    anthropic: anthropic.Anthropic
    openai_key: str
    metric_reader: MetricReader
    metrics_registry: Any
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def spans_path(self) -> Path:
        return self.out / "spans.jsonl"

    @property
    def metrics_path(self) -> Path:
        return self.out / "metrics.prom"


@dataclass(frozen=True)
class DemoStep:
    title: str
    run: Callable[[DemoContext], str]


def export_telemetry(ctx: DemoContext) -> str:
    """Flush the pipeline: spans to spans.jsonl, metrics (Prometheus text format) to metrics.prom."""
    from prometheus_client import generate_latest

    ctx.pipeline.force_flush()
    ctx.metrics_path.write_bytes(generate_latest(ctx.metrics_registry))
    return f"wrote {ctx.spans_path.name} and {ctx.metrics_path.name}"


def _steps() -> list[DemoStep]:
    from llm_soc2.demo import app, evidence

    return [
        DemoStep("OpenAI chat completions", app.openai_chats),
        DemoStep("OpenAI streamed chat", app.openai_stream),
        DemoStep("OpenAI tool call", app.openai_tool_call),
        DemoStep("OpenAI embeddings", app.openai_embeddings),
        DemoStep("Anthropic messages", app.anthropic_messages),
        DemoStep("Provider errors", app.provider_errors),
        DemoStep("Traffic shift and drift detection", evidence.traffic_shift),
        DemoStep("API key rotation", evidence.key_rotation),
        DemoStep("Unapproved prompt change, then approval", evidence.prompt_change),
        DemoStep("Incident opened by an alert", evidence.incident_from_alert),
        DemoStep("Retention and erasure", evidence.retention_and_erasure),
        DemoStep("Export telemetry", export_telemetry),
        DemoStep("Seal and verify the audit log", evidence.seal_audit_log),
        DemoStep("SOC 2 report", evidence.write_report),
    ]


STEPS: list[DemoStep] = _steps()


@dataclass
class DemoResult:
    out: Path
    notes: list[tuple[str, str, float]]  # (title, note, seconds)
    context: DemoContext


def run(out: Path = DEFAULT_OUT, *, progress: Callable[[str], None] = print) -> DemoResult:
    """Run every step in ``STEPS``; ``progress`` receives one line per step."""
    import anthropic
    import openai
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry

    from llm_soc2 import pipeline as pipeline_module
    from llm_soc2.config import Settings
    from llm_soc2.demo import evidence
    from llm_soc2.demo.exporters import JsonLinesSpanExporter
    from llm_soc2.testing import FakeProvider

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LLM_SOC2_DATA_DIR", str(out / "data"))
    os.environ.setdefault("OTEL_SERVICE_NAME", "llm-soc2-demo")
    os.environ.setdefault("LLM_SOC2_PROMPT_REGISTRY", str(out / "llm-soc2.prompts.yaml"))
    settings = Settings.from_env()
    evidence.seed_registry(settings)
    registry = CollectorRegistry()
    reader = PrometheusMetricReader(registry=registry)
    notes: list[tuple[str, str, float]] = []
    with FakeProvider() as fake:
        pipeline = pipeline_module.configure(
            settings,
            span_exporters=[JsonLinesSpanExporter(out / "spans.jsonl")],
            metric_readers=[reader],
            log_exporters=[],
        )
        openai_key = "sk-demo-" + secrets.token_hex(16)
        ctx = DemoContext(
            out=out,
            settings=settings,
            fake=fake,
            pipeline=pipeline,
            openai=openai.OpenAI(base_url=fake.openai.base_url, api_key=openai_key, max_retries=0),
            anthropic=anthropic.Anthropic(
                base_url=fake.anthropic.base_url,
                api_key="sk-ant-demo-" + secrets.token_hex(16),
                max_retries=0,
            ),
            openai_key=openai_key,
            metric_reader=reader,
            metrics_registry=registry,
        )
        try:
            for number, step in enumerate(STEPS, start=1):
                started = time.perf_counter()
                note = step.run(ctx)
                seconds = time.perf_counter() - started
                notes.append((step.title, note, seconds))
                progress(f"[{number}/{len(STEPS)}] {step.title}: {note} ({seconds:.2f}s)")
        finally:
            ctx.openai.close()
            ctx.anthropic.close()
            pipeline_module.shutdown()
    return DemoResult(out, notes, ctx)
