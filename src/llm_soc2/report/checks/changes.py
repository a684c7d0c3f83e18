"""Changes: CC3.4 (identified and assessed), CC7.1 (unapproved versions detected), CC8.1 (approved first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_APPROVAL, KIND_BASELINE, KIND_CHANGE, KIND_DRIFT, KIND_INCIDENT
from llm_soc2.report.checks import Context, Outcome, check, decide, not_evidenced
from llm_soc2.report.evidence import ExceptionItem, from_ns, iso
from llm_soc2.report.sources.audit import Event, events


@dataclass
class Change:
    kind: str  # prompt | model
    id: str
    service: str
    environment: str
    first_seen: Event
    registry_approved: bool | None
    approvals: list[Event] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


def changes_in_period(ctx: Context) -> tuple[list[Change], bool]:
    """Distinct versions first seen in the period, joined to their approvals; and whether a registry
    was in use (change records or interactions carry ``llm_soc2.change.approved``)."""
    first: dict[tuple[str, str, str, str], Event] = {}
    approvals: dict[tuple[str, str], list[Event]] = {}
    registry = ctx.audit.change_flagged > 0
    for event in events(ctx.audit, (KIND_CHANGE, KIND_APPROVAL), history=True):
        kind, identifier = event.attributes.get(sc.CHANGE_KIND), event.attributes.get(sc.CHANGE_ID)
        if not isinstance(kind, str) or not isinstance(identifier, str):
            continue
        if event.kind == KIND_APPROVAL:
            approvals.setdefault((kind, identifier), []).append(event)
            continue
        if sc.CHANGE_APPROVED in event.attributes:
            registry = True
        key = (kind, identifier, event.service, str(event.attributes.get(sc.DEPLOYMENT_ENVIRONMENT, "")))
        if key not in first or event.time_ns < first[key].time_ns:
            first[key] = event
    start, end = ctx.period.start_ns, ctx.period.end_ns
    out = []
    for (kind, identifier, service, environment), event in sorted(
        first.items(), key=lambda kv: kv[1].time_ns
    ):
        if not start <= event.time_ns < end:
            continue
        approved = event.attributes.get(sc.CHANGE_APPROVED)
        out.append(
            Change(
                kind, identifier, service, environment, event,
                approved if isinstance(approved, bool) else None,
                sorted(approvals.get((kind, identifier), []), key=lambda e: e.time_ns),
            )
        )  # fmt: skip
    return out, registry


@check("CC8.1")
def approved_before_use(ctx: Context) -> Outcome:
    changes, registry = changes_in_period(ctx)
    audit = ctx.audit
    figures: dict[str, Any] = {
        "new versions first used in the period": len(changes),
        "prompt templates": sum(1 for c in changes if c.kind == "prompt"),
        "models": sum(1 for c in changes if c.kind == "model"),
        "interactions flagged unapproved": audit.unapproved,
    }
    if not changes and not registry:
        return not_evidenced(
            "no change records and no interaction checked against a prompt/model registry: change management "
            "is not configured (create llm-soc2.prompts.yaml and approve versions with `llm-soc2 changes approve`)",
            figures=figures,
            evidence=["audit.changes"],
        )
    if not registry:
        return not_evidenced(
            f"{len(changes)} new versions were used but no registry was in use, so approvals cannot be matched",
            figures=figures,
            evidence=["audit.changes"],
        )
    exceptions: list[ExceptionItem] = []
    approved = late = 0
    for change in changes:
        seen = change.first_seen.time_ns
        before = [a for a in change.approvals if a.time_ns <= seen]
        when = iso(from_ns(seen))
        if before or (not change.approvals and change.registry_approved is True):
            approved += 1
        elif change.approvals:
            late += 1
            lag = (change.approvals[0].time_ns - seen) / 1e9 / 3600
            exceptions.append(
                ExceptionItem(
                    f"{change.label} first used {when} in {change.service or 'an unnamed service'}, approved "
                    f"{lag:.1f} h later ({change.approvals[0].attributes.get(sc.CHANGE_APPROVER, 'unknown approver')})",
                    f"log {change.first_seen.log_id} seq {change.first_seen.seq}",
                    from_ns(seen),
                )
            )
        else:
            exceptions.append(
                ExceptionItem(
                    f"{change.label} first used {when} in {change.service or 'an unnamed service'} without approval "
                    f"({audit.unapproved_versions.get(change.label, 0):,} unapproved interactions in the period)",
                    f"log {change.first_seen.log_id} seq {change.first_seen.seq}",
                    from_ns(seen),
                )
            )
    figures["approved before first use"] = approved
    figures["approved late"] = late
    figures["never approved"] = len(changes) - approved - late
    summary = (
        f"{len(changes)} new model or prompt versions in the period; {approved} approved before first use."
    )
    return decide(exceptions, summary, figures=figures, evidence=["audit.changes"], tested=len(changes))


@check("CC7.1")
def unapproved_detected(ctx: Context) -> Outcome:
    audit = ctx.audit
    figures: dict[str, Any] = {
        "interactions checked against the registry": audit.change_flagged,
        "interactions flagged unapproved": audit.unapproved,
    }
    evidence = ["audit.interactions", "audit.templates"]
    notes: list[str] = []
    grafana = ctx.grafana
    if grafana is not None:
        evidence.append("grafana.dashboards")
        start, end = iso(ctx.period.start), iso(ctx.period.end)
        changed = 0
        for dashboard in grafana.dashboards:
            for version in dashboard.get("versions", []):
                created = str(version.get("created", ""))
                if start <= created.replace("+00:00", "Z") < end:
                    changed += 1
        figures["dashboard versions saved in the period"] = changed
        figures["dashboards"] = len(grafana.dashboards)
    else:
        notes.append("Grafana was not queried: changes to dashboards are not listed.")
    if audit.change_flagged == 0:
        return not_evidenced(
            "no interaction was checked against a prompt/model registry (llm_soc2.change.approved is never set): "
            "unapproved versions cannot be detected",
            figures=figures,
            evidence=evidence,
            notes=notes,
        )
    exceptions = [
        ExceptionItem(
            f"{label} was used {count:,} times without approval (first {iso(from_ns(audit.unapproved_first_ns[label]))})",
            label,
            from_ns(audit.unapproved_first_ns[label]),
            count=count,
        )
        for label, count in audit.unapproved_versions.most_common()
    ]
    summary = (
        f"{audit.change_flagged:,} interactions checked against the registry; "
        f"{audit.unapproved:,} used an unapproved model or prompt template."
    )
    return decide(
        exceptions, summary, figures=figures, evidence=evidence, tested=audit.change_flagged,
        exceptions_total=audit.unapproved, notes=notes,
    )  # fmt: skip


@check("CC3.4")
def changes_assessed(ctx: Context) -> Outcome:
    audit = ctx.audit
    changes, _ = changes_in_period(ctx)
    drift = events(audit, (KIND_DRIFT,))
    detections = [e for e in drift if e.attributes.get(sc.DRIFT_STATE) == "detected"]
    follow_ups = events(audit, (KIND_BASELINE, KIND_CHANGE, KIND_APPROVAL, KIND_INCIDENT))
    figures: dict[str, Any] = {
        "drift detections": len(detections),
        "drift resolutions": sum(1 for e in drift if e.attributes.get(sc.DRIFT_STATE) == "resolved"),
        "baselines saved or reset": len(events(audit, (KIND_BASELINE,))),
        "new models first used": sum(1 for c in changes if c.kind == "model"),
        "new prompt templates first used": sum(1 for c in changes if c.kind == "prompt"),
    }
    if not detections and not changes:
        return not_evidenced(
            "no significant change was identified in the period (no drift detection and no new model or prompt "
            "template recorded): the control did not operate",
            figures=figures,
            evidence=["audit.drift-events", "audit.changes"],
        )
    exceptions = []
    for detection in detections:
        later = [f for f in follow_ups if f.time_ns > detection.time_ns]
        if not later:
            a = detection.attributes
            exceptions.append(
                ExceptionItem(
                    f"drift in {a.get(sc.ATTR_DRIFT_FEATURE, '?')} of {a.get(sc.GEN_AI_REQUEST_MODEL, '?')} "
                    f"({a.get(sc.ATTR_DRIFT_TEST, '?')} {a.get(sc.DRIFT_SCORE, '?')}) was not followed by a "
                    "baseline, change, approval or incident record",
                    f"log {detection.log_id} seq {detection.seq}",
                    from_ns(detection.time_ns),
                )
            )
    summary = (
        f"{len(detections)} drift detections and {len(changes)} new versions identified; "
        f"{len(detections) - len(exceptions)} detections followed by an assessment record."
    )
    return decide(
        exceptions, summary, figures=figures, evidence=["audit.drift-events", "audit.changes"],
        tested=len(detections) + len(changes),
    )  # fmt: skip
