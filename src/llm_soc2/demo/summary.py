"""A short text summary of the spans the demo recorded."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from llm_soc2 import semconv


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def summarize(spans: Iterable[Mapping[str, Any]]) -> list[str]:
    """Lines describing GenAI spans by operation and model: calls, tokens, errors; PII and risk."""
    rows: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: Counter())
    pii: Counter[str] = Counter()
    risk: Counter[str] = Counter()
    total = 0
    for span in spans:
        attributes = span.get("attributes") or {}
        operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
        if operation is None:
            continue
        total += 1
        key = (
            str(attributes.get(semconv.GEN_AI_PROVIDER_NAME, "?")),
            str(operation),
            str(attributes.get(semconv.GEN_AI_REQUEST_MODEL, "?")),
        )
        row = rows[key]
        row["calls"] += 1
        row["input"] += _int(attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS))
        row["output"] += _int(attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS))
        row["errors"] += 1 if semconv.ERROR_TYPE in attributes else 0
        row["streams"] += 1 if attributes.get(semconv.GEN_AI_REQUEST_STREAM) is True else 0
        for entity in attributes.get(semconv.PII_TYPES) or ():
            pii[str(entity)] += 1
        level = attributes.get(semconv.RISK_LEVEL)
        if isinstance(level, str):
            risk[level] += 1
    if not total:
        return ["No GenAI spans were recorded."]
    lines = [f"{total} GenAI spans:"]
    width = max(len(f"{provider} {op} {model}") for provider, op, model in rows)
    for (provider, operation, model), row in sorted(rows.items()):
        label = f"{provider} {operation} {model}".ljust(width)
        lines.append(
            f"  {label}  calls {row['calls']:>2}  streamed {row['streams']:>2}  "
            f"tokens in/out {row['input']:>5}/{row['output']:<5}  errors {row['errors']}"
        )
    if pii:
        found = ", ".join(f"{entity} x{count}" for entity, count in sorted(pii.items()))
        lines.append(f"  personal data found and scrubbed before export: {found}")
    if risk:
        lines.append(
            "  risk levels: " + ", ".join(f"{level} {count}" for level, count in sorted(risk.items()))
        )
    return lines
