"""Operations: CC9.2 (vendors inventoried), A1.1 (availability and latency), PI1.3, PI1.4."""

from __future__ import annotations

import math
from array import array
from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.report.checks import Context, Outcome, check, decide, fmt_pct, not_evidenced, pct
from llm_soc2.report.evidence import ExceptionItem, from_ns, iso
from llm_soc2.report.sources.audit import ModelStats

QUANTILES = (0.5, 0.95, 0.99)


def percentiles(values: array[float], quantiles: tuple[float, ...] = QUANTILES) -> dict[float, float | None]:
    """Nearest-rank percentiles (the value below which q of the observations fall)."""
    if not values:
        return dict.fromkeys(quantiles)
    ordered = sorted(values)
    n = len(ordered)
    return {q: ordered[max(0, min(n - 1, math.ceil(q * n) - 1))] for q in quantiles}


def latency(stats: ModelStats) -> dict[float, float | None]:
    """The latency percentiles of a model's calls, sorted once however often they are asked for."""
    if stats.quantiles is None:
        stats.quantiles = percentiles(stats.durations)
    return stats.quantiles


def by_model(ctx: Context) -> dict[str, ModelStats]:
    """Audit statistics merged per model name (a model served by two providers is two vendors, kept apart
    in the vendor inventory, but one model for availability). Merged once per report."""
    if ctx.audit.per_model is not None:
        return ctx.audit.per_model
    merged: dict[str, ModelStats] = {}
    for (provider, model), stats in sorted(ctx.audit.models.items()):
        entry = merged.get(model)
        if entry is None:
            merged[model] = entry = ModelStats(
                provider, model, first_ns=stats.first_ns, last_ns=stats.last_ns
            )
        entry.calls += stats.calls
        entry.errors += stats.errors
        entry.error_types.update(stats.error_types)
        entry.durations.extend(stats.durations)
    ctx.audit.per_model = merged
    return merged


@check("CC9.2")
def vendors_inventoried(ctx: Context) -> Outcome:
    audit = ctx.audit
    if not audit.models:
        return not_evidenced("no interaction in the period names a model", evidence=["audit.models"])
    figures: dict[str, Any] = {}
    unnamed = 0
    for (provider, model), stats in sorted(audit.models.items()):
        if not provider:
            unnamed += stats.calls
        figures[f"{provider or '(no provider)'} / {model or '(no model)'}"] = (
            f"{stats.calls:,} calls, {fmt_pct(pct(stats.errors, stats.calls), 2)} failed, "
            f"{stats.input_tokens + stats.output_tokens:,} tokens, {stats.pii_input_calls:,} prompts with personal "
            f"data; used {iso(from_ns(stats.first_ns))[:10]} to {iso(from_ns(stats.last_ns))[:10]}"
        )
    exceptions = []
    if unnamed:
        exceptions.append(
            ExceptionItem(
                f"{unnamed:,} interactions name no provider (gen_ai.provider.name): their vendor is unknown",
                "interactions without gen_ai.provider.name",
                count=unnamed,
            )
        )
    providers = {p for p, _ in audit.models if p}
    summary = f"{len(providers)} LLM providers and {len({m for _, m in audit.models})} models in use."
    return decide(exceptions, summary, figures=figures, evidence=["audit.models"], tested=audit.interactions)


@check("A1.1")
def capacity(ctx: Context) -> Outcome:
    objectives = ctx.objectives
    models = by_model(ctx)
    prom = ctx.prometheus
    if not models and (prom is None or not prom.models):
        return not_evidenced("no LLM call in the period: there is no availability or latency to measure",
                             evidence=["audit.interactions"])  # fmt: skip
    figures: dict[str, Any] = {
        "availability objective": fmt_pct(objectives.availability, 2),
        "p95 latency objective (s)": objectives.latency_p95,
    }
    exceptions: list[ExceptionItem] = []
    notes: list[str] = []
    evidence = ["audit.models", "audit.interactions"]
    counted_models = prom.models if prom is not None else {}
    for model in sorted(set(models) | set(counted_models)):
        stats = models.get(model)
        availability = 1 - stats.errors / stats.calls if stats and stats.calls else None
        source = "audit log"
        if model in counted_models and counted_models[model].calls:
            counted = counted_models[model]
            availability = 1 - counted.errors / counted.calls
            source = "Prometheus"
        if stats is not None and stats.durations:
            p = latency(stats)
        else:  # only Prometheus saw this model: its histogram quantiles
            quantiles = counted_models[model].quantiles if model in counted_models else {}
            p = {q: quantiles.get(str(q)) for q in QUANTILES}
        p95 = p[0.95]
        figures[f"{model}: availability ({source})"] = fmt_pct(availability, 3)
        figures[f"{model}: latency p50 / p95 / p99 (s)"] = " / ".join(
            "n/a" if v is None else f"{v:.3f}" for v in p.values()
        )
        if availability is not None and availability < objectives.availability:
            exceptions.append(
                ExceptionItem(
                    f"{model}: availability {fmt_pct(availability, 3)} is below the objective "
                    f"{fmt_pct(objectives.availability, 2)} ({source})",
                    f"model {model}",
                )
            )
        if p95 is not None and p95 > objectives.latency_p95:
            exceptions.append(
                ExceptionItem(
                    f"{model}: p95 latency {p95:.2f} s is above the objective {objectives.latency_p95:g} s",
                    f"model {model}",
                )
            )
    if prom is None:
        notes.append(
            "Prometheus was not queried: availability comes from the audit log and gaps are not checked."
        )
    else:
        evidence += ["prometheus.calls", "prometheus.latency", "prometheus.gaps"]
        long_gaps = [g for g in prom.gaps if g.end - g.start > objectives.max_gap_seconds]
        figures["telemetry gaps over the limit"] = len(long_gaps)
        for gap in long_gaps:
            start = from_ns(int(gap.start * 1e9))
            exceptions.append(
                ExceptionItem(
                    f"no LLM call metrics for {(gap.end - gap.start) / 3600:.2f} h from {iso(start)}: availability "
                    "could not be measured then",
                    "telemetry gap",
                    start,
                )
            )
    summary = (
        f"{len(models)} models measured against {fmt_pct(objectives.availability, 2)} availability and "
        f"{objectives.latency_p95:g} s p95 latency."
    )
    return decide(exceptions, summary, figures=figures, evidence=evidence, tested=ctx.audit.interactions,
                  notes=notes)  # fmt: skip


@check("PI1.3")
def processing_complete(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.pii_summarised == 0 and audit.risk_assessed == 0:
        return not_evidenced(
            "no interaction carries the span processor's results (scrub summary, risk assessment)",
            evidence=["audit.interactions"],
        )
    exceptions: list[ExceptionItem] = []
    unprocessed = audit.interactions - min(audit.pii_summarised, audit.risk_assessed)
    if unprocessed > 0:
        exceptions.append(
            ExceptionItem(
                f"{unprocessed:,} interactions lack the scrub summary or the risk assessment",
                "unprocessed interactions",
                count=unprocessed,
            )
        )
    if audit.scrub_errors:
        exceptions.append(
            ExceptionItem(
                f"scrubbing failed on {audit.scrub_errors:,} interactions (their content was dropped)",
                "scrub failures",
                count=audit.scrub_errors,
            )
        )
    figures: dict[str, Any] = {
        "interactions": audit.interactions,
        "failed LLM calls": audit.errors,
        "failure rate": fmt_pct(pct(audit.errors, audit.interactions), 3),
    }
    for error, count in audit.error_types.most_common():
        figures[f"error {error}"] = count
    summary = f"{audit.interactions:,} interactions processed; {audit.errors:,} LLM calls failed, each with its error type."
    return decide(
        exceptions, summary, figures=figures, evidence=["audit.interactions"], tested=audit.interactions
    )


OUTPUT_CATEGORIES = (sc.RISK_TRUNCATION, sc.RISK_INVALID_OUTPUT, sc.RISK_UNGROUNDED, sc.RISK_REFUSAL)


@check("PI1.4")
def outputs_checked(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.risk_assessed == 0:
        return not_evidenced(
            "no interaction carries a risk assessment (llm_soc2.risk.level): outputs are not checked",
            evidence=["audit.interactions"],
        )
    figures: dict[str, Any] = {"interactions assessed": audit.risk_assessed}
    for category in OUTPUT_CATEGORIES:
        count = audit.risk_categories.get(category, 0)
        figures[f"{category.replace('_', ' ')}"] = (
            f"{count:,} ({fmt_pct(pct(count, audit.risk_assessed), 2)})"
        )
    for level in ("low", "medium", "high", "critical"):
        figures[f"risk level {level}"] = audit.risk_levels.get(level, 0)
    missing = audit.interactions - audit.risk_assessed
    exceptions = (
        [ExceptionItem(f"{missing:,} interactions carry no risk assessment", "unassessed", count=missing)]
        if missing > 0
        else []
    )
    flagged = sum(audit.risk_categories.get(c, 0) for c in OUTPUT_CATEGORIES)
    summary = f"{audit.risk_assessed:,} outputs assessed; {flagged:,} flags for truncated, invalid, ungrounded or refused output."
    return decide(exceptions, summary, figures=figures, evidence=["audit.risk-events", "audit.interactions"],
                  tested=audit.interactions)  # fmt: skip
