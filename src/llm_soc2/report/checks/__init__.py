"""Checks evaluate the evidence the sources collected; they never call a backend.

Each check implements the rule of one control (``criteria.CONTROLS``) and returns an :class:`Outcome`.
:func:`evaluate` applies the rules in catalogue order. Before a check runs, its sources are checked:
a required source that was not configured, or any source that was requested and failed, makes the
criterion ``not evidenced`` with the reason (the failure's own message), never a thinner result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from llm_soc2.report import criteria as cat
from llm_soc2.report.evidence import (
    EFFECTIVE,
    EXCEPTIONS,
    MAX_LISTED_EXCEPTIONS,
    NOT_EVIDENCED,
    CriterionResult,
    ExceptionItem,
    Period,
    SourceStatus,
    Status,
)
from llm_soc2.report.sources.audit import AuditFacts
from llm_soc2.report.sources.grafana import GrafanaData
from llm_soc2.report.sources.prometheus import PrometheusData

CHECK_MODULES: Final = ("integrity", "changes", "monitoring", "access", "incidents", "data", "operations")
SOURCE_NAMES: Final = {"audit": "the audit log", "prometheus": "Prometheus", "grafana": "Grafana"}
SOURCE_FLAGS: Final = {"prometheus": "--prometheus-url", "grafana": "--grafana-url"}


@dataclass(frozen=True)
class Objectives:
    """The thresholds the rules use (defaults; every one is printed in the report)."""

    availability: float = 0.995  # per model, over the period
    latency_p95: float = 10.0  # seconds
    max_gap_seconds: float = 3600.0  # telemetry gap that is an exception
    key_max_age_days: int = 90
    retention_days: int = 365
    inactive_user_days: int = 90
    incident_ack_hours: float = 24.0
    incident_resolve_days: float = 30.0
    alert_to_incident_hours: float = 24.0
    reconcile_tolerance: float = 0.0  # relative difference allowed between audit log and Prometheus counts


@dataclass
class Context:
    period: Period
    report_type: int
    objectives: Objectives
    audit: AuditFacts
    prometheus: PrometheusData | None
    grafana: GrafanaData | None
    sources: dict[str, SourceStatus]


@dataclass
class Outcome:
    status: Status
    summary: str
    reason: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    exceptions: list[ExceptionItem] = field(default_factory=list)
    exceptions_total: int | None = None  # default: sum of the listed exceptions' counts
    tested: int = 0
    notes: list[str] = field(default_factory=list)


Check = Callable[[Context], Outcome]
_CHECKS: dict[str, Check] = {}


def check(criterion: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        _CHECKS[criterion] = fn
        return fn

    return register


def decide(exceptions: list[ExceptionItem], summary: str, **kwargs: Any) -> Outcome:
    """``effective`` without exceptions, ``exceptions`` with."""
    return Outcome(EXCEPTIONS if exceptions else EFFECTIVE, summary, exceptions=exceptions, **kwargs)


def not_evidenced(reason: str, summary: str = "", **kwargs: Any) -> Outcome:
    return Outcome(NOT_EVIDENCED, summary or reason, reason=reason, **kwargs)


def blocked(control: cat.Control, sources: dict[str, SourceStatus]) -> str:
    """Why a control cannot be evaluated with the sources at hand ('' when it can)."""
    reasons: list[str] = []
    for name in control.required:
        status = sources.get(name)
        if status is None or not status.requested:
            flag = SOURCE_FLAGS.get(name, "")
            reasons.append(f"{SOURCE_NAMES[name]} was not queried{f' (no {flag} given)' if flag else ''}")
        elif not status.ok:
            reasons.append(f"{SOURCE_NAMES[name]} failed: {status.error}")
    for name in control.optional:
        status = sources.get(name)
        if status is not None and status.failed:
            reasons.append(f"{SOURCE_NAMES[name]} failed: {status.error}")
    return "; ".join(reasons)


def evaluate(ctx: Context) -> list[CriterionResult]:
    for module in CHECK_MODULES:  # importing a module registers its checks
        importlib.import_module(f"{__name__}.{module}")
    results: list[CriterionResult] = []
    for criterion in cat.CRITERIA:
        control = cat.control_for(criterion.id)
        why = blocked(control, ctx.sources)
        outcome = not_evidenced(why) if why else _CHECKS[criterion.id](ctx)
        listed = outcome.exceptions[:MAX_LISTED_EXCEPTIONS]
        total = (
            outcome.exceptions_total
            if outcome.exceptions_total is not None
            else sum(item.count for item in outcome.exceptions)
        )
        if outcome.status == EXCEPTIONS and total == 0:
            total = len(outcome.exceptions)
        results.append(
            CriterionResult(
                criterion=criterion,
                control=control,
                status=outcome.status,
                summary=outcome.summary,
                reason=outcome.reason,
                figures=outcome.figures,
                evidence=outcome.evidence,
                exceptions=listed,
                exceptions_total=total,
                exception_items=len(outcome.exceptions),
                tested=outcome.tested,
                sample=control.population,
                notes=outcome.notes,
            )
        )
    return results


def pct(part: float, whole: float) -> float | None:
    return None if whole <= 0 else part / whole


def fmt_pct(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f} %"
