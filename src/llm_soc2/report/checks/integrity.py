"""Completeness and integrity of the record: CC2.1, PI1.2, PI1.5."""

from __future__ import annotations

import itertools

from llm_soc2.report.checks import Context, Outcome, check, decide, fmt_pct, not_evidenced
from llm_soc2.report.evidence import ExceptionItem, from_ns, iso


def integrity_exceptions(ctx: Context) -> list[ExceptionItem]:
    """What the verification of each log over the period found wrong."""
    out: list[ExceptionItem] = [
        ExceptionItem(
            f"record {seq} of log {lid!r} has a body that cannot be decoded", f"log {lid} seq {seq}"
        )
        for lid, seq in ctx.audit.undecodable[:1000]
    ]
    for lid, info in sorted(ctx.audit.integrity.items()):
        if info.verify_error:
            out.append(ExceptionItem(f"log {lid!r} could not be verified: {info.verify_error}", f"log {lid}"))
        elif not info.verify_ok:
            bad = info.verify.get("first_bad_seq")
            out.append(
                ExceptionItem(
                    f"log {lid!r} failed verification: {info.verify.get('reason', 'unknown reason')}",
                    f"log {lid} seq {bad}" if bad is not None else f"log {lid}",
                )
            )
        if info.covering is None:
            out.append(
                ExceptionItem(
                    f"no signed checkpoint of log {lid!r} covers the period's last record (seq {info.last_seq}): "
                    "the period cannot be bound to a signed tree head",
                    f"log {lid} seq {info.last_seq}",
                )
            )
    return out


def _integrity_figures(ctx: Context) -> dict[str, object]:
    figures: dict[str, object] = {}
    for lid, info in sorted(ctx.audit.integrity.items()):
        prefix = f"{lid}: " if len(ctx.audit.integrity) > 1 else ""
        figures[f"{prefix}records in the period"] = info.records_in_period
        figures[f"{prefix}sequence range"] = f"{info.first_seq}..{info.last_seq}"
        figures[f"{prefix}records re-hashed by verification"] = info.verify.get("records_checked", 0)
        if info.covering is not None:
            figures[f"{prefix}covering checkpoint"] = (
                f"size {info.covering.size}, signed {iso(from_ns(info.covering.time_unix_nano))}"
            )
        figures[f"{prefix}verification"] = "passed" if info.verify_ok else "FAILED"
    return figures


@check("CC2.1")
def log_integrity(ctx: Context) -> Outcome:
    audit = ctx.audit
    exceptions = integrity_exceptions(ctx)
    notes = []
    for lid, info in sorted(audit.integrity.items()):
        interleaved = (info.last_seq - info.first_seq + 1) - info.records_in_period
        if interleaved > 0:
            notes.append(
                f"log {lid!r}: {interleaved} records inside the period's sequence range carry times outside "
                "the period (clock order differs from append order); verification shows none is missing."
            )
    verified = sum(1 for info in audit.integrity.values() if info.verify_ok)
    summary = (
        f"{audit.total_records:,} records ({audit.interactions:,} interactions) in {len(audit.integrity)} log(s); "
        f"{verified} of {len(audit.integrity)} verified against their signed checkpoints."
    )
    return decide(
        exceptions,
        summary,
        figures=_integrity_figures(ctx),
        evidence=["audit.verification", "audit.checkpoints", "audit.interactions"],
        tested=audit.total_records,
        notes=notes,
    )


@check("PI1.2")
def capture_complete(ctx: Context) -> Outcome:
    audit = ctx.audit
    exceptions = integrity_exceptions(ctx)
    figures: dict[str, object] = {"interactions in the audit log": audit.interactions}
    notes: list[str] = []
    evidence = ["audit.verification", "audit.interactions"]
    prom = ctx.prometheus
    if audit.interactions == 0 and (prom is None or prom.total_calls == 0):
        return not_evidenced(
            "no LLM interaction in the period: there is nothing to capture", evidence=evidence
        )
    if prom is None:
        notes.append(
            "Prometheus was not queried: the count is not reconciled with the client operation counter; "
            "completeness rests on the log's verified sequence."
        )
    else:
        evidence.append("prometheus.calls")
        tolerance = ctx.objectives.reconcile_tolerance
        figures["LLM calls counted by Prometheus"] = round(prom.total_calls, 3)
        difference = audit.interactions - prom.total_calls
        figures["difference (audit log - Prometheus)"] = round(difference, 3)
        audit_by_model: dict[str, int] = {}
        for (_, model), stats in audit.models.items():
            audit_by_model[model] = audit_by_model.get(model, 0) + stats.calls
        for model in sorted(set(audit_by_model) | set(prom.models)):
            logged = audit_by_model.get(model, 0)
            counted = prom.models[model].calls if model in prom.models else 0.0
            if abs(logged - counted) > tolerance * max(logged, counted):
                exceptions.append(
                    ExceptionItem(
                        f"model {model!r}: {logged:,} interactions in the audit log but {counted:,.0f} calls "
                        f"counted by Prometheus ({logged - counted:+,.0f})",
                        f"model {model}",
                        count=max(1, int(abs(logged - counted))),
                    )
                )
        figures["tolerance"] = fmt_pct(tolerance, 2)
    summary = (
        f"{audit.interactions:,} interactions captured"
        + (f"; Prometheus counted {prom.total_calls:,.0f} LLM calls" if prom is not None else "")
        + "."
    )
    return decide(
        exceptions, summary, figures=figures, evidence=evidence, tested=audit.interactions, notes=notes
    )


@check("PI1.5")
def stored_signed(ctx: Context) -> Outcome:
    audit = ctx.audit
    exceptions = integrity_exceptions(ctx)
    times = audit.checkpoint_times
    figures: dict[str, object] = {"checkpoints signed in the period": audit.checkpoints_in_period}
    if len(times) > 1:
        longest = max(b - a for a, b in itertools.pairwise(times)) / 1e9 / 3600
        figures["longest interval between checkpoints (hours)"] = round(longest, 2)
    if audit.checkpoints_in_period == 0:
        if not audit.integrity or all(i.covering is None for i in audit.integrity.values()):
            return not_evidenced(
                "no checkpoint was signed for the period: the records are stored but not signed",
                figures=figures,
                evidence=["audit.checkpoints"],
            )
        figures["note"] = "no checkpoint signed inside the period; a later one covers it"
    figures.update(_integrity_figures(ctx))
    summary = (
        f"{audit.checkpoints_in_period:,} signed checkpoints in the period; the period's records "
        f"{'verify' if not exceptions else 'do not all verify'} against the covering checkpoint."
    )
    return decide(
        exceptions, summary, figures=figures, evidence=["audit.checkpoints", "audit.verification"],
        tested=audit.checkpoints_in_period,
    )  # fmt: skip
