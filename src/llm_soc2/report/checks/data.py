"""Data protection and privacy: CC6.7, C1.1, C1.2, P4.2, P4.3, P6.1, P6.2, P6.3."""

from __future__ import annotations

from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import ATTR_CONTENT_ROWS, ATTR_ERASURE_SUBJECT, KIND_ERASURE, KIND_PURGE
from llm_soc2.report.checks import Context, Outcome, check, decide, fmt_pct, not_evidenced, pct
from llm_soc2.report.checks.incidents import incidents
from llm_soc2.report.evidence import ExceptionItem, from_ns, iso
from llm_soc2.report.sources.audit import events

NO_SCRUB = (
    "no interaction carries the scrubber's summary (llm_soc2.pii.count): content scrubbing is not running in "
    "the span processor"
)


def _missing_summaries(ctx: Context) -> list[ExceptionItem]:
    audit = ctx.audit
    missing = audit.interactions - audit.pii_summarised
    if missing <= 0:
        return []
    return [
        ExceptionItem(
            f"{missing:,} interactions carry no scrubber summary (not processed by the span processor)",
            "interactions without llm_soc2.pii.count",
            count=missing,
        )
    ]


def _pii_figures(ctx: Context) -> dict[str, Any]:
    audit = ctx.audit
    figures: dict[str, Any] = {
        "interactions": audit.interactions,
        "interactions with personal data or secrets": audit.pii_interactions,
        "share of interactions": fmt_pct(pct(audit.pii_interactions, audit.interactions), 2),
        "findings": audit.pii_findings,
        "in prompts": audit.pii_input_interactions,
        "in responses": audit.pii_output_interactions,
    }
    for entity, count in audit.pii_types.most_common():
        figures[f"type {entity}"] = count
    return figures


@check("CC6.7")
def scrubbed_before_export(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.pii_summarised == 0:
        return not_evidenced(NO_SCRUB, evidence=["audit.interactions"])
    exceptions = _missing_summaries(ctx)
    exceptions += [
        ExceptionItem(
            "scrubbing failed but content was stored (the processor did not fail closed)",
            f"log {lid} seq {seq}",
            from_ns(t),
        )
        for lid, seq, t in audit.scrub_error_with_content
    ]
    figures = _pii_figures(ctx)
    figures["scrub failures (content dropped)"] = audit.scrub_errors - audit.scrub_error_with_content_total
    figures["scrub failures with content stored"] = audit.scrub_error_with_content_total
    hosts: dict[str, int] = {}
    for stats in audit.models.values():
        for host, count in stats.hosts.items():
            hosts[f"{stats.provider} {host}"] = hosts.get(f"{stats.provider} {host}", 0) + count
    for destination, count in sorted(hosts.items()):
        figures[f"egress to {destination}"] = count
    total = (audit.interactions - audit.pii_summarised) + audit.scrub_error_with_content_total
    summary = (
        f"{audit.pii_interactions:,} of {audit.interactions:,} interactions held personal data or secrets, "
        f"removed before export; {audit.scrub_errors:,} scrub failures."
    )
    return decide(
        exceptions, summary, figures=figures, evidence=["audit.pii-findings", "audit.interactions", "audit.models"],
        tested=audit.interactions, exceptions_total=total,
    )  # fmt: skip


@check("C1.1")
def confidential_identified(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.pii_summarised == 0:
        return not_evidenced(NO_SCRUB, evidence=["audit.interactions"])
    summary = f"{audit.pii_findings:,} findings of {len(audit.pii_types)} types in {audit.pii_interactions:,} interactions."
    return decide(
        _missing_summaries(ctx), summary, figures=_pii_figures(ctx), evidence=["audit.pii-findings"],
        tested=audit.interactions,
    )  # fmt: skip


def _retention_exceptions(ctx: Context) -> list[ExceptionItem]:
    audit = ctx.audit
    return [
        ExceptionItem(
            f"content of a record from {iso(from_ns(t))} is still stored after the {audit.retention_days}-day "
            "retention period",
            f"log {lid} seq {seq}",
            from_ns(t),
        )
        for lid, seq, t in audit.retention_violations
    ]


def _retention_figures(ctx: Context) -> dict[str, Any]:
    audit = ctx.audit
    return {
        "retention period (days)": audit.retention_days,
        "interactions with stored content": audit.content_committed,
        "records past retention at the period end": audit.retention_candidates,
        "of which content still stored": audit.retention_violations_total,
        "purges recorded in the period": len(events(audit, (KIND_PURGE,))),
    }


@check("C1.2")
def confidential_disposed(ctx: Context) -> Outcome:
    audit = ctx.audit
    figures = _retention_figures(ctx)
    purges = events(audit, (KIND_PURGE,))
    if audit.content_committed == 0:
        return decide([], "No content is stored with the audit records: nothing to dispose of.", figures=figures,
                      evidence=["audit.interactions"], tested=0)  # fmt: skip
    if not purges:
        return not_evidenced(
            f"{audit.content_committed:,} interactions stored content but no purge ran in the period "
            "(schedule `llm-soc2 audit purge`)",
            figures=figures,
            evidence=["audit.disposals", "audit.interactions"],
        )
    removed = sum(int(p.attributes.get(ATTR_CONTENT_ROWS, 0) or 0) for p in purges)
    figures["content blobs removed by purges"] = removed
    summary = (
        f"{len(purges)} purge records; {audit.retention_violations_total:,} records kept content too long."
    )
    return decide(
        _retention_exceptions(ctx), summary, figures=figures, evidence=["audit.disposals", "audit.interactions"],
        tested=audit.retention_candidates, exceptions_total=audit.retention_violations_total,
    )  # fmt: skip


@check("P4.2")
def retained_no_longer(ctx: Context) -> Outcome:
    audit = ctx.audit
    summary = (
        f"{audit.retention_candidates:,} records were older than the {audit.retention_days}-day retention period at "
        f"the period end; {audit.retention_violations_total:,} still held content."
    )
    return decide(
        _retention_exceptions(ctx), summary, figures=_retention_figures(ctx),
        evidence=["audit.interactions", "audit.disposals"], tested=audit.retention_candidates,
        exceptions_total=audit.retention_violations_total,
    )  # fmt: skip


@check("P4.3")
def erasures_done(ctx: Context) -> Outcome:
    erasures = events(ctx.audit, (KIND_ERASURE,))
    if not erasures:
        return not_evidenced("no erasure request was recorded in the period", evidence=["audit.disposals"])
    started: dict[str, int] = {}
    done: set[str] = set()
    for event in erasures:
        subject = str(event.attributes.get(ATTR_ERASURE_SUBJECT, ""))
        if event.attributes.get("llm_soc2.erasure.phase") == "done":
            done.add(subject)
        else:
            started.setdefault(subject, event.time_ns)
    exceptions = [
        ExceptionItem(
            f"erasure of subject {subject} requested {iso(from_ns(t))} never completed",
            f"subject {subject}",
            from_ns(t),
        )
        for subject, t in started.items()
        if subject not in done
    ]
    figures = {"erasure requests": len(started), "completed": len(done & set(started))}
    summary = f"{len(started)} erasure requests; {figures['completed']} completed (data keys destroyed)."
    return decide(exceptions, summary, figures=figures, evidence=["audit.disposals"], tested=len(started))


def _disclosures(ctx: Context) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for (provider, model), stats in sorted(ctx.audit.models.items()):
        if stats.pii_input_calls:
            types = ", ".join(f"{k} {v}" for k, v in stats.pii_input_types.most_common())
            figures[f"{provider or '(no provider)'} / {model}"] = (
                f"{stats.pii_input_calls:,} prompts from {len(stats.pii_subjects):,} data subjects ({types})"
            )
    return figures


@check("P6.1")
def disclosures_known(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.pii_summarised == 0:
        return not_evidenced(NO_SCRUB, evidence=["audit.interactions"])
    figures = _disclosures(ctx) or {"prompts with personal data": 0}
    summary = f"{audit.pii_input_interactions:,} prompts sent personal data to LLM providers."
    return decide(
        [], summary, figures=figures, evidence=["audit.pii-findings", "audit.models"], tested=audit.interactions,
        notes=["Consent and purpose are not visible in telemetry; this record shows what was disclosed to whom."],
    )  # fmt: skip


@check("P6.2")
def disclosure_record(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.pii_summarised == 0:
        return not_evidenced(NO_SCRUB, evidence=["audit.interactions"])
    figures = {"disclosures recorded": audit.pii_input_interactions, **_disclosures(ctx)}
    summary = f"The disclosure record holds {audit.pii_input_interactions:,} prompts with personal data."
    return decide(_missing_summaries(ctx), summary, figures=figures, evidence=["audit.pii-findings"],
                  tested=audit.interactions)  # fmt: skip


@check("P6.3")
def unauthorised_recorded(ctx: Context) -> Outcome:
    audit = ctx.audit
    if audit.pii_summarised == 0:
        return not_evidenced(NO_SCRUB, evidence=["audit.interactions"])
    leakage = audit.risk_categories.get(sc.RISK_DATA_LEAKAGE, 0)
    opened = [i for i in incidents(ctx) if ctx.period.start_ns <= i.opened_ns < ctx.period.end_ns]
    figures: dict[str, Any] = {
        "responses with personal data": audit.pii_output_interactions,
        "data-leakage risk events": leakage,
        "incidents opened in the period": len(opened),
    }
    for entity, count in audit.pii_output_types.most_common():
        figures[f"in responses: {entity}"] = count
    exceptions = []
    if (leakage or audit.pii_output_interactions) and not opened:
        exceptions.append(
            ExceptionItem(
                f"{leakage:,} data-leakage events and {audit.pii_output_interactions:,} responses with personal data "
                "were recorded but no incident was opened to assess them",
                "possible disclosures",
                count=max(leakage, audit.pii_output_interactions),
            )
        )
    summary = f"{audit.pii_output_interactions:,} responses held personal data; {leakage:,} data-leakage risk events."
    return decide(exceptions, summary, figures=figures, evidence=["audit.pii-findings", "audit.risk-events",
                                                                  "audit.incidents"],
                  tested=audit.interactions)  # fmt: skip
