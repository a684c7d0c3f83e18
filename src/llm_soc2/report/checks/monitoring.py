"""Monitoring: CC4.1 (continuous evaluation), CC7.2 (anomalies alerted)."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from llm_soc2.audit.record import KIND_DRIFT
from llm_soc2.report.checks import Context, Outcome, check, decide, not_evidenced
from llm_soc2.report.evidence import ExceptionItem, from_ns, iso
from llm_soc2.report.sources.prometheus import Gap

# What an alert rule must watch, and how a rule is recognised as watching it (title, labels, queries).
REQUIRED_WATCHES: Final = {
    "LLM error rate": re.compile(r"error", re.IGNORECASE),
    "risk (injection, leakage, harmful content)": re.compile(r"risk|injection|leak", re.IGNORECASE),
    "drift": re.compile(r"drift", re.IGNORECASE),
}


def _gap_items(gaps: list[Gap], limit: float, what: str) -> list[ExceptionItem]:
    out = []
    for gap in gaps:
        length = gap.end - gap.start
        if length > limit:
            start = from_ns(int(gap.start * 1e9))
            out.append(
                ExceptionItem(
                    f"no {what} sample for {length / 3600:.2f} h, from {iso(start)} to "
                    f"{iso(from_ns(int(gap.end * 1e9)))}",
                    "telemetry gap",
                    start,
                )
            )
    return out


@check("CC4.1")
def evaluated_continuously(ctx: Context) -> Outcome:
    prom = ctx.prometheus
    assert prom is not None  # required source
    limit = ctx.objectives.max_gap_seconds
    figures: dict[str, Any] = {
        "gap resolution (minutes)": prom.gap_resolution // 60,
        "longest allowed gap (hours)": limit / 3600,
        "telemetry gaps of the LLM call metrics": len(prom.gaps),
        "gaps of the drift monitor's gauges": len(prom.drift_gaps),
        "drift events recorded in the audit log": len(ctx.audit.events.get(KIND_DRIFT, [])),
    }
    if not prom.drift_present:
        return not_evidenced(
            "Prometheus holds no drift-monitor gauge (llm_soc2_drift_score) for the period: the drift monitor "
            "did not report (LLM_SOC2_DRIFT=false, or its metrics are not scraped)",
            figures=figures,
            evidence=["prometheus.gaps"],
        )
    exceptions = _gap_items(prom.gaps, limit, "LLM call metric") + _gap_items(
        prom.drift_gaps, limit, "drift-monitor gauge"
    )
    summary = (
        f"The drift monitor and the LLM call metrics reported through the period with {len(exceptions)} "
        f"gap(s) longer than {limit / 3600:g} h."
    )
    steps = int(ctx.period.seconds // prom.gap_resolution)
    return decide(exceptions, summary, figures=figures, evidence=["prometheus.gaps", "audit.drift-events"],
                  tested=steps)  # fmt: skip


def _rule_text(rule: dict[str, Any]) -> str:
    return " ".join(
        (str(rule.get("title", "")), json.dumps(rule.get("labels", {})), json.dumps(rule.get("data", [])))
    )


@check("CC7.2")
def anomalies_alerted(ctx: Context) -> Outcome:
    grafana = ctx.grafana
    assert grafana is not None  # required source
    audit = ctx.audit
    for endpoint in ("alert_rules", "contact_points", "policies"):
        if endpoint in grafana.errors:
            return not_evidenced(
                f"Grafana's alerting configuration could not be read: {grafana.errors[endpoint]}",
                evidence=["grafana.alert-rules"],
            )
    rules = grafana.alert_rules
    receivers = {str(p.get("name", "")) for p in grafana.contact_points}
    default_receiver = str(grafana.policies.get("receiver", "")) if grafana.policies else ""
    figures: dict[str, Any] = {
        "alert rules": len(rules),
        "paused rules": sum(1 for r in rules if r.get("isPaused")),
        "contact points": len(receivers),
        "default route": default_receiver or "(none)",
        "alert state changes in the period (Grafana)": len(grafana.state_history),
        "high or critical risk events (audit log)": audit.risk_events,
    }
    exceptions: list[ExceptionItem] = []
    for watch, pattern in REQUIRED_WATCHES.items():
        if not any(pattern.search(_rule_text(r)) for r in rules):
            exceptions.append(ExceptionItem(f"no alert rule watches the {watch}", watch))
    for rule in rules:
        name = f"rule {rule.get('uid', '?')} ({rule.get('title', '')})"
        if rule.get("isPaused"):
            exceptions.append(ExceptionItem(f"{name} is paused", name))
        receiver = str((rule.get("notification_settings") or {}).get("receiver", "")) or default_receiver
        if not receiver:
            exceptions.append(ExceptionItem(f"{name} routes to no contact point", name))
        elif receiver not in receivers:
            exceptions.append(
                ExceptionItem(f"{name} routes to {receiver!r}, which is not a contact point", name)
            )
    summary = (
        f"{len(rules)} alert rules route to {len(receivers)} contact point(s); "
        f"{audit.risk_events:,} high or critical risk events were raised in the period."
    )
    return decide(
        exceptions, summary, figures=figures,
        evidence=["grafana.alert-rules", "grafana.contact-points", "grafana.policies", "grafana.state-history",
                  "audit.risk-events"],
        tested=len(rules),
    )  # fmt: skip
