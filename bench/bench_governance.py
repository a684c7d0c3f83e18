"""Cost of the governance enrichers per GenAI span, against anchors measured in the same run.

Prints, per span (median and p90, microseconds):
- anchor: start+end of one span through the bare OpenTelemetry SDK (no processor);
- anchor: copying the span's attributes into a dict (what any enricher pays at least);
- ChangeTracker (registry present, versions already seen: the steady state);
- AccessTracker (allow-list policy, key and end user already seen; 10 000 distinct end users active);
- both enrichers together, and their ratio to the bare-SDK span.

Run: ``.venv/bin/python bench/bench_governance.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from llm_soc2 import semconv as sc
from llm_soc2.config import Settings
from llm_soc2.governance import Governance
from llm_soc2.processor import ProcessedInteraction

REPEAT = 20_000
HASH = "0123456789abcdef"
KEY = "00000000000000aa"


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.9)] * 1e6


def _time(fn: Callable[[], object], repeat: int = REPEAT) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return _stats(samples)


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="llm-soc2-bench-governance-"))
    registry = directory / "llm-soc2.prompts.yaml"
    registry.write_text(
        f"prompts:\n  {HASH}: {{approver: a, ticket: T-1, date: '2025-01-01'}}\n"
        "models:\n  gpt-4o-2024-08-06: {approver: a, ticket: T-2, date: '2025-01-01'}\n"
    )
    settings = Settings(
        service_name="bench",
        environment="production",
        data_dir=directory / "data",
        secret_key_hex="5a" * 32,
        prompt_registry=str(registry),
        key_allowlist=(KEY,),
    )
    submitted: list[object] = []
    governance = Governance(
        settings, submit=submitted.append, meter_provider=MeterProvider(), audit_url="", refresh_interval=3600
    )
    provider = TracerProvider(resource=Resource.create({sc.SERVICE_NAME: "bench"}))
    tracer = provider.get_tracer("bench")
    attributes = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06",
        sc.PROMPT_TEMPLATE_HASH: HASH,
        sc.API_KEY_FINGERPRINT: KEY,
        sc.END_USER_HASH: "00000000000000ee",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 120,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 80,
    }
    with tracer.start_as_current_span("chat gpt-4o", attributes=attributes) as span:
        pass
    assert isinstance(span, ReadableSpan)
    for i in range(10_000):  # a realistic population of active end users
        governance.access(ProcessedInteraction(span, {**attributes, sc.END_USER_HASH: f"{i:016x}"}, None))

    def bare_span() -> None:
        with tracer.start_as_current_span("chat gpt-4o", attributes=attributes):
            pass

    def copy_only() -> None:
        dict(attributes)

    def changes() -> None:
        governance.changes(ProcessedInteraction(span, dict(attributes), None))

    def access() -> None:
        governance.access(ProcessedInteraction(span, dict(attributes), None))

    def both() -> None:
        interaction = ProcessedInteraction(span, dict(attributes), None)
        governance.changes(interaction)
        governance.access(interaction)

    for fn in (bare_span, copy_only, changes, access, both):  # warm up
        _time(fn, 2000)
    sdk_median, sdk_p90 = _time(bare_span)
    copy_median, copy_p90 = _time(copy_only)
    rows = [
        ("anchor: bare SDK span start+end", sdk_median, sdk_p90),
        ("anchor: dict(attributes)", copy_median, copy_p90),
        ("ChangeTracker (steady state)", *_time(changes)),
        ("AccessTracker (steady state)", *_time(access)),
        ("both enrichers", *_time(both)),
    ]
    print(f"governance enrichers, per GenAI span ({REPEAT} runs each)")
    for name, median, p90 in rows:
        print(
            f"  {name:34s} median {median:7.2f} us   p90 {p90:7.2f} us   x{median / sdk_median:5.2f} of a bare span"
        )
    print(f"  change records written: {sum(1 for r in submitted if getattr(r, 'kind', '') == 'change')}")
    provider.shutdown()


if __name__ == "__main__":
    main()
