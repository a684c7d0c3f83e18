"""Incidents: CC7.3 (events evaluated), CC7.4 (triaged and resolved), CC7.5 (recovery recorded).

An incident is the fold of its ``incident`` records (opened, acknowledged, resolved, updated), as
``llm_soc2.governance.incidents`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_INCIDENT
from llm_soc2.report.checks import Context, Outcome, check, decide, not_evidenced
from llm_soc2.report.evidence import NS_PER_S, ExceptionItem, from_ns, iso
from llm_soc2.report.sources.audit import Event, events, flatten


@dataclass
class Incident:
    id: str
    opened_ns: int
    title: str = ""
    severity: str = ""
    source: str = ""
    acknowledged_ns: int | None = None
    resolved_ns: int | None = None
    resolution_note: str = ""
    alert_names: set[str] = field(default_factory=set)
    records: list[Event] = field(default_factory=list)


def _ns(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def incidents(ctx: Context) -> list[Incident]:
    """Every incident with a record up to the period's end, folded from its records."""
    folded: dict[str, Incident] = {}
    for event in events(ctx.audit, (KIND_INCIDENT,), history=True):
        a = event.attributes
        ident = str(a.get(sc.INCIDENT_ID) or "")
        if not ident:
            continue
        at = _ns(a.get(sc.INCIDENT_AT), event.time_ns)
        incident = folded.get(ident)
        if incident is None:
            incident = folded[ident] = Incident(ident, _ns(a.get(sc.INCIDENT_OPENED_AT), at))
        incident.records.append(event)
        incident.title = str(a.get(sc.INCIDENT_TITLE) or incident.title)
        incident.severity = str(a.get(sc.INCIDENT_SEVERITY) or incident.severity)
        incident.source = str(a.get(sc.INCIDENT_SOURCE) or incident.source)
        incident.alert_names.update(flatten([a.get(sc.INCIDENT_ALERT_NAMES)]))
        kind = a.get(sc.INCIDENT_EVENT)
        if kind == "acknowledged" and incident.acknowledged_ns is None:
            incident.acknowledged_ns = at
        elif kind == "resolved":
            incident.resolved_ns = at
            incident.resolution_note = str(a.get(sc.INCIDENT_NOTE) or "")
    return sorted(folded.values(), key=lambda i: i.opened_ns)


def _in_period(ctx: Context, ns: int | None) -> bool:
    return ns is not None and ctx.period.start_ns <= ns < ctx.period.end_ns


def _hours(ns: int) -> float:
    return ns / NS_PER_S / 3600


@check("CC7.3")
def events_evaluated(ctx: Context) -> Outcome:
    all_incidents = incidents(ctx)
    audit = ctx.audit
    prom = ctx.prometheus
    window = int(ctx.objectives.alert_to_incident_hours * 3600 * NS_PER_S)
    critical = [
        e
        for e in (prom.episodes if prom else [])
        if e.state == "firing" and e.labels.get("severity") == "critical"
    ]
    figures: dict[str, Any] = {
        "high or critical risk events": audit.risk_events,
        "critical alert episodes (Prometheus)": len(critical) if prom else "not queried",
        "incidents opened in the period": sum(1 for i in all_incidents if _in_period(ctx, i.opened_ns)),
    }
    evidence = ["audit.risk-events", "audit.incidents"] + (["prometheus.alerts"] if prom else [])
    if not all_incidents:
        return not_evidenced(
            "the audit log holds no incident record: incident tracking (llm-soc2 serve / llm-soc2 incident) is "
            f"not in use, so the {audit.risk_events:,} high or critical risk events"
            + (f" and {len(critical)} critical alert episodes" if prom else "")
            + " cannot be shown to have been evaluated",
            figures=figures,
            evidence=evidence,
        )
    exceptions: list[ExceptionItem] = []
    for episode in critical:
        started = int(episode.start * NS_PER_S)
        matched = [
            i for i in all_incidents
            if (episode.alertname in i.alert_names or not i.alert_names)
            and started - 3600 * NS_PER_S <= i.opened_ns <= started + window
        ]  # fmt: skip
        if not matched:
            exceptions.append(
                ExceptionItem(
                    f"critical alert {episode.alertname} fired {iso(from_ns(started))} and no incident was opened "
                    f"within {ctx.objectives.alert_to_incident_hours:g} h",
                    f"alert {episode.alertname}",
                    from_ns(started),
                )
            )
    critical_risk = audit.risk_levels.get("critical", 0)
    opened_in_period = figures["incidents opened in the period"]
    if critical_risk and not opened_in_period:
        exceptions.append(
            ExceptionItem(
                f"{critical_risk:,} critical risk events occurred and no incident was opened in the period",
                "risk events",
                count=critical_risk,
            )
        )
    tested = len(critical) + audit.risk_events
    summary = (
        f"{len(critical)} critical alert episodes and {audit.risk_events:,} high or critical risk events; "
        f"{opened_in_period} incidents opened."
    )
    return decide(exceptions, summary, figures=figures, evidence=evidence, tested=tested)


@check("CC7.4")
def incidents_handled(ctx: Context) -> Outcome:
    objectives = ctx.objectives
    opened = [i for i in incidents(ctx) if _in_period(ctx, i.opened_ns)]
    if not opened:
        return not_evidenced(
            "no incident was opened in the period (no incident records): the response process did not operate",
            evidence=["audit.incidents"],
        )
    ack_limit = int(objectives.incident_ack_hours * 3600 * NS_PER_S)
    resolve_limit = int(objectives.incident_resolve_days * 86400 * NS_PER_S)
    end = ctx.period.end_ns
    exceptions: list[ExceptionItem] = []
    ack_times: list[float] = []
    resolve_times: list[float] = []
    for incident in opened:
        name = f"incident {incident.id} ({incident.title or incident.severity or 'untitled'})"
        when = from_ns(incident.opened_ns)
        acknowledged = incident.acknowledged_ns
        if acknowledged is not None:
            ack_times.append(_hours(acknowledged - incident.opened_ns))
        first_response = acknowledged if acknowledged is not None else incident.resolved_ns
        if first_response is None:
            if end - incident.opened_ns > ack_limit:
                exceptions.append(
                    ExceptionItem(f"{name} opened {iso(when)} was never acknowledged", name, when)
                )
        elif first_response - incident.opened_ns > ack_limit:
            exceptions.append(
                ExceptionItem(
                    f"{name} opened {iso(when)} was acknowledged after "
                    f"{_hours(first_response - incident.opened_ns):.1f} h (limit {objectives.incident_ack_hours:g} h)",
                    name,
                    when,
                )
            )
        if incident.resolved_ns is not None:
            resolve_times.append(_hours(incident.resolved_ns - incident.opened_ns))
            if incident.resolved_ns - incident.opened_ns > resolve_limit:
                exceptions.append(
                    ExceptionItem(
                        f"{name} took {_hours(incident.resolved_ns - incident.opened_ns) / 24:.1f} days to resolve "
                        f"(limit {objectives.incident_resolve_days:g})",
                        name,
                        when,
                    )
                )
        elif end - incident.opened_ns > resolve_limit:
            exceptions.append(
                ExceptionItem(
                    f"{name} opened {iso(when)} is still unresolved after "
                    f"{(end - incident.opened_ns) / NS_PER_S / 86400:.0f} days",
                    name,
                    when,
                )
            )
    figures: dict[str, Any] = {
        "incidents opened": len(opened),
        "acknowledged": sum(1 for i in opened if i.acknowledged_ns is not None),
        "resolved": sum(1 for i in opened if i.resolved_ns is not None),
        "median time to acknowledge (h)": _median(ack_times),
        "median time to resolve (h)": _median(resolve_times),
    }
    summary = f"{len(opened)} incidents opened; {figures['resolved']} resolved in the period."
    return decide(exceptions, summary, figures=figures, evidence=["audit.incidents"], tested=len(opened))


@check("CC7.5")
def recovery_recorded(ctx: Context) -> Outcome:
    resolved = [i for i in incidents(ctx) if _in_period(ctx, i.resolved_ns)]
    if not resolved:
        return not_evidenced(
            "no incident was resolved in the period (no incident records): recovery did not need to operate",
            evidence=["audit.incidents"],
        )
    exceptions = [
        ExceptionItem(
            f"incident {i.id} ({i.title or 'untitled'}) was resolved {iso(from_ns(i.resolved_ns or 0))} without "
            "a note saying how service was restored",
            f"incident {i.id}",
            from_ns(i.resolved_ns or 0),
        )
        for i in resolved
        if not i.resolution_note.strip()
    ]
    times = [_hours((i.resolved_ns or 0) - i.opened_ns) for i in resolved]
    figures: dict[str, Any] = {
        "incidents resolved": len(resolved),
        "median time to recover (h)": _median(times),
        "longest time to recover (h)": round(max(times), 2),
    }
    summary = f"{len(resolved)} incidents resolved; median time to recover {figures['median time to recover (h)']} h."
    return decide(exceptions, summary, figures=figures, evidence=["audit.incidents"], tested=len(resolved))


def _median(values: list[float]) -> float | str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value, 2)
